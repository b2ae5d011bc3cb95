#pragma once
// The verification hot path for tokens whose header and claims are flat JSON (flat_json.h):
// the same steps and verdicts as jose::verify(), without building JSON DOMs. Internal to
// src/jose and the verifier built on it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "authd/jose/jws.h"
#include "jose/flat_json.h"

namespace authd::jose::detail {

/// What fast_verify() fills in. The Flat objects point into the decoded texts held here, so
/// the struct is filled in place and never moved or copied.
struct FastVerified {
  FastVerified() = default;
  FastVerified(const FastVerified&) = delete;
  FastVerified& operator=(const FastVerified&) = delete;

  // The segments are decoded in place, without allocating: no header segment is longer than
  // kMaxHeaderSegment; a longer signature than kMaxSignature (RSA-8192) takes the other path,
  // which refuses it for its length; a longer payload than kInlinePayload goes to the heap.
  static constexpr std::size_t kMaxHeader = kMaxHeaderSegment / 4 * 3;
  static constexpr std::size_t kMaxSignature = 1024;
  static constexpr std::size_t kInlinePayload = 4096;
  unsigned char header_bytes[kMaxHeader];
  unsigned char signature_bytes[kMaxSignature];
  unsigned char payload_bytes[kInlinePayload];
  std::string payload_heap;
  std::string_view header_text;
  std::string_view signature;
  std::string_view payload;
  FlatObject header;
  FlatObject claims;
  KeyPtr key;
};

/// std::nullopt when the token is outside the hot path's shape (not three base64url segments
/// of flat JSON objects, or anything verify() would reject before its policy checks): the
/// caller must then call verify(), which gives the verdict. Otherwise exactly what verify()
/// returns for the token: success (with `out` filled) or the error.
std::optional<Result<void, Errc>> fast_verify(std::string_view token, const KeyLookup& keys,
                                              std::int64_t now, const VerifyOptions& opts,
                                              FastVerified& out);

}  // namespace authd::jose::detail
