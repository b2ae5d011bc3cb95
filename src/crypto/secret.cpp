#include "authd/crypto/secret.h"

#include <sodium.h>

#include <cstring>
#include <ostream>
#include <utility>

#include "authd/crypto/init.h"

namespace authd::crypto {

Secret::Secret(std::string_view bytes) {
  if (bytes.empty()) return;
  data_ = new unsigned char[bytes.size()];
  size_ = bytes.size();
  std::memcpy(data_, bytes.data(), bytes.size());
}

Secret Secret::random(std::size_t size) {
  Secret s = zeroed(size);
  // randombytes_buf aborts rather than return weak bytes, so there is no error to report.
  init();
  if (size > 0) randombytes_buf(s.data_, size);
  return s;
}

Secret Secret::zeroed(std::size_t size) {
  Secret s;
  if (size == 0) return s;
  s.data_ = new unsigned char[size]();
  s.size_ = size;
  return s;
}

Secret::Secret(Secret&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    wipe();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

Secret::~Secret() { wipe(); }

Secret Secret::clone() const { return Secret(view()); }

void Secret::truncate(std::size_t size) noexcept {
  if (size >= size_) return;
  sodium_memzero(data_ + size, size_ - size);
  size_ = size;
  // The block keeps its original capacity; wipe() clears only size_ bytes, and the tail
  // was cleared just now, so nothing secret outlives the Secret.
  if (size_ == 0) wipe();
}

bool Secret::equals(const Secret& other) const noexcept { return equals(other.view()); }

bool Secret::equals(std::string_view other) const noexcept {
  if (other.size() != size_) return false;
  if (size_ == 0) return true;
  return sodium_memcmp(data_, other.data(), size_) == 0;
}

void Secret::wipe() noexcept {
  if (data_ != nullptr) {
    sodium_memzero(data_, size_);
    delete[] data_;
  }
  data_ = nullptr;
  size_ = 0;
}

void PrintTo(const Secret& secret, std::ostream* os) {
  *os << "Secret(" << secret.size() << " bytes, redacted)";
}

}  // namespace authd::crypto
