// CodeStore contract (authorization codes). Runs against every backend.

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "contract/fixture.h"

namespace authd::contract {
namespace {

using auth::AuthorizationCode;

class CodeStoreContract : public ContractTest {
 protected:
  void SetUp() override {
    ContractTest::SetUp();
    if (HasFatalFailure()) return;
    migrate();
    auth::User u;
    u.id = user_id_ = new_uuid();
    u.email = u.id + "@example.com";
    u.password_hash = "h";
    u.created_at = u.updated_at = kT0;
    ASSERT_TRUE(db().users().create(u));
  }
  auth::CodeStore& codes() { return db().codes(); }

  AuthorizationCode make_code(const std::string& browser = "b-1") {
    AuthorizationCode c;
    c.hash = new_hash();
    c.client_id = "web";
    c.user_id = user_id_;
    c.redirect_uri = "https://app.example/cb";
    c.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    c.scope = "openid email";
    c.nonce = "n-1";
    c.browser_session_id = browser;
    c.auth_time = kT0 - 5;
    c.expires_at = kT0 + 60;
    return c;
  }

  std::string user_id_;
};

TEST_P(CodeStoreContract, RedeemOnceThenReportTheFirstFamily) {
  const AuthorizationCode c = make_code();
  ASSERT_TRUE(codes().create(c));
  const std::string family = new_uuid();
  auto first = codes().redeem(c.hash, kT0 + 1, family);
  ASSERT_TRUE(first) << first.error();
  ASSERT_TRUE(first->has_value());
  EXPECT_TRUE((*first)->first_use);
  EXPECT_EQ((*first)->session_id, family);
  const AuthorizationCode& got = (*first)->code;
  EXPECT_EQ(got.client_id, c.client_id);
  EXPECT_EQ(got.user_id, c.user_id);
  EXPECT_EQ(got.redirect_uri, c.redirect_uri);
  EXPECT_EQ(got.code_challenge, c.code_challenge);
  EXPECT_EQ(got.scope, c.scope);
  EXPECT_EQ(got.nonce, c.nonce);
  EXPECT_EQ(got.browser_session_id, c.browser_session_id);
  EXPECT_EQ(got.auth_time, c.auth_time);
  EXPECT_EQ(got.expires_at, c.expires_at);

  auto second = codes().redeem(c.hash, kT0 + 2, new_uuid());
  ASSERT_TRUE(second) << second.error();
  ASSERT_TRUE(second->has_value());
  EXPECT_FALSE((*second)->first_use);
  EXPECT_EQ((*second)->session_id, family);
}

TEST_P(CodeStoreContract, UnknownCodeIsNothing) {
  auto r = codes().redeem(new_hash(), kT0, new_uuid());
  ASSERT_TRUE(r) << r.error();
  EXPECT_FALSE(r->has_value());
}

TEST_P(CodeStoreContract, DuplicateHashIsConflict) {
  const AuthorizationCode c = make_code();
  ASSERT_TRUE(codes().create(c));
  auto again = codes().create(c);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, store::Errc::kConflict);
}

// A code minted through one handle (replica) is redeemed through another, once.
TEST_P(CodeStoreContract, RedeemedOnAnotherReplica) {
  const AuthorizationCode c = make_code();
  ASSERT_TRUE(codes().create(c));
  auto other = test_db_->open();
  ASSERT_TRUE(other) << other.error();
  auto r = (*other)->codes().redeem(c.hash, kT0 + 1, new_uuid());
  ASSERT_TRUE(r && r->has_value());
  EXPECT_TRUE((*r)->first_use);
  auto again = codes().redeem(c.hash, kT0 + 1, new_uuid());
  ASSERT_TRUE(again && again->has_value());
  EXPECT_FALSE((*again)->first_use);
}

TEST_P(CodeStoreContract, ConcurrentRedeemsHaveOneFirstUse) {
  const AuthorizationCode c = make_code();
  ASSERT_TRUE(codes().create(c));
  std::vector<testing::DatabasePtr> replicas;
  for (int i = 0; i < 4; ++i) {
    auto h = test_db_->open();
    ASSERT_TRUE(h) << h.error();
    replicas.push_back(std::move(*h));
  }
  std::atomic<int> first{0}, seen{0};
  std::vector<std::thread> threads;
  for (auto& r : replicas)
    threads.emplace_back([&, replica = r.get()] {
      auto x = replica->codes().redeem(c.hash, kT0 + 1, new_uuid());
      if (x && x->has_value()) {
        ++seen;
        if ((*x)->first_use) ++first;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen.load(), 4);
  EXPECT_EQ(first.load(), 1);
}

TEST_P(CodeStoreContract, FamiliesOfABrowserSession) {
  const AuthorizationCode a = make_code("b-1"), b = make_code("b-1"), other = make_code("b-2"),
                          unused = make_code("b-1");
  for (const auto* c : {&a, &b, &other, &unused}) ASSERT_TRUE(codes().create(*c));
  const std::string fa = new_uuid(), fb = new_uuid();
  ASSERT_TRUE(codes().redeem(a.hash, kT0, fa));
  ASSERT_TRUE(codes().redeem(b.hash, kT0, fb));
  ASSERT_TRUE(codes().redeem(other.hash, kT0, new_uuid()));
  auto f = codes().families("b-1");
  ASSERT_TRUE(f) << f.error();
  std::vector<std::string> want{fa, fb};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(*f, want);
}

TEST_P(CodeStoreContract, PurgeKeepsCodesWhoseFamilyLives) {
  const AuthorizationCode unused = make_code(), redeemed_gone = make_code();
  ASSERT_TRUE(codes().create(unused));
  ASSERT_TRUE(codes().create(redeemed_gone));
  ASSERT_TRUE(codes().redeem(redeemed_gone.hash, kT0, new_uuid()));
  auto early = codes().purge(kT0 + 60, 100);  // nothing expired before the cutoff yet
  ASSERT_TRUE(early) << early.error();
  EXPECT_EQ(*early, 0u);
  auto later = codes().purge(kT0 + 61, 100);
  ASSERT_TRUE(later) << later.error();
  EXPECT_EQ(*later, 2u);  // the family was never created, so both go
  auto r = codes().redeem(unused.hash, kT0, new_uuid());
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
}

AUTHD_INSTANTIATE_CONTRACT(CodeStoreContract);

}  // namespace
}  // namespace authd::contract
