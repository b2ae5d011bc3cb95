#include "authd/auth/refresh_token.h"

#include "authd/core/base64url.h"

namespace authd::auth {
namespace {
// Domain separation: the stored hash, the successor and the limit key never collide.
constexpr std::string_view kHashContext = "authd.refresh_token.hash.v1";
constexpr std::string_view kSuccessorContext = "authd.refresh_token.successor.v1";
constexpr std::string_view kFamilyLimitContext = "authd.refresh_token.family_limit.v1";
constexpr std::string_view kMacContext = "authd.refresh_token.mac.v1";
constexpr std::size_t kPrefixBytes =
    RefreshTokenCodec::kTokenBytes - RefreshTokenCodec::kMacBytes;  // tag and body
constexpr std::size_t kEncodedBytes = 43;  // base64url of 32 bytes, unpadded
}  // namespace

std::string RefreshTokenCodec::seal(std::string prefix) const {
  prefix += pepper_.derive(kMacContext, prefix).substr(0, kMacBytes);
  return base64url::encode(prefix);
}

std::string RefreshTokenCodec::mint(Random& random) const {
  return seal(random.bytes(kPrefixBytes));
}

bool RefreshTokenCodec::authentic(std::string_view token) const {
  const auto raw = base64url::decode(token);
  if (!raw || raw->size() != kTokenBytes) return false;
  const std::string want = pepper_.derive(kMacContext, raw->substr(0, kPrefixBytes));
  unsigned char diff = 0;  // constant time: the MAC must not be found byte by byte
  for (std::size_t i = 0; i < kMacBytes; ++i)
    diff |= static_cast<unsigned char>((*raw)[kPrefixBytes + i] ^ want[i]);
  return diff == 0;
}

bool RefreshTokenCodec::well_formed(std::string_view token) {
  if (token.size() != kEncodedBytes) return false;
  auto raw = base64url::decode(token);
  return raw && raw->size() == kTokenBytes;
}

std::string RefreshTokenCodec::store_hash(std::string_view token) const {
  return pepper_.derive(kHashContext, token);
}

std::string RefreshTokenCodec::successor(std::string_view token) const {
  const auto raw = base64url::decode(token);
  std::string next = raw->substr(0, kFamilyTagBytes);
  next += pepper_.derive(kSuccessorContext, token).substr(0, kPrefixBytes - kFamilyTagBytes);
  return seal(std::move(next));
}

std::string RefreshTokenCodec::family_limit_key(std::string_view token) const {
  const auto raw = base64url::decode(token);
  return "refresh:fam:" +
         base64url::encode(
             pepper_.derive(kFamilyLimitContext, raw->substr(0, kFamilyTagBytes)).substr(0, 16));
}

std::string refresh_token_store_hash(const crypto::KeyedHasher& pepper, std::string_view token) {
  return RefreshTokenCodec(pepper).store_hash(token);
}

}  // namespace authd::auth
