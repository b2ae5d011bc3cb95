#include "contract/fixture.h"

#include <random>

#include "authd/core/clock.h"

namespace authd::store {
std::ostream& operator<<(std::ostream& os, Errc e) { return os << to_string(e); }
std::ostream& operator<<(std::ostream& os, const Error& e) {
  return os << to_string(e.code) << ": " << e.message;
}
}  // namespace authd::store

namespace authd::auth {
std::ostream& operator<<(std::ostream& os, RotateOutcome o) {
  switch (o) {
    case RotateOutcome::kRotated:
      return os << "kRotated";
    case RotateOutcome::kGraceReplay:
      return os << "kGraceReplay";
    case RotateOutcome::kReuseDetected:
      return os << "kReuseDetected";
    case RotateOutcome::kUnknown:
      return os << "kUnknown";
    case RotateOutcome::kRevoked:
      return os << "kRevoked";
    case RotateOutcome::kExpired:
      return os << "kExpired";
  }
  return os << "?";
}
}  // namespace authd::auth

namespace authd::contract {
namespace {

std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

}  // namespace

void ContractTest::SetUp() {
  test_db_ = std::make_unique<TestDatabase>(GetParam(), /*migrate=*/false);
  ASSERT_TRUE(test_db_->ok()) << test_db_->error();
}

void ContractTest::migrate() {
  auto v = db().migrate();
  ASSERT_TRUE(v) << v.error();
}

std::string new_uuid() {
  class Rng final : public Random {
   public:
    void fill(void* out, std::size_t n) override {
      auto* p = static_cast<unsigned char*>(out);
      for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(rng()());
    }
  } random;
  return make_uuid_v4(random);
}

std::string new_hash() {
  std::string h(32, '\0');
  for (auto& c : h) c = static_cast<char>(rng()() & 0xff);
  h[7] = '\0';  // always exercise an embedded NUL
  return h;
}

}  // namespace authd::contract
