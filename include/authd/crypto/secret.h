#pragma once
// Secret: an owned byte string for keys, peppers and passwords that is wiped when released.

#include <cstddef>
#include <iosfwd>
#include <string_view>

namespace authd::crypto {

/// Move-only owner of secret bytes (keys, peppers, passwords).
///
/// - The bytes live in one heap block that is overwritten with zeros (sodium_memzero) when the
///   Secret is destroyed or assigned over; a move transfers the block, leaving the source empty,
///   so no second copy is ever left behind by the type itself.
/// - There is deliberately no operator<<, no fmt formatter, no implicit conversion and no
///   operator==: printing or comparing a Secret by accident does not compile. Use view() when
///   the bytes are really needed and equals() to compare in constant time.
/// - GoogleTest output is redacted through PrintTo below.
///
/// Not thread-safe for concurrent mutation; concurrent const access is safe.
class Secret {
 public:
  /// An empty secret.
  Secret() noexcept = default;
  /// Copies @p bytes into a new secret. The caller remains responsible for its own copy.
  explicit Secret(std::string_view bytes);
  /// A secret of @p size bytes from libsodium's CSPRNG.
  static Secret random(std::size_t size);
  /// A zero-filled secret of @p size bytes, to be filled in place through data().
  static Secret zeroed(std::size_t size);

  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  /// An explicit deep copy, for the rare owner that must keep the original (greppable on
  /// purpose: copies of secrets should be visible in review).
  Secret clone() const;

  /// Read-only view of the bytes; valid until this Secret is modified, moved from or destroyed.
  std::string_view view() const noexcept { return {reinterpret_cast<const char*>(data_), size_}; }
  const unsigned char* data() const noexcept { return data_; }
  unsigned char* data() noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  /// Shrinks to the first @p size bytes, wiping the rest. No-op when @p size >= size().
  void truncate(std::size_t size) noexcept;

  /// Constant-time comparison of the contents (sodium_memcmp). Lengths are not secret: secrets
  /// of different lengths compare unequal immediately.
  bool equals(const Secret& other) const noexcept;
  bool equals(std::string_view other) const noexcept;

  /// Printing a Secret is a compile error.
  friend std::ostream& operator<<(std::ostream&, const Secret&) = delete;

 private:
  void wipe() noexcept;

  unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};

/// GoogleTest printer hook: failed assertions show the length, never the bytes.
void PrintTo(const Secret& secret, std::ostream* os);

}  // namespace authd::crypto
