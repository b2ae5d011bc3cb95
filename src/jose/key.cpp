// Key: JWK import/export, PKCS#8 PEM import/export, generation, RFC 7638 thumbprints.

#include "authd/jose/key.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <optional>
#include <string>
#include <utility>

#include "authd/core/base64url.h"
#include "authd/jose/jws.h"
#include "jose/key_native.h"
#include "jose/openssl_util.h"
#include "jose/strict_json.h"

namespace authd::jose {

// Key's only friend: lets the factories below construct one.
class KeyBuilder {
 public:
  static Result<KeyPtr, Errc> make(detail::EvpPkeyPtr pkey, Alg alg, bool has_private,
                                   std::string kid, std::string thumbprint, nlohmann::json jwk,
                                   std::size_t sig_size) {
    auto native = std::make_unique<detail::KeyNative>();
    const EVP_MD* md = detail::digest_for(alg);
    native->verify_template.reset(EVP_MD_CTX_new());
    if (!native->verify_template || EVP_DigestVerifyInit(native->verify_template.get(), nullptr, md,
                                                         nullptr, pkey.get()) != 1) {
      return unexpected(Errc::Internal);
    }
    if (md != nullptr) {
      native->verify_digest_template.reset(
          EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
      if (!native->verify_digest_template ||
          EVP_PKEY_verify_init(native->verify_digest_template.get()) != 1 ||
          (alg == Alg::ES256 &&
           EVP_PKEY_CTX_set_signature_md(native->verify_digest_template.get(), md) != 1)) {
        return unexpected(Errc::Internal);
      }
    }
    static std::atomic<std::uint64_t> next_id{1};
    native->id = next_id.fetch_add(1, std::memory_order_relaxed);
    if (has_private) {
      native->sign_template.reset(EVP_MD_CTX_new());
      if (!native->sign_template ||
          EVP_DigestSignInit(native->sign_template.get(), nullptr, md, nullptr, pkey.get()) != 1) {
        return unexpected(Errc::Internal);
      }
    }
    native->pkey = std::move(pkey);
    return KeyPtr(new Key(std::move(native), alg, has_private, std::move(kid),
                          std::move(thumbprint), std::move(jwk), sig_size));
  }
};

namespace {

using json = nlohmann::json;
using detail::BignumPtr;
using detail::BioPtr;
using detail::ErrorQueueGuard;
using detail::EvpPkeyCtxPtr;
using detail::EvpPkeyPtr;
using detail::kP256ScalarBytes;
using detail::ParamBldPtr;
using detail::ParamPtr;

constexpr const char* kP256GroupName = "prime256v1";
constexpr std::size_t kEd25519Bytes = 32;
constexpr std::size_t kEcSignatureBytes = 64;
constexpr std::size_t kEdSignatureBytes = 64;
// RFC 7518 §6.3.1.2: 64 bits is also OpenSSL's own cap on e for moduli above 3072 bits.
constexpr int kMaxRsaExponentBits = 64;

const unsigned char* bytes_of(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Holds decoded private-key bytes and wipes them when done.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string v) : v_(std::move(v)) {}
  SecretBytes(SecretBytes&& o) noexcept : v_(std::move(o.v_)) { o.v_.clear(); }
  SecretBytes& operator=(SecretBytes&&) = delete;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes() { OPENSSL_cleanse(v_.data(), v_.size()); }
  const std::string& get() const { return v_; }

 private:
  std::string v_;
};

// A base64url JWK member: absent -> nullopt; present but not a non-empty strict base64url
// string -> BadJwk.
Result<std::optional<std::string>, Errc> read_b64(const json& jwk, const char* name) {
  const auto it = jwk.find(name);
  if (it == jwk.end()) return std::optional<std::string>();
  if (!it->is_string()) return unexpected(Errc::BadJwk);
  auto bytes = base64url::decode(it->get_ref<const std::string&>());
  if (!bytes || bytes->empty()) return unexpected(Errc::BadJwk);
  return std::optional<std::string>(std::move(*bytes));
}

Result<std::string, Errc> read_required_b64(const json& jwk, const char* name) {
  auto v = read_b64(jwk, name);
  if (!v) return unexpected(v.error());
  if (!v->has_value()) return unexpected(Errc::BadJwk);
  return std::move(**v);
}

BignumPtr to_bn(const std::string& bytes) {
  return BignumPtr(BN_bin2bn(bytes_of(bytes), static_cast<int>(bytes.size()), nullptr));
}

std::string bn_to_bytes(const BIGNUM* bn) {
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::optional<std::string> bn_to_padded(const BIGNUM* bn, std::size_t len) {
  std::string out(len, '\0');
  if (BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(len)) !=
      static_cast<int>(len)) {
    return std::nullopt;
  }
  return out;
}

BignumPtr get_bn(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) return nullptr;
  return BignumPtr(bn);
}

// Size and exponent policy for every RSA key, whatever its source.
Result<void, Errc> check_rsa_public(const BIGNUM* n, const BIGNUM* e) {
  const int bits = BN_num_bits(n);
  if (bits < kMinRsaBits) return unexpected(Errc::WeakKey);
  if (bits > kMaxRsaBits) return unexpected(Errc::UnsupportedKey);
  if (!BN_is_odd(n)) return unexpected(Errc::WeakKey);
  if (BN_num_bits(e) > kMaxRsaExponentBits) return unexpected(Errc::UnsupportedKey);
  if (!BN_is_odd(e) || BN_is_one(e)) return unexpected(Errc::WeakKey);
  return {};
}

Result<EvpPkeyPtr, Errc> key_from_params(const char* type, int selection, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return unexpected(Errc::Internal);
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1) {
    return unexpected(Errc::BadJwk);
  }
  return EvpPkeyPtr(raw);
}

// Runs one of OpenSSL's EVP_PKEY_*_check functions; only a result of exactly 1 passes.
bool openssl_check(EVP_PKEY* pkey, int (*check)(EVP_PKEY_CTX*)) {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  return ctx && check(ctx.get()) == 1;
}

std::string sha256_b64(const std::string& data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) {
    return {};
  }
  return base64url::encode(std::string_view(reinterpret_cast<const char*>(md.data()), len));
}

// Reads the public members back from the OpenSSL key, so that the JWK and thumbprint always
// describe the key we actually hold, whatever it was parsed from. Members are the RFC 7638
// required ones; nlohmann keeps object members sorted, which is the canonical order.
Result<json, Errc> public_members(const EVP_PKEY* pkey, Alg alg) {
  switch (alg) {
    case Alg::RS256: {
      const BignumPtr n = get_bn(pkey, OSSL_PKEY_PARAM_RSA_N);
      const BignumPtr e = get_bn(pkey, OSSL_PKEY_PARAM_RSA_E);
      if (!n || !e) return unexpected(Errc::Internal);
      return json{{"kty", "RSA"},
                  {"n", base64url::encode(bn_to_bytes(n.get()))},
                  {"e", base64url::encode(bn_to_bytes(e.get()))}};
    }
    case Alg::ES256: {
      const BignumPtr x = get_bn(pkey, OSSL_PKEY_PARAM_EC_PUB_X);
      const BignumPtr y = get_bn(pkey, OSSL_PKEY_PARAM_EC_PUB_Y);
      if (!x || !y) return unexpected(Errc::Internal);
      auto xb = bn_to_padded(x.get(), kP256ScalarBytes);
      auto yb = bn_to_padded(y.get(), kP256ScalarBytes);
      if (!xb || !yb) return unexpected(Errc::Internal);
      return json{{"kty", "EC"},
                  {"crv", "P-256"},
                  {"x", base64url::encode(*xb)},
                  {"y", base64url::encode(*yb)}};
    }
    case Alg::EdDSA: {
      std::string x(kEd25519Bytes, '\0');
      std::size_t len = x.size();
      if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(x.data()), &len) !=
              1 ||
          len != kEd25519Bytes) {
        return unexpected(Errc::Internal);
      }
      return json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", base64url::encode(x)}};
    }
  }
  return unexpected(Errc::Internal);
}

// Checks that an OpenSSL key (from generation or PEM) is of the kind `alg` needs.
Result<void, Errc> check_key_type(const EVP_PKEY* pkey, Alg alg) {
  switch (alg) {
    case Alg::RS256: {
      // "RSA" only: an RSA-PSS-restricted key must not be used for PKCS#1 v1.5.
      if (!EVP_PKEY_is_a(pkey, "RSA")) return unexpected(Errc::AlgKeyMismatch);
      const BignumPtr n = get_bn(pkey, OSSL_PKEY_PARAM_RSA_N);
      const BignumPtr e = get_bn(pkey, OSSL_PKEY_PARAM_RSA_E);
      if (!n || !e) return unexpected(Errc::Internal);
      return check_rsa_public(n.get(), e.get());
    }
    case Alg::ES256: {
      if (!EVP_PKEY_is_a(pkey, "EC")) return unexpected(Errc::AlgKeyMismatch);
      std::array<char, 64> group{};
      std::size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group.data(),
                                         group.size(), &len) != 1 ||
          std::string_view(group.data(), len) != kP256GroupName) {
        return unexpected(Errc::UnsupportedKey);
      }
      return {};
    }
    case Alg::EdDSA:
      if (!EVP_PKEY_is_a(pkey, "ED25519")) return unexpected(Errc::AlgKeyMismatch);
      return {};
  }
  return unexpected(Errc::Internal);
}

Result<void, Errc> check_kid(const std::string& kid) {
  if (kid.empty()) return unexpected(Errc::KidInvalid);
  if (kid.size() > kMaxKidLength) return unexpected(Errc::KidTooLong);
  return {};
}

// The one place a Key is assembled. `kid` empty means "use the thumbprint".
Result<KeyPtr, Errc> make_key(EvpPkeyPtr pkey, Alg alg, bool has_private, std::string kid) {
  auto members = public_members(pkey.get(), alg);
  if (!members) return unexpected(members.error());
  std::string thumbprint = sha256_b64(members->dump());
  if (thumbprint.empty()) return unexpected(Errc::Internal);
  if (kid.empty()) kid = thumbprint;
  json jwk = std::move(*members);
  jwk["kid"] = kid;
  jwk["alg"] = std::string(to_string(alg));
  jwk["use"] = "sig";
  const std::size_t sig_size = alg == Alg::RS256
                                   ? static_cast<std::size_t>(EVP_PKEY_get_size(pkey.get()))
                               : alg == Alg::ES256 ? kEcSignatureBytes
                                                   : kEdSignatureBytes;
  return KeyBuilder::make(std::move(pkey), alg, has_private, std::move(kid), std::move(thumbprint),
                          std::move(jwk), sig_size);
}

Result<EvpPkeyPtr, Errc> rsa_from_jwk(const json& jwk, bool& has_private) {
  auto n = read_required_b64(jwk, "n");
  if (!n) return unexpected(n.error());
  auto e = read_required_b64(jwk, "e");
  if (!e) return unexpected(e.error());
  // Base64urlUInt (RFC 7518 §2) is minimal: a leading zero octet would also change the
  // RFC 7638 thumbprint of an otherwise identical key.
  if ((*n)[0] == '\0' || (*e)[0] == '\0') return unexpected(Errc::BadJwk);
  const BignumPtr bn_n = to_bn(*n);
  const BignumPtr bn_e = to_bn(*e);
  if (!bn_n || !bn_e) return unexpected(Errc::Internal);
  if (auto ok = check_rsa_public(bn_n.get(), bn_e.get()); !ok) return unexpected(ok.error());

  if (jwk.contains("oth")) return unexpected(Errc::UnsupportedKey);  // multi-prime RSA
  static constexpr std::array<const char*, 5> kCrt = {"p", "q", "dp", "dq", "qi"};
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return unexpected(Errc::Internal);
  }
  has_private = jwk.contains("d");
  if (!has_private) {
    for (const char* m : kCrt) {
      if (jwk.contains(m)) return unexpected(Errc::BadJwk);
    }
    return key_from_params("RSA", EVP_PKEY_PUBLIC_KEY, bld.get());
  }
  // We require the CRT members (which RFC 7518 §6.3.2 says producers SHOULD send): they make
  // signing ~3x faster and let OpenSSL's pairwise check prove d belongs to n.
  static constexpr std::array<const char*, 6> kPrivate = {"d", "p", "q", "dp", "dq", "qi"};
  static constexpr std::array<const char*, 6> kParams = {
      OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
      OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
      OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
  std::array<BignumPtr, 6> bns;
  for (std::size_t i = 0; i < kPrivate.size(); ++i) {
    auto v = read_b64(jwk, kPrivate[i]);
    if (!v) return unexpected(v.error());
    if (!v->has_value()) return unexpected(i == 0 ? Errc::BadJwk : Errc::UnsupportedKey);
    const SecretBytes secret(std::move(**v));
    bns[i] = to_bn(secret.get());
    if (!bns[i] || !OSSL_PARAM_BLD_push_BN(bld.get(), kParams[i], bns[i].get())) {
      return unexpected(Errc::Internal);
    }
  }
  auto pkey = key_from_params("RSA", EVP_PKEY_KEYPAIR, bld.get());
  if (!pkey) return pkey;
  if (!openssl_check(pkey->get(), EVP_PKEY_pairwise_check)) return unexpected(Errc::BadJwk);
  return pkey;
}

Result<EvpPkeyPtr, Errc> ec_from_jwk(const json& jwk, bool& has_private) {
  const auto crv = jwk.find("crv");
  if (crv == jwk.end() || !crv->is_string()) return unexpected(Errc::BadJwk);
  if (*crv != "P-256") return unexpected(Errc::UnsupportedKey);
  auto x = read_required_b64(jwk, "x");
  if (!x) return unexpected(x.error());
  auto y = read_required_b64(jwk, "y");
  if (!y) return unexpected(y.error());
  // RFC 7518 §6.2.1.2: coordinates are full-length, never shortened.
  if (x->size() != kP256ScalarBytes || y->size() != kP256ScalarBytes) {
    return unexpected(Errc::BadJwk);
  }
  const std::string point = std::string(1, '\x04') + *x + *y;  // SEC 1 uncompressed
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kP256GroupName, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return unexpected(Errc::Internal);
  }
  auto d = read_b64(jwk, "d");
  if (!d) return unexpected(d.error());
  has_private = d->has_value();
  if (!has_private) {
    auto pkey = key_from_params("EC", EVP_PKEY_PUBLIC_KEY, bld.get());
    if (!pkey) return pkey;
    // On the curve, not the point at infinity, in the prime-order subgroup.
    if (!openssl_check(pkey->get(), EVP_PKEY_public_check)) return unexpected(Errc::BadJwk);
    return pkey;
  }
  const SecretBytes secret(std::move(**d));
  if (secret.get().size() != kP256ScalarBytes ||
      !detail::p256_scalar_in_range(bytes_of(secret.get()))) {
    return unexpected(Errc::BadJwk);
  }
  const BignumPtr bn_d = to_bn(secret.get());
  if (!bn_d || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, bn_d.get())) {
    return unexpected(Errc::Internal);
  }
  auto pkey = key_from_params("EC", EVP_PKEY_KEYPAIR, bld.get());
  if (!pkey) return pkey;
  // Public point valid and equal to d*G.
  if (!openssl_check(pkey->get(), EVP_PKEY_check)) return unexpected(Errc::BadJwk);
  return pkey;
}

Result<EvpPkeyPtr, Errc> okp_from_jwk(const json& jwk, bool& has_private) {
  const auto crv = jwk.find("crv");
  if (crv == jwk.end() || !crv->is_string()) return unexpected(Errc::BadJwk);
  if (*crv != "Ed25519") return unexpected(Errc::UnsupportedKey);  // Ed448, X25519, X448
  auto x = read_required_b64(jwk, "x");
  if (!x) return unexpected(x.error());
  if (x->size() != kEd25519Bytes) return unexpected(Errc::BadJwk);
  auto d = read_b64(jwk, "d");
  if (!d) return unexpected(d.error());
  has_private = d->has_value();
  if (!has_private) {
    EvpPkeyPtr pkey(
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes_of(*x), x->size()));
    if (!pkey) return unexpected(Errc::BadJwk);
    return pkey;
  }
  const SecretBytes secret(std::move(**d));
  if (secret.get().size() != kEd25519Bytes) return unexpected(Errc::BadJwk);
  EvpPkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, bytes_of(secret.get()),
                                               secret.get().size()));
  if (!pkey) return unexpected(Errc::BadJwk);
  // The public key is derived from d; an "x" that is not that key would make the JWK lie.
  std::string derived(kEd25519Bytes, '\0');
  std::size_t len = derived.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), reinterpret_cast<unsigned char*>(derived.data()),
                                  &len) != 1 ||
      len != kEd25519Bytes) {
    return unexpected(Errc::Internal);
  }
  if (derived != *x) return unexpected(Errc::BadJwk);
  return pkey;
}

// "use" and "key_ops" (RFC 7517 §4.2, §4.3): a key published for encryption is not ours to
// verify with.
Result<void, Errc> check_usage(const json& jwk) {
  if (const auto use = jwk.find("use"); use != jwk.end()) {
    if (!use->is_string()) return unexpected(Errc::BadJwk);
    if (*use != "sig") return unexpected(Errc::UnsupportedKey);
  }
  if (const auto ops = jwk.find("key_ops"); ops != jwk.end()) {
    if (!ops->is_array()) return unexpected(Errc::BadJwk);
    bool signing = false;
    for (const auto& op : *ops) {
      if (!op.is_string()) return unexpected(Errc::BadJwk);
      signing = signing || op == "verify" || op == "sign";
    }
    if (!signing) return unexpected(Errc::UnsupportedKey);
  }
  return {};
}

Result<KeyPtr, Errc> parse_jwk_object(const json& jwk) {
  if (!jwk.is_object()) return unexpected(Errc::BadJwk);
  const auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string()) return unexpected(Errc::BadJwk);

  Alg alg{};
  if (*kty == "RSA") {
    alg = Alg::RS256;
  } else if (*kty == "EC") {
    alg = Alg::ES256;
  } else if (*kty == "OKP") {
    alg = Alg::EdDSA;
  } else {
    return unexpected(Errc::UnsupportedKey);  // "oct" and anything newer
  }
  if (const auto a = jwk.find("alg"); a != jwk.end()) {
    if (!a->is_string()) return unexpected(Errc::BadJwk);
    // e.g. an RSA key marked PS256 or RSA-OAEP: a key is bound to one algorithm.
    if (a->get_ref<const std::string&>() != to_string(alg)) {
      return unexpected(Errc::UnsupportedKey);
    }
  }
  if (auto ok = check_usage(jwk); !ok) return unexpected(ok.error());
  std::string kid;
  if (const auto k = jwk.find("kid"); k != jwk.end()) {
    if (!k->is_string()) return unexpected(Errc::KidInvalid);
    kid = k->get<std::string>();
    if (auto ok = check_kid(kid); !ok) return unexpected(ok.error());
  }

  bool has_private = false;
  Result<EvpPkeyPtr, Errc> pkey = alg == Alg::RS256   ? rsa_from_jwk(jwk, has_private)
                                  : alg == Alg::ES256 ? ec_from_jwk(jwk, has_private)
                                                      : okp_from_jwk(jwk, has_private);
  if (!pkey) return unexpected(pkey.error());
  return make_key(std::move(*pkey), alg, has_private, std::move(kid));
}

}  // namespace

Key::Key(std::unique_ptr<const detail::KeyNative> native, Alg alg, bool has_private,
         std::string kid, std::string thumbprint, nlohmann::json public_jwk,
         std::size_t signature_size)
    : native_(std::move(native)),
      alg_(alg),
      has_private_(has_private),
      kid_(std::move(kid)),
      thumbprint_(std::move(thumbprint)),
      public_jwk_(std::move(public_jwk)),
      signature_size_(signature_size) {}

Key::~Key() = default;

Result<KeyPtr, Errc> Key::generate(Alg alg, int rsa_bits) {
  const ErrorQueueGuard guard;
  EVP_PKEY* raw = nullptr;
  switch (alg) {
    case Alg::RS256:
      if (rsa_bits < kMinRsaBits) return unexpected(Errc::WeakKey);
      if (rsa_bits > kMaxRsaBits) return unexpected(Errc::UnsupportedKey);
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(rsa_bits));
      break;
    case Alg::ES256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", kP256GroupName);
      break;
    case Alg::EdDSA:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  if (raw == nullptr) return unexpected(Errc::KeyGenFailed);
  return make_key(EvpPkeyPtr(raw), alg, true, {});
}

Result<KeyPtr, Errc> Key::from_jwk(std::string_view text) {
  if (text.size() > kMaxJwkBytes) return unexpected(Errc::BadJwk);
  auto jwk = detail::parse_strict_json(text, Errc::BadJwk);
  if (!jwk) return unexpected(jwk.error());
  return from_jwk_object(*jwk);
}

Result<KeyPtr, Errc> Key::from_jwk_object(const nlohmann::json& jwk) {
  const ErrorQueueGuard guard;
  return parse_jwk_object(jwk);
}

Result<KeyPtr, Errc> Key::from_private_pem(std::string_view pem, Alg alg) {
  const ErrorQueueGuard guard;
  // PKCS#8 only: the label check keeps out encrypted PKCS#8 (no passphrase prompt is ever
  // possible) and the legacy "RSA/EC PRIVATE KEY" forms.
  if (pem.size() > kMaxJwkBytes) return unexpected(Errc::BadPem);
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return unexpected(Errc::Internal);
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* der = nullptr;
  long der_len = 0;
  if (PEM_read_bio(bio.get(), &name, &header, &der, &der_len) != 1) {
    return unexpected(Errc::BadPem);
  }
  const bool pkcs8 = std::string_view(name) == PEM_STRING_PKCS8INF;
  OPENSSL_free(name);
  OPENSSL_free(header);
  EvpPkeyPtr pkey;
  if (pkcs8) {
    const unsigned char* p = der;
    PKCS8_PRIV_KEY_INFO* p8 = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, der_len);
    if (p8 != nullptr && p == der + der_len) pkey.reset(EVP_PKCS82PKEY(p8));
    PKCS8_PRIV_KEY_INFO_free(p8);
  }
  OPENSSL_clear_free(der, static_cast<std::size_t>(der_len));
  if (!pkey) return unexpected(Errc::BadPem);
  if (auto ok = check_key_type(pkey.get(), alg); !ok) return unexpected(ok.error());
  auto key = make_key(std::move(pkey), alg, true, {});
  if (!key) return key;
  // The property that matters is that what this key signs verifies under the public half it
  // publishes; one signature proves it. OpenSSL's pairwise check would also test an RSA key's
  // primes (33 ms per key here), which every start of a replica paid for each stored key.
  static constexpr std::string_view kProbe = "authd key self-test";
  auto probe = sign_bytes(**key, kProbe);
  if (!probe || !verify_bytes(**key, kProbe, *probe)) return unexpected(Errc::BadPem);
  return key;
}

Result<nlohmann::json, Errc> Key::private_jwk() const {
  if (!has_private_) return unexpected(Errc::NoPrivateKey);
  const ErrorQueueGuard guard;
  json jwk = public_jwk_;
  switch (alg_) {
    case Alg::RS256: {
      static constexpr std::array<std::pair<const char*, const char*>, 6> kMembers = {{
          {"d", OSSL_PKEY_PARAM_RSA_D},
          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
          {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
          {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
          {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
          {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
      }};
      for (const auto& [member, param] : kMembers) {
        const BignumPtr bn = get_bn(native_->pkey.get(), param);
        if (!bn) return unexpected(Errc::Internal);
        const SecretBytes bytes(bn_to_bytes(bn.get()));
        jwk[member] = base64url::encode(bytes.get());
      }
      break;
    }
    case Alg::ES256: {
      const BignumPtr d = get_bn(native_->pkey.get(), OSSL_PKEY_PARAM_PRIV_KEY);
      if (!d) return unexpected(Errc::Internal);
      auto padded = bn_to_padded(d.get(), kP256ScalarBytes);
      if (!padded) return unexpected(Errc::Internal);
      const SecretBytes bytes(std::move(*padded));
      jwk["d"] = base64url::encode(bytes.get());
      break;
    }
    case Alg::EdDSA: {
      std::string raw(kEd25519Bytes, '\0');
      std::size_t len = raw.size();
      const int rc = EVP_PKEY_get_raw_private_key(
          native_->pkey.get(), reinterpret_cast<unsigned char*>(raw.data()), &len);
      const SecretBytes bytes(std::move(raw));
      if (rc != 1 || len != kEd25519Bytes) return unexpected(Errc::Internal);
      jwk["d"] = base64url::encode(bytes.get());
      break;
    }
  }
  return jwk;
}

Result<std::string, Errc> Key::private_pem() const {
  if (!has_private_) return unexpected(Errc::NoPrivateKey);
  const ErrorQueueGuard guard;
  // A secure-memory BIO wipes its buffer when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), native_->pkey.get(), nullptr, nullptr, 0,
                                            nullptr, nullptr) != 1) {
    return unexpected(Errc::Internal);
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return unexpected(Errc::Internal);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace authd::jose
