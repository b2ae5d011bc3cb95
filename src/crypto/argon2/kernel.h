#pragma once
// Argon2's compression function G (RFC 9106 §3.5) over 1 KiB blocks, in one portable and two
// SIMD builds. Internal to src/crypto/argon2.

#include <cstddef>
#include <cstdint>

namespace authd::crypto::argon2::detail {

inline constexpr std::size_t kBlockBytes = 1024;
inline constexpr std::size_t kBlockWords = kBlockBytes / 8;

struct alignas(64) Block {
  std::uint64_t v[kBlockWords];
};

/// next = G(prev, ref), or next ^= G(prev, ref) when @p with_xor (passes after the first).
/// @p next may not alias @p prev or @p ref. @p scratch (2 blocks) holds the intermediate
/// values, so that the caller wipes them once per hash rather than the kernel once per block.
using FillFn = void (*)(const Block* prev, const Block* ref, Block* next, bool with_xor,
                        Block* scratch) noexcept;

void fill_portable(const Block* prev, const Block* ref, Block* next, bool with_xor,
                   Block* scratch) noexcept;
/// Only callable where the CPU has AVX2 (resp. AVX-512F); argon2.cpp checks before choosing.
void fill_avx2(const Block* prev, const Block* ref, Block* next, bool with_xor,
               Block* scratch) noexcept;
void fill_avx512(const Block* prev, const Block* ref, Block* next, bool with_xor,
                 Block* scratch) noexcept;

}  // namespace authd::crypto::argon2::detail
