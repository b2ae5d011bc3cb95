#pragma once
// Argon2's working memory, reused: a process-wide pool of arenas, each mapped, huge-page
// advised and faulted in once, so that a hash never maps, faults or unmaps memory (in one
// process those address-space changes serialise the hashing threads). Internal to
// src/crypto/argon2.

#include <cstddef>

namespace authd::crypto::argon2::detail {

/// One arena held by one hash at a time. Move-only; giving it back wipes what was used.
class Arena {
 public:
  Arena() = default;
  Arena(Arena&& other) noexcept;
  Arena& operator=(Arena&& other) noexcept;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  /// Wipes and returns the memory to the pool (or unmaps it if the pool keeps enough).
  ~Arena();

  /// An arena of at least @p bytes, wiped (all zero); empty (data() == nullptr) when the
  /// memory cannot be mapped. Thread-safe.
  static Arena acquire(std::size_t bytes) noexcept;

  void* data() const noexcept { return base_; }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  Arena(void* base, std::size_t capacity, std::size_t used) noexcept
      : base_(base), capacity_(capacity), used_(used) {}
  void* base_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;  // what this holder may have written, wiped on release
};

/// Bytes mapped by the pool: arenas in use plus idle ones.
std::size_t arena_bytes_mapped() noexcept;

}  // namespace authd::crypto::argon2::detail
