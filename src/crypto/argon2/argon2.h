#pragma once
// Argon2 (RFC 9106, version 0x13), authd's own: the memory comes from a pool of reused,
// pre-faulted arenas (never mapped per hash) and the compression function runs with the widest
// SIMD the CPU has. Internal to src/crypto; password.h is the public face.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace authd::crypto::argon2 {

/// The variant, numbered as RFC 9106's y.
enum class Type : std::uint32_t { kArgon2d = 0, kArgon2i = 1, kArgon2id = 2 };

/// The compression-function implementations. kAuto picks the widest the CPU supports.
enum class Kernel { kAuto, kPortable, kAvx2, kAvx512 };

/// Whether this CPU (and build) can run @p kernel; kAuto and kPortable always can.
bool kernel_supported(Kernel kernel) noexcept;
/// The kernel kAuto resolves to on this CPU.
Kernel best_kernel() noexcept;
std::string_view kernel_name(Kernel kernel) noexcept;

struct Params {
  Type type = Type::kArgon2id;
  /// Passes (t), at least 1.
  std::uint32_t t_cost = 2;
  /// Memory in KiB (m), at least 8 * lanes.
  std::uint32_t m_cost_kib = 19 * 1024;
  /// Parallelism (p), 1 to 2^24 - 1. Lanes are filled one after another on the calling thread.
  std::uint32_t lanes = 1;
};

/// What is hashed: P, S, K and X of RFC 9106 §3.2.
struct Inputs {
  std::span<const unsigned char> password = {};
  std::span<const unsigned char> salt = {};
  std::span<const unsigned char> secret = {};
  std::span<const unsigned char> associated = {};
};

/// Smallest and largest lengths accepted (RFC 9106 §3.1; the tag's minimum is libsodium's).
inline constexpr std::size_t kMinSalt = 8;
inline constexpr std::size_t kMinTag = 16;
inline constexpr std::uint32_t kMaxLanes = 0xFFFFFF;

/// Whether @p params and the input lengths are valid for hash().
bool valid(const Params& params, const Inputs& in, std::size_t tag_len) noexcept;

/// Computes the Argon2 tag of @p in into @p tag (its size is the tag length, >= kMinTag).
/// Uses an arena from the process-wide pool and wipes it before returning it.
/// @return false for invalid parameters or when the arena cannot be allocated.
/// Thread-safe; each concurrent call holds its own arena.
bool hash(const Params& params, const Inputs& in, std::span<unsigned char> tag,
          Kernel kernel = Kernel::kAuto) noexcept;

/// Bytes the pool currently holds in arenas (in use or idle), for tests and metrics.
std::size_t arena_bytes() noexcept;

}  // namespace authd::crypto::argon2
