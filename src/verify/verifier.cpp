#include "authd/verify/verifier.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "authd/jose/jws.h"
#include "jose/fast_verify.h"
#include "verify/cache_impl.h"

namespace authd::verify {
namespace {

using jose::detail::each_element;
using jose::detail::is_array;
using jose::detail::is_string;
using jose::detail::member;
using jose::detail::string_of;

jose::Alg to_jose(Alg a) {
  switch (a) {
    case Alg::RS256:
      return jose::Alg::RS256;
    case Alg::ES256:
      return jose::Alg::ES256;
    case Alg::EdDSA:
      return jose::Alg::EdDSA;
  }
  return jose::Alg::ES256;
}

Error from_jose(jose::Errc e) {
  using E = jose::Errc;
  switch (e) {
    case E::Malformed:
    case E::TokenTooLarge:
    case E::HeaderTooLarge:
    case E::BadBase64:
    case E::BadHeaderJson:
    case E::BadClaimsJson:
    case E::DuplicateMember:
    case E::JsonTooDeep:
      return Error::kMalformed;
    case E::AlgNone:
    case E::AlgNotAllowed:
      return Error::kAlgNotAllowed;
    case E::AlgKeyMismatch:
      return Error::kAlgKeyMismatch;
    case E::CritUnsupported:
    case E::B64False:
    case E::KidInvalid:
    case E::KidTooLong:
      return Error::kHeaderRejected;
    case E::TypMismatch:
      return Error::kTypMismatch;
    case E::UnknownKid:
      return Error::kUnknownKid;
    case E::BadSignatureLength:
    case E::EcdsaRangeInvalid:
    case E::SignatureInvalid:
      return Error::kBadSignature;
    case E::InvalidClaim:
      return Error::kInvalidClaim;
    case E::MissingClaim:
      return Error::kMissingClaim;
    case E::Expired:
      return Error::kExpired;
    case E::NotYetValid:
      return Error::kNotYetValid;
    case E::IssuedInFuture:
      return Error::kIssuedInFuture;
    case E::IssuerMismatch:
      return Error::kIssuerMismatch;
    case E::AudienceMismatch:
      return Error::kAudienceMismatch;
    default:
      return Error::kInternal;
  }
}

std::int64_t seconds_of(const nlohmann::json& v) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  if (v.is_number_unsigned())
    return static_cast<std::int64_t>(std::min<std::uint64_t>(v.get<std::uint64_t>(), kMax));
  if (v.is_number_integer()) return v.get<std::int64_t>();
  const double d = v.get<double>();  // jose accepted it as a number
  if (!(d > -9.2e18)) return -kMax;
  if (!(d < 9.2e18)) return kMax;
  return static_cast<std::int64_t>(d);
}

std::int64_t seconds_of(const jose::detail::FlatValue& v) { return v.integer; }

// A string claim into `out`; false when present with another type.
template <class Doc>
bool string_claim(const Doc& c, const char* name, std::string& out) {
  const auto* v = jose::detail::member(c, name);
  if (v == nullptr) return true;
  if (!is_string(*v)) return false;
  out = string_of(*v);
  return true;
}

// The typed claims of a verified token, over either claims representation (see
// jose/flat_json.h): the strict parser's DOM or the hot path's flat scan.
template <class Doc>
Result claims_of(const Doc& c, const Options& opt, const jose::Key& key) {
  Claims out;
  if (!string_claim(c, "iss", out.iss) || !string_claim(c, "sub", out.sub) ||
      !string_claim(c, "client_id", out.client_id) || !string_claim(c, "scope", out.scope) ||
      !string_claim(c, "jti", out.jti))
    return Error::kInvalidClaim;
  if (const auto* aud = member(c, "aud"); aud != nullptr) {
    if (is_string(*aud)) {
      out.aud.emplace_back(string_of(*aud));
    } else if (is_array(*aud)) {
      const bool all_strings = each_element(c, *aud, [&](const auto& a) {
        if (!is_string(a)) return false;
        out.aud.emplace_back(string_of(a));
        return true;
      });
      if (!all_strings) return Error::kInvalidClaim;
    } else {
      return Error::kInvalidClaim;
    }
  }
  if (!opt.audiences.empty()) {
    if (out.aud.empty()) return Error::kMissingClaim;
    const bool match = std::any_of(out.aud.begin(), out.aud.end(), [&](const std::string& a) {
      return std::find(opt.audiences.begin(), opt.audiences.end(), a) != opt.audiences.end();
    });
    if (!match) return Error::kAudienceMismatch;
  }
  if (opt.require_sub && out.sub.empty()) return Error::kMissingClaim;
  out.exp = seconds_of(*member(c, "exp"));  // jose requires exp (require_exp)
  if (const auto* v = member(c, "iat"); v != nullptr) out.iat = seconds_of(*v);
  if (const auto* v = member(c, "nbf"); v != nullptr) out.nbf = seconds_of(*v);
  out.kid = key.kid();
  out.json = c.dump();
  return out;
}

}  // namespace

struct Verifier::Impl {
  Options options;
  std::shared_ptr<JwksCache> cache;
  bool allowed[3] = {false, false, false};
  jose::VerifyOptions jose_options;
};

Verifier::Verifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Verifier::Verifier(Options options, std::shared_ptr<JwksCache> keys)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->cache = std::move(keys);
  for (Alg a : impl_->options.algorithms) impl_->allowed[static_cast<int>(to_jose(a))] = true;
  auto& o = impl_->jose_options;
  o.leeway_s = std::max<std::int64_t>(0, impl_->options.leeway.count());
  if (!impl_->options.issuer.empty()) o.issuer = impl_->options.issuer;
  // Several audiences are accepted: checked here after the signature, not by jose.
  o.audience.reset();
  if (impl_->options.typ.empty())
    o.typ.reset();
  else
    o.typ = impl_->options.typ;
  o.max_token_bytes = impl_->options.max_token_bytes;
  o.require_exp = true;
}

Verifier Verifier::with_jwks(Options options, std::string_view jwks_json) {
  return Verifier(std::move(options), JwksCache::fixed(jwks_json));
}

Verifier::Verifier(Verifier&&) noexcept = default;
Verifier& Verifier::operator=(Verifier&&) noexcept = default;
Verifier::~Verifier() = default;

bool Verifier::keys_ok() const noexcept { return impl_->cache && impl_->cache->ok(); }

Result Verifier::verify(std::string_view token) const {
  try {
    const Options& opt = impl_->options;
    if (!impl_->cache) return Error::kKeysUnavailable;
    JwksCache::Impl& cache = *impl_->cache->impl_;
    const auto now = opt.clock ? opt.clock() : cache.now();
    const std::int64_t now_s =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    std::optional<Error> lookup_error;
    bool alg_refused = false;
    auto lookup = [&](std::string_view kid) -> jose::KeyPtr {
      Lookup l = cache.find(kid, now);
      if (!l.key) {
        lookup_error = l.error;
        return nullptr;
      }
      if (!impl_->allowed[static_cast<int>(l.key->alg())]) {
        alg_refused = true;  // a key of a refused algorithm is never used
        return nullptr;
      }
      return l.key;
    };
    // Tokens of the usual shape take the hot path; it refers every other one to
    // jose::verify() before any lookup, with the same verdicts either way.
    jose::detail::FastVerified fast;
    if (auto r = jose::detail::fast_verify(token, lookup, now_s, impl_->jose_options, fast)) {
      if (!*r) {
        if (r->error() == jose::Errc::UnknownKid) {
          if (alg_refused) return Error::kAlgNotAllowed;
          if (lookup_error) return *lookup_error;
        }
        return from_jose(r->error());
      }
      return claims_of(fast.claims, opt, *fast.key);
    }
    auto v = jose::verify(token, lookup, now_s, impl_->jose_options);
    if (!v) {
      if (v.error() == jose::Errc::UnknownKid) {
        if (alg_refused) return Error::kAlgNotAllowed;
        if (lookup_error) return *lookup_error;
      }
      return from_jose(v.error());
    }
    return claims_of(v->claims, opt, *v->key);
  } catch (...) {
    return Error::kInternal;
  }
}

std::optional<std::string> Claims::claim_json(std::string_view name) const {
  const auto c = nlohmann::json::parse(json, nullptr, false);
  if (!c.is_object()) return std::nullopt;
  auto it = c.find(name);
  if (it == c.end()) return std::nullopt;
  return it->dump();
}

std::optional<std::string> Claims::claim_string(std::string_view name) const {
  const auto c = nlohmann::json::parse(json, nullptr, false);
  if (!c.is_object()) return std::nullopt;
  auto it = c.find(name);
  if (it == c.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

bool Claims::has_scope(std::string_view s) const noexcept {
  if (s.empty()) return false;
  std::string_view rest = scope;
  while (!rest.empty()) {
    const auto sp = rest.find(' ');
    if (rest.substr(0, sp) == s) return true;
    if (sp == std::string_view::npos) break;
    rest.remove_prefix(sp + 1);
  }
  return false;
}

std::string_view to_string(Error e) noexcept {
  switch (e) {
    case Error::kMalformed:
      return "malformed";
    case Error::kAlgNotAllowed:
      return "alg_not_allowed";
    case Error::kAlgKeyMismatch:
      return "alg_key_mismatch";
    case Error::kHeaderRejected:
      return "header_rejected";
    case Error::kTypMismatch:
      return "typ_mismatch";
    case Error::kUnknownKid:
      return "unknown_kid";
    case Error::kBadSignature:
      return "bad_signature";
    case Error::kExpired:
      return "expired";
    case Error::kNotYetValid:
      return "not_yet_valid";
    case Error::kIssuedInFuture:
      return "issued_in_future";
    case Error::kIssuerMismatch:
      return "issuer_mismatch";
    case Error::kAudienceMismatch:
      return "audience_mismatch";
    case Error::kMissingClaim:
      return "missing_claim";
    case Error::kInvalidClaim:
      return "invalid_claim";
    case Error::kKeysUnavailable:
      return "keys_unavailable";
    case Error::kKeysStale:
      return "keys_stale";
    case Error::kInternal:
      return "internal";
  }
  return "internal";
}

std::string_view message(Error e) noexcept {
  switch (e) {
    case Error::kExpired:
      return "The access token has expired.";
    case Error::kNotYetValid:
    case Error::kIssuedInFuture:
      return "The access token is not valid yet.";
    case Error::kAudienceMismatch:
      return "The access token is not meant for this service.";
    case Error::kKeysUnavailable:
    case Error::kKeysStale:
    case Error::kInternal:
      return "The access token cannot be verified now; retry later.";
    default:
      return "The access token is invalid.";
  }
}

}  // namespace authd::verify
