// JWS compact signing and the strict verifier.

#include "authd/jose/jws.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "authd/core/base64url.h"
#include "authd/core/json_writer.h"
#include "jose/ecdsa_der.h"
#include "jose/fast_verify.h"
#include "jose/flat_json.h"
#include "jose/key_native.h"
#include "jose/openssl_util.h"
#include "jose/strict_json.h"

namespace authd::jose {
namespace {

using json = nlohmann::json;
using detail::EcdsaSigPtr;
using detail::ErrorQueueGuard;
using detail::EvpMdCtxPtr;
using detail::kMaxEcdsaDer;
using detail::kP256ScalarBytes;

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// DER ECDSA-Sig-Value (what OpenSSL produces) -> raw R||S (what JWS puts on the wire).
Result<std::string, Errc> ecdsa_der_to_raw(const unsigned char* der, std::size_t len) {
  const unsigned char* p = der;
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));
  if (!sig) return unexpected(Errc::SignFailed);
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * kP256ScalarBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kP256ScalarBytes) != static_cast<int>(kP256ScalarBytes) ||
      BN_bn2binpad(s, out + kP256ScalarBytes, kP256ScalarBytes) !=
          static_cast<int>(kP256ScalarBytes)) {
    return unexpected(Errc::SignFailed);
  }
  return raw;
}

// DigestInfo ::= SEQUENCE { AlgorithmIdentifier { id-sha256, NULL }, OCTET STRING (32) },
// the prefix of a PKCS#1 v1.5 SHA-256 signature's payload (RFC 8017 §9.2, note 1).
constexpr unsigned char kSha256DigestInfo[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                               0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                               0x01, 0x05, 0x00, 0x04, 0x20};

// SHA-256 with the algorithm fetched once and a context kept per thread: EVP_Digest() would
// fetch and allocate on every call.
bool sha256(std::string_view data, unsigned char* out, unsigned int& out_len) {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);  // kept for the process
  thread_local const EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  return md != nullptr && ctx && EVP_DigestInit_ex2(ctx.get(), md, nullptr) == 1 &&
         EVP_DigestUpdate(ctx.get(), data.data(), data.size()) == 1 &&
         EVP_DigestFinal_ex(ctx.get(), out, &out_len) == 1;
}

// This thread's copy of the key's EVP_PKEY_verify context (an EVP_PKEY_CTX must not be used
// by two threads at once). A few keys per thread are kept; a copy holds its own reference to
// the key, so it stays valid after the Key is gone, and KeyNative::id never names another.
EVP_PKEY_CTX* thread_verify_ctx(const detail::KeyNative& native) {
  struct Slot {
    std::uint64_t id = 0;
    detail::EvpPkeyCtxPtr ctx;
  };
  thread_local std::array<Slot, 4> slots;
  thread_local std::size_t next = 0;
  for (auto& s : slots)
    if (s.id == native.id) return s.ctx.get();
  Slot& s = slots[next];
  next = (next + 1) % slots.size();
  s.id = 0;
  s.ctx.reset(EVP_PKEY_CTX_dup(native.verify_digest_template.get()));
  if (!s.ctx) return nullptr;
  s.id = native.id;
  return s.ctx.get();
}

// ASCII only, on purpose: std::tolower follows the process locale.
std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// RFC 7515 §4.1.9: "application/" may be omitted when no other '/' appears; compare
// case-insensitively (RFC 2045 media types).
std::string normalize_typ(std::string_view typ) {
  std::string t = ascii_lower(typ);
  constexpr std::string_view kPrefix = "application/";
  if (t.starts_with(kPrefix) && t.find('/', kPrefix.size()) == std::string::npos) {
    t.erase(0, kPrefix.size());
  }
  return t;
}

using detail::boolean_of;
using detail::each_element;
using detail::is_array;
using detail::is_boolean;
using detail::is_number;
using detail::is_string;
using detail::number_of;
using detail::string_of;

// The checks below are templates over the document type: nlohmann::json (the strict parser's
// DOM) or FlatObject (the hot path's scan, see flat_json.h), written once so that both paths
// reach the same verdicts in the same order.

// Checks the protected header's policy members and returns the algorithm it names.
template <class Doc>
Result<Alg, Errc> check_header(const Doc& header, const VerifyOptions& opts) {
  using detail::member;
  const auto* alg_v = member(header, "alg");
  if (alg_v == nullptr || !is_string(*alg_v)) return unexpected(Errc::AlgNotAllowed);
  const std::string_view alg_name = string_of(*alg_v);
  const auto alg = alg_from_string(alg_name);
  if (!alg) {
    return unexpected(ascii_lower(alg_name) == "none" ? Errc::AlgNone : Errc::AlgNotAllowed);
  }
  // We implement no extension, so any "crit" names one we do not understand (RFC 7515
  // §4.1.11 requires rejection); this also covers {"b64":false,"crit":["b64"]}.
  if (member(header, "crit") != nullptr) return unexpected(Errc::CritUnsupported);
  if (const auto* b64 = member(header, "b64"); b64 != nullptr) {
    if (!is_boolean(*b64)) return unexpected(Errc::BadHeaderJson);
    if (!boolean_of(*b64)) return unexpected(Errc::B64False);
  }
  if (opts.typ) {
    const auto* typ = member(header, "typ");
    if (typ == nullptr || !is_string(*typ) ||
        normalize_typ(string_of(*typ)) != normalize_typ(*opts.typ)) {
      return unexpected(Errc::TypMismatch);
    }
  }
  return *alg;
}

// The header's kid: "" when absent; otherwise a bounded, non-empty string.
template <class Doc>
Result<std::string_view, Errc> header_kid(const Doc& header) {
  const auto* kid = detail::member(header, "kid");
  if (kid == nullptr) return std::string_view();
  if (!is_string(*kid) || string_of(*kid).empty()) return unexpected(Errc::KidInvalid);
  if (string_of(*kid).size() > kMaxKidLength) return unexpected(Errc::KidTooLong);
  return string_of(*kid);
}

// A NumericDate claim (RFC 7519 §2): absent -> nullopt, present but not a number ->
// InvalidClaim. Integers and fractions are both allowed.
template <class Doc>
Result<std::optional<double>, Errc> numeric_date(const Doc& claims, const char* name) {
  const auto* v = detail::member(claims, name);
  if (v == nullptr) return std::optional<double>();
  if (!is_number(*v)) return unexpected(Errc::InvalidClaim);
  return std::optional<double>(number_of(*v));
}

template <class Doc>
Result<void, Errc> check_claims(const Doc& claims, std::int64_t now_s, const VerifyOptions& opts) {
  using detail::member;
  // Doubles hold every plausible Unix time exactly and make mixed int/float dates simple.
  const double now = static_cast<double>(now_s);
  const double leeway = static_cast<double>(std::max<std::int64_t>(opts.leeway_s, 0));

  auto exp = numeric_date(claims, "exp");
  if (!exp) return unexpected(exp.error());
  auto nbf = numeric_date(claims, "nbf");
  if (!nbf) return unexpected(nbf.error());
  auto iat = numeric_date(claims, "iat");
  if (!iat) return unexpected(iat.error());
  if (!exp->has_value() && opts.require_exp) return unexpected(Errc::MissingClaim);
  if (exp->has_value() && now >= **exp + leeway) return unexpected(Errc::Expired);
  if (nbf->has_value() && now + leeway < **nbf) return unexpected(Errc::NotYetValid);
  if (iat->has_value() && now + leeway < **iat) return unexpected(Errc::IssuedInFuture);

  if (opts.issuer) {
    const auto* iss = member(claims, "iss");
    if (iss == nullptr) return unexpected(Errc::MissingClaim);
    if (!is_string(*iss)) return unexpected(Errc::InvalidClaim);
    if (string_of(*iss) != *opts.issuer) return unexpected(Errc::IssuerMismatch);
  }
  if (opts.audience) {
    const auto* aud = member(claims, "aud");
    if (aud == nullptr) return unexpected(Errc::MissingClaim);
    bool found = false;
    if (is_string(*aud)) {
      found = string_of(*aud) == *opts.audience;
    } else if (is_array(*aud)) {
      const bool all_strings = each_element(claims, *aud, [&](const auto& a) {
        if (!is_string(a)) return false;
        found = found || string_of(a) == *opts.audience;
        return true;
      });
      if (!all_strings) return unexpected(Errc::InvalidClaim);
    } else {
      return unexpected(Errc::InvalidClaim);
    }
    if (!found) return unexpected(Errc::AudienceMismatch);
  }
  return {};
}

// base64url(header) '.' base64url(payload) '.' base64url(signature).
Result<std::string, Errc> assemble(const Key& key, std::string_view header_text,
                                   std::string_view payload) {
  std::string token = base64url::encode(header_text);
  token += '.';
  token += base64url::encode(payload);
  auto sig = sign_bytes(key, token);
  if (!sig) return unexpected(sig.error());
  token += '.';
  token += base64url::encode(*sig);
  return token;
}

Result<VerifiedJws, Errc> verify_jws_impl(std::string_view token, const KeyLookup& keys,
                                          const VerifyOptions& opts) {
  if (token.size() > opts.max_token_bytes) return unexpected(Errc::TokenTooLarge);
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return unexpected(Errc::Malformed);
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view sig_b64 = token.substr(dot2 + 1);
  if (header_b64.empty() || payload_b64.empty()) return unexpected(Errc::Malformed);
  if (header_b64.size() > kMaxHeaderSegment) return unexpected(Errc::HeaderTooLarge);

  auto header_text = base64url::decode(header_b64);
  auto payload = base64url::decode(payload_b64);
  auto signature = base64url::decode(sig_b64);
  if (!header_text || !payload || !signature) return unexpected(Errc::BadBase64);

  auto header = detail::parse_strict_json(*header_text, Errc::BadHeaderJson);
  if (!header) return unexpected(header.error());
  if (!header->is_object()) return unexpected(Errc::BadHeaderJson);
  auto alg = check_header(*header, opts);
  if (!alg) return unexpected(alg.error());
  auto kid = header_kid(*header);
  if (!kid) return unexpected(kid.error());

  KeyPtr key = keys ? keys(*kid) : nullptr;
  if (!key) return unexpected(Errc::UnknownKid);
  // The key decides the algorithm; the header may only agree with it.
  if (key->alg() != *alg) return unexpected(Errc::AlgKeyMismatch);

  const std::string_view signing_input = token.substr(0, dot2);
  if (auto ok = verify_bytes(*key, signing_input, *signature); !ok) {
    return unexpected(ok.error());
  }
  return VerifiedJws{std::move(*header), std::move(*payload), std::move(key)};
}

std::optional<Result<void, Errc>> fast_verify_impl(std::string_view token, const KeyLookup& keys,
                                                   std::int64_t now, const VerifyOptions& opts,
                                                   detail::FastVerified& out) {
  // Anything verify_jws_impl() would refuse before its policy checks is left to it.
  if (token.size() > opts.max_token_bytes) return std::nullopt;
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  if (header_b64.empty() || payload_b64.empty() || header_b64.size() > kMaxHeaderSegment) {
    return std::nullopt;
  }
  const std::string_view sig_b64 = token.substr(dot2 + 1);
  if (base64url::decoded_size(sig_b64.size()) > detail::FastVerified::kMaxSignature) {
    return std::nullopt;
  }
  unsigned char* payload_out = out.payload_bytes;
  if (const std::size_t n = base64url::decoded_size(payload_b64.size());
      n > detail::FastVerified::kInlinePayload) {
    out.payload_heap.resize(n);
    payload_out = reinterpret_cast<unsigned char*>(out.payload_heap.data());
  }
  const auto header_len = base64url::decode_into(header_b64, out.header_bytes);
  const auto sig_len = base64url::decode_into(sig_b64, out.signature_bytes);
  const auto payload_len = base64url::decode_into(payload_b64, payload_out);
  if (!header_len || !sig_len || !payload_len) return std::nullopt;
  const auto text = [](const unsigned char* p, std::size_t n) {
    return std::string_view(reinterpret_cast<const char*>(p), n);
  };
  out.header_text = text(out.header_bytes, *header_len);
  out.signature = text(out.signature_bytes, *sig_len);
  out.payload = text(payload_out, *payload_len);
  // The claims are only read after the signature check, as in verify(); scanning them first
  // only decides which path runs (a scan rejects nothing).
  if (!detail::scan_flat_object(out.header_text, out.header) ||
      !detail::scan_flat_object(out.payload, out.claims)) {
    return std::nullopt;
  }

  auto alg = check_header(out.header, opts);
  if (!alg) return unexpected(alg.error());
  auto kid = header_kid(out.header);
  if (!kid) return unexpected(kid.error());
  KeyPtr key = keys ? keys(*kid) : nullptr;
  if (!key) return unexpected(Errc::UnknownKid);
  if (key->alg() != *alg) return unexpected(Errc::AlgKeyMismatch);
  if (auto ok = verify_bytes(*key, token.substr(0, dot2), out.signature); !ok) {
    return unexpected(ok.error());
  }
  if (auto ok = check_claims(out.claims, now, opts); !ok) return unexpected(ok.error());
  out.key = std::move(key);
  return Result<void, Errc>{};
}

}  // namespace

Result<std::string, Errc> sign_bytes(const Key& key, std::string_view signing_input) {
  if (!key.has_private()) return unexpected(Errc::NoPrivateKey);
  const detail::KeyNative& native = key.native();
  const ErrorQueueGuard guard;
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), native.sign_template.get()) != 1) {
    return unexpected(Errc::Internal);
  }
  // Upper bound: modulus size (RSA), largest DER signature (ECDSA), 64 (Ed25519).
  std::size_t len = static_cast<std::size_t>(EVP_PKEY_get_size(native.pkey.get()));
  std::string sig(len, '\0');
  auto* out = reinterpret_cast<unsigned char*>(sig.data());
  if (EVP_DigestSign(ctx.get(), out, &len, bytes_of(signing_input), signing_input.size()) != 1) {
    return unexpected(Errc::SignFailed);
  }
  if (key.alg() == Alg::ES256) return ecdsa_der_to_raw(out, len);
  sig.resize(len);
  if (sig.size() != key.signature_size()) return unexpected(Errc::SignFailed);
  return sig;
}

Result<void, Errc> verify_bytes(const Key& key, std::string_view signing_input,
                                std::string_view signature) {
  // Exact length before any crypto: also keeps oversize input away from OpenSSL.
  if (signature.size() != key.signature_size()) return unexpected(Errc::BadSignatureLength);
  std::array<unsigned char, kMaxEcdsaDer> der{};
  const unsigned char* sig = bytes_of(signature);
  std::size_t sig_len = signature.size();
  if (key.alg() == Alg::ES256) {
    // CVE-2022-21449 ("psychic signatures"): r = s = 0 verified in some libraries. OpenSSL is
    // not affected, but the check is cheap and keeps us safe whatever the backend.
    if (!detail::p256_scalar_in_range(sig) ||
        !detail::p256_scalar_in_range(sig + kP256ScalarBytes)) {
      return unexpected(Errc::EcdsaRangeInvalid);
    }
    sig_len = detail::ecdsa_raw_to_der(sig, der);
    sig = der.data();
  }
  const ErrorQueueGuard guard;
  const detail::KeyNative& native = key.native();
  if (native.verify_digest_template) {
    EVP_PKEY_CTX* pctx = thread_verify_ctx(native);
    // RS256: the DER DigestInfo for SHA-256 followed by the hash, compared whole with what the
    // signature decrypts to (RFC 8017 §8.2.2), as RSA_verify() would after building the same
    // bytes; without a digest set, OpenSSL does so without allocating per call.
    std::array<unsigned char, sizeof(kSha256DigestInfo) + 32> tbs{};
    std::size_t offset = 0;
    if (key.alg() == Alg::RS256) {
      std::memcpy(tbs.data(), kSha256DigestInfo, sizeof(kSha256DigestInfo));
      offset = sizeof(kSha256DigestInfo);
    }
    unsigned int digest_len = 0;
    if (pctx == nullptr || !sha256(signing_input, tbs.data() + offset, digest_len) ||
        digest_len != 32) {
      return unexpected(Errc::Internal);
    }
    // Anything but exactly 1 (0 = bad signature, negative = error) is a rejection.
    if (EVP_PKEY_verify(pctx, sig, sig_len, tbs.data(), offset + digest_len) != 1) {
      return unexpected(Errc::SignatureInvalid);
    }
    return {};
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), native.verify_template.get()) != 1) {
    return unexpected(Errc::Internal);
  }
  // Anything but exactly 1 (0 = bad signature, negative = error) is a rejection.
  if (EVP_DigestVerify(ctx.get(), sig, sig_len, bytes_of(signing_input), signing_input.size()) !=
      1) {
    return unexpected(Errc::SignatureInvalid);
  }
  return {};
}

Result<std::string, Errc> sign_jws(const Key& key, std::string_view payload,
                                   const nlohmann::json& header) {
  if (!header.is_object()) return unexpected(Errc::BadHeaderJson);
  if (!key.has_private()) return unexpected(Errc::NoPrivateKey);
  json protected_header = header;
  const std::string alg(to_string(key.alg()));
  if (const auto it = protected_header.find("alg"); it != protected_header.end()) {
    if (*it != alg) return unexpected(Errc::AlgKeyMismatch);
  }
  protected_header["alg"] = alg;
  std::string header_text;
  try {
    header_text = protected_header.dump();
  } catch (const json::exception&) {
    return unexpected(Errc::BadHeaderJson);  // invalid UTF-8 in a header string
  }
  return assemble(key, header_text, payload);
}

Result<std::string, Errc> sign(const Key& key, const nlohmann::json& claims, std::string_view typ) {
  if (!claims.is_object()) return unexpected(Errc::BadClaims);
  std::string payload;
  try {
    payload = claims.dump();
  } catch (const json::exception&) {
    return unexpected(Errc::BadClaims);  // dump() throws on invalid UTF-8
  }
  return sign_claims(key, payload, typ);
}

Result<std::string, Errc> sign_claims(const Key& key, std::string_view claims_json,
                                      std::string_view typ) {
  if (claims_json.size() < 2 || claims_json.front() != '{' || claims_json.back() != '}') {
    return unexpected(Errc::BadClaims);
  }
  if (!key.has_private()) return unexpected(Errc::NoPrivateKey);
  authd::json::ObjectWriter header(64);
  header.str("alg", to_string(key.alg())).str("kid", key.kid());
  if (!typ.empty()) header.str("typ", typ);
  if (!header.ok()) return unexpected(Errc::BadClaims);
  return assemble(key, header.finish(), claims_json);
}

Result<VerifiedJws, Errc> verify_jws(std::string_view token, const KeyLookup& keys,
                                     const VerifyOptions& opts) {
  try {
    return verify_jws_impl(token, keys, opts);
  } catch (const std::exception&) {
    return unexpected(Errc::Internal);  // allocation failure, or a throwing KeyLookup
  }
}

Result<Verified, Errc> verify(std::string_view token, const KeyLookup& keys, std::int64_t now,
                              const VerifyOptions& opts) {
  try {
    auto jws = verify_jws_impl(token, keys, opts);
    if (!jws) return unexpected(jws.error());
    // Claims are parsed only now that the signature has proven who wrote them.
    auto claims = detail::parse_strict_json(jws->payload, Errc::BadClaimsJson);
    if (!claims) return unexpected(claims.error());
    if (!claims->is_object()) return unexpected(Errc::BadClaimsJson);
    if (auto ok = check_claims(*claims, now, opts); !ok) return unexpected(ok.error());
    return Verified{std::move(jws->header), std::move(*claims), std::move(jws->key)};
  } catch (const std::exception&) {
    return unexpected(Errc::Internal);
  }
}

namespace detail {

std::optional<Result<void, Errc>> fast_verify(std::string_view token, const KeyLookup& keys,
                                              std::int64_t now, const VerifyOptions& opts,
                                              FastVerified& out) {
  try {
    return fast_verify_impl(token, keys, now, opts, out);
  } catch (const std::exception&) {
    return Result<void, Errc>(unexpected(Errc::Internal));  // as verify(): see there
  }
}

}  // namespace detail

Result<Verified, Errc> verify(std::string_view token, const Jwks& keys, std::int64_t now,
                              const VerifyOptions& opts) {
  return verify(
      token, [&keys](std::string_view kid) { return keys.find(kid); }, now, opts);
}

}  // namespace authd::jose
