// KeyStore contract: listing and exclusive rotation. Runs against every backend.

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "contract/fixture.h"
#include "support/eventually.h"

namespace authd::contract {
namespace {

using keys::KeyChanges;
using keys::StoredKey;
using store::Errc;

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

StoredKey make_key(const std::string& kid, std::int64_t activate_at) {
  StoredKey k;
  k.kid = kid;
  k.alg = "ES256";
  k.public_jwk =
      R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":")" +
      kid + R"("})";
  // Binary, with NUL and high bytes, as secretbox output is.
  k.sealed_private = std::string("\x01\x00\xff\x7f", 4) + new_hash();
  k.created_at = activate_at - 10;
  k.activate_at = activate_at;
  k.retire_at = kNever;
  k.remove_at = kNever;
  return k;
}

void expect_same(const StoredKey& a, const StoredKey& b) {
  EXPECT_EQ(a.kid, b.kid);
  EXPECT_EQ(a.alg, b.alg);
  EXPECT_EQ(a.public_jwk, b.public_jwk);
  EXPECT_EQ(a.sealed_private, b.sealed_private);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.activate_at, b.activate_at);
  EXPECT_EQ(a.retire_at, b.retire_at);
  EXPECT_EQ(a.remove_at, b.remove_at);
}

class KeyStoreContract : public ContractTest {
 protected:
  void SetUp() override {
    ContractTest::SetUp();
    if (HasFatalFailure()) return;
    migrate();
  }
  keys::KeyStore& keys() { return db().keys(); }

  std::vector<StoredKey> listed() {
    auto r = keys().list();
    EXPECT_TRUE(r) << r.error();
    return r ? *r : std::vector<StoredKey>{};
  }

  void apply(const KeyChanges& changes) {
    auto r = keys().rotate_exclusive([&](const std::vector<StoredKey>&) { return changes; });
    ASSERT_TRUE(r) << r.error();
    EXPECT_TRUE(*r);
  }
};

TEST_P(KeyStoreContract, EmptyAfterMigrate) { EXPECT_TRUE(listed().empty()); }

// Keys come back ordered by activate_at whatever the insertion order, and every field
// (binary sealed key, INT64_MAX "never") round-trips.
TEST_P(KeyStoreContract, ListIsOrderedByActivateAt) {
  StoredKey c = make_key("kid-c", kT0 + 300);
  StoredKey a = make_key("kid-a", kT0 + 100);
  StoredKey b = make_key("kid-b", kT0 + 200);
  apply({{c, a, b}, {}, {}});
  auto keys = listed();
  ASSERT_EQ(keys.size(), 3u);
  expect_same(keys[0], a);
  expect_same(keys[1], b);
  expect_same(keys[2], c);
}

// The plan sees the current keys; its inserts, updates (timestamps) and removals are applied.
TEST_P(KeyStoreContract, RotateExclusiveAppliesInsertUpdateRemove) {
  StoredKey k1 = make_key("kid-1", kT0);
  StoredKey k2 = make_key("kid-2", kT0 + 100);
  apply({{k1, k2}, {}, {}});

  StoredKey k3 = make_key("kid-3", kT0 + 200);
  std::vector<StoredKey> seen;
  auto r = keys().rotate_exclusive([&](const std::vector<StoredKey>& current) {
    seen = current;
    StoredKey retiring = k1;
    retiring.retire_at = kT0 + 200;
    retiring.remove_at = kT0 + 900;
    return KeyChanges{{k3}, {retiring}, {"kid-2"}};
  });
  ASSERT_TRUE(r) << r.error();
  EXPECT_TRUE(*r);
  ASSERT_EQ(seen.size(), 2u);
  expect_same(seen[0], k1);
  expect_same(seen[1], k2);

  auto keys = listed();
  ASSERT_EQ(keys.size(), 2u);
  StoredKey expected1 = k1;
  expected1.retire_at = kT0 + 200;
  expected1.remove_at = kT0 + 900;
  expect_same(keys[0], expected1);
  expect_same(keys[1], k3);
}

// A change that cannot be applied rolls the whole plan back.
TEST_P(KeyStoreContract, UpdateOfUnknownKidRollsBack) {
  auto r = keys().rotate_exclusive([&](const std::vector<StoredKey>&) {
    return KeyChanges{{make_key("kid-new", kT0)}, {make_key("kid-missing", kT0)}, {}};
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kNotFound) << r.error();
  EXPECT_TRUE(listed().empty());
}

TEST_P(KeyStoreContract, DuplicateInsertIsConflictAndRollsBack) {
  apply({{make_key("kid-1", kT0)}, {}, {}});
  auto r = keys().rotate_exclusive([&](const std::vector<StoredKey>&) {
    return KeyChanges{{make_key("kid-2", kT0), make_key("kid-1", kT0)}, {}, {}};
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kConflict) << r.error();
  EXPECT_EQ(listed().size(), 1u);
}

// An exception from the plan (another module's code) becomes an error and nothing is applied.
TEST_P(KeyStoreContract, PlanExceptionRollsBack) {
  auto r = keys().rotate_exclusive([&](const std::vector<StoredKey>&) -> KeyChanges {
    throw std::runtime_error("key generation failed");
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInternal);
  EXPECT_TRUE(listed().empty());
  // The lock was released: the next rotation runs.
  apply({{make_key("kid-1", kT0)}, {}, {}});
}

// Two replicas (separate handles, separate connections) rotate at once: exactly one runs its
// plan, the other returns false without calling it.
void run_two_rotations(keys::KeyStore& a, keys::KeyStore& b, const std::vector<StoredKey>& out) {
  std::atomic<int> plans{0};
  std::atomic<int> returned{0};
  std::barrier start(2);
  store::StoreResult<bool> ra = false, rb = false;
  auto plan = [&](const std::vector<StoredKey>&) {
    ++plans;
    // Hold the lock until the other replica has tried and given up. A store that waited for
    // the lock instead would be released at the deadline and run the plan twice.
    testing::eventually([&] { return returned.load() > 0; }, std::chrono::seconds(10));
    return KeyChanges{out, {}, {}};
  };
  std::thread ta([&] {
    start.arrive_and_wait();
    ra = a.rotate_exclusive(plan);
    ++returned;
  });
  std::thread tb([&] {
    start.arrive_and_wait();
    rb = b.rotate_exclusive(plan);
    ++returned;
  });
  ta.join();
  tb.join();
  ASSERT_TRUE(ra) << ra.error();
  ASSERT_TRUE(rb) << rb.error();
  EXPECT_EQ(plans.load(), 1);
  EXPECT_NE(*ra, *rb) << "exactly one of the two must have rotated";
}

TEST_P(KeyStoreContract, ConcurrentRotateFromTwoReplicasRunsPlanOnce) {
  auto other = test_db_->open();
  ASSERT_TRUE(other) << other.error();
  run_two_rotations(keys(), (*other)->keys(), {make_key("kid-1", kT0)});
  EXPECT_EQ(listed().size(), 1u);
}

TEST_P(KeyStoreContract, ConcurrentRotateInOneProcessRunsPlanOnce) {
  run_two_rotations(keys(), keys(), {make_key("kid-1", kT0)});
  EXPECT_EQ(listed().size(), 1u);
}

AUTHD_INSTANTIATE_CONTRACT(KeyStoreContract);

}  // namespace
}  // namespace authd::contract
