// String forms of Errc and Alg.

#include "authd/jose/alg.h"
#include "authd/jose/errc.h"

namespace authd::jose {

std::string_view to_string(Errc e) noexcept {
  switch (e) {
    case Errc::Malformed:
      return "malformed";
    case Errc::TokenTooLarge:
      return "token_too_large";
    case Errc::HeaderTooLarge:
      return "header_too_large";
    case Errc::BadBase64:
      return "bad_base64";
    case Errc::BadHeaderJson:
      return "bad_header_json";
    case Errc::BadClaimsJson:
      return "bad_claims_json";
    case Errc::DuplicateMember:
      return "duplicate_member";
    case Errc::JsonTooDeep:
      return "json_too_deep";
    case Errc::AlgNone:
      return "alg_none";
    case Errc::AlgNotAllowed:
      return "alg_not_allowed";
    case Errc::AlgKeyMismatch:
      return "alg_key_mismatch";
    case Errc::CritUnsupported:
      return "crit_unsupported";
    case Errc::B64False:
      return "b64_false";
    case Errc::TypMismatch:
      return "typ_mismatch";
    case Errc::KidInvalid:
      return "kid_invalid";
    case Errc::KidTooLong:
      return "kid_too_long";
    case Errc::UnknownKid:
      return "unknown_kid";
    case Errc::BadSignatureLength:
      return "bad_signature_length";
    case Errc::EcdsaRangeInvalid:
      return "ecdsa_range_invalid";
    case Errc::SignatureInvalid:
      return "signature_invalid";
    case Errc::InvalidClaim:
      return "invalid_claim";
    case Errc::MissingClaim:
      return "missing_claim";
    case Errc::Expired:
      return "expired";
    case Errc::NotYetValid:
      return "not_yet_valid";
    case Errc::IssuedInFuture:
      return "issued_in_future";
    case Errc::IssuerMismatch:
      return "issuer_mismatch";
    case Errc::AudienceMismatch:
      return "audience_mismatch";
    case Errc::BadJwk:
      return "bad_jwk";
    case Errc::BadPem:
      return "bad_pem";
    case Errc::UnsupportedKey:
      return "unsupported_key";
    case Errc::WeakKey:
      return "weak_key";
    case Errc::DuplicateKid:
      return "duplicate_kid";
    case Errc::JwksTooLarge:
      return "jwks_too_large";
    case Errc::NoPrivateKey:
      return "no_private_key";
    case Errc::KeyGenFailed:
      return "key_gen_failed";
    case Errc::BadClaims:
      return "bad_claims";
    case Errc::SignFailed:
      return "sign_failed";
    case Errc::Internal:
      return "internal";
  }
  return "unknown";
}

std::string_view to_string(Alg alg) noexcept {
  switch (alg) {
    case Alg::RS256:
      return "RS256";
    case Alg::ES256:
      return "ES256";
    case Alg::EdDSA:
      return "EdDSA";
  }
  return "unknown";
}

std::optional<Alg> alg_from_string(std::string_view name) noexcept {
  if (name == "RS256") return Alg::RS256;
  if (name == "ES256") return Alg::ES256;
  if (name == "EdDSA") return Alg::EdDSA;
  return std::nullopt;
}

}  // namespace authd::jose
