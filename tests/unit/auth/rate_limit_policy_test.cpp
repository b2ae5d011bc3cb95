// Which limits a login, a refresh and a token request pass, in which order, and the 429.

#include "authd/auth/rate_limit_policy.h"

#include <gtest/gtest.h>

#include <vector>

#include "authd/crypto/init.h"
#include "support/counting_limiter.h"

namespace authd::auth {
namespace {

using testing::CountingLimiter;

class RateLimitPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::init());
    settings_.login_per_ip = {60, 3};
    settings_.login_per_account = {60, 2};
    settings_.login_failures = {2, 5};
    settings_.refresh_per_ip = {600, 2};
    settings_.refresh_per_family = {30, 1};
    settings_.token_per_client = {60, 1};
    login_limiter_.retry_after_ms = 2500;
  }
  Settings settings_;
  crypto::KeyedHasher pepper_{crypto::Secret::random(32)};
  CountingLimiter login_limiter_, refresh_limiter_;
  RateLimitPolicy policy_{&login_limiter_, &refresh_limiter_, settings_, pepper_};
};

TEST_F(RateLimitPolicyTest, WithoutLimitersEverythingIsAdmitted) {
  RateLimitPolicy none(nullptr, nullptr, settings_, pepper_);
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(none.admit_login("192.0.2.1", "acct"));
    EXPECT_FALSE(none.admit_client("svc"));
    EXPECT_FALSE(none.admit_refresh_address("192.0.2.1"));
  }
  EXPECT_FALSE(none.limits_refresh());
  EXPECT_FALSE(none.refresh_checks_block());
}

TEST_F(RateLimitPolicyTest, LoginCountsTheAddressThenTheAccount) {
  const std::string acct = policy_.account_key("alice@example.com");
  EXPECT_FALSE(policy_.admit_login("192.0.2.1", acct));
  ASSERT_EQ(login_limiter_.asked().size(), 3u);
  EXPECT_EQ(login_limiter_.asked()[0], "login:ip:192.0.2.1");
  EXPECT_EQ(login_limiter_.asked()[1], "login:acct:" + acct);
  EXPECT_EQ(login_limiter_.asked()[2], "login:fail:" + acct + ":192.0.2.1");
  EXPECT_FALSE(policy_.admit_login("192.0.2.2", acct));
  auto denied = policy_.admit_login("192.0.2.3", acct);  // the account's burst of 2 is spent
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->code, Errc::kRateLimited);
  EXPECT_EQ(denied->limit, 2);
  EXPECT_EQ(denied->retry_after_s, 3);  // 2500 ms rounded up
}

TEST_F(RateLimitPolicyTest, AnAddressRefusalStopsBeforeTheAccountIsCounted) {
  for (int i = 0; i < 3; ++i)
    EXPECT_FALSE(policy_.admit_login("192.0.2.1", "acct" + std::to_string(i)));
  login_limiter_.forget_asked();
  EXPECT_TRUE(policy_.admit_login("192.0.2.1", "victim"));
  EXPECT_EQ(login_limiter_.asked(), std::vector<std::string>{"login:ip:192.0.2.1"});
}

TEST_F(RateLimitPolicyTest, AttemptsSpendTheBackoffBudgetAndASuccessClearsIt) {
  Settings roomy = settings_;
  roomy.login_per_ip = roomy.login_per_account = {6000, 1000};
  RateLimitPolicy policy(&login_limiter_, nullptr, roomy, pepper_);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(policy.admit_login("192.0.2.1", "acct")) << i;
  auto denied = policy.admit_login("192.0.2.1", "acct");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->description, "Too many failed attempts; retry later.");
  EXPECT_EQ(denied->window_s, 150);  // 5 at 2/min: the failure limit's own window
  EXPECT_EQ(denied->limit, 5);
  EXPECT_FALSE(policy.admit_login("192.0.2.1", "other-acct"));
  policy.login_succeeded("192.0.2.1", "acct");
  EXPECT_FALSE(policy.admit_login("192.0.2.1", "acct"));
}

// Six wrong guesses from anywhere locked the real user out: their correct password got 429,
// and one guess every 30 s kept them out.
TEST_F(RateLimitPolicyTest, GuessesFromOneAddressNeverLockTheUserOutElsewhere) {
  Settings roomy = settings_;
  roomy.login_per_ip = {6000, 1000};
  roomy.login_per_account = {120, 60};
  RateLimitPolicy policy(&login_limiter_, nullptr, roomy, pepper_);
  for (int i = 0; i < 20; ++i) (void)policy.admit_login("203.0.113.66", "victim");
  EXPECT_TRUE(policy.admit_login("203.0.113.66", "victim")) << "the guesser is backed off";
  EXPECT_FALSE(policy.admit_login("192.0.2.10", "victim")) << "the user, elsewhere, is not";
}

// The login path peeked at the failure bucket and charged it only after the hash: 8 parallel
// guesses all passed the peek after a single refill. Each attempt is now charged up front.
TEST_F(RateLimitPolicyTest, ParallelGuessesCannotAllPassOneLookAtTheBucket) {
  Settings roomy = settings_;
  roomy.login_per_ip = roomy.login_per_account = {6000, 1000};
  RateLimitPolicy policy(&login_limiter_, nullptr, roomy, pepper_);
  int admitted = 0;
  for (int i = 0; i < 8; ++i)  // all admitted before any of them is found wrong
    if (!policy.admit_login("192.0.2.1", "acct")) ++admitted;
  EXPECT_EQ(admitted, 5);
}

TEST_F(RateLimitPolicyTest, TheOne429CarriesRetryAfterLimitWindowAndReset) {
  Decision d;
  d.allowed = false;
  d.limit = 10;
  d.retry_after_ms = 1;
  d.reset_ms = 12'001;
  const Error e = RateLimitPolicy::rate_limited(d, Limit{30, 10});
  EXPECT_EQ(e.code, Errc::kRateLimited);
  EXPECT_EQ(e.retry_after_s, 1);  // never 0: a client must wait
  EXPECT_EQ(e.limit, 10);
  EXPECT_EQ(e.window_s, 20);
  EXPECT_EQ(e.reset_s, 13);
  EXPECT_EQ(RateLimitPolicy::rate_limited(d, Limit{0, 10}).window_s, 60);
}

TEST_F(RateLimitPolicyTest, AccountKeysAreKeyedHashesThatNameNoEmail) {
  const std::string a = policy_.account_key("alice@example.com");
  EXPECT_EQ(a, policy_.account_key("alice@example.com"));
  EXPECT_NE(a, policy_.account_key("bob@example.com"));
  EXPECT_EQ(a.find("alice"), std::string::npos);
  crypto::KeyedHasher other(crypto::Secret::random(32));
  EXPECT_NE(RateLimitPolicy(nullptr, nullptr, settings_, other).account_key("alice@example.com"),
            a);
}

TEST_F(RateLimitPolicyTest, TokenRequestsAreCountedPerClientOnTheLoginLimiter) {
  EXPECT_FALSE(policy_.admit_client("svc"));
  EXPECT_TRUE(policy_.admit_client("svc"));
  EXPECT_FALSE(policy_.admit_client("other"));
  EXPECT_EQ(login_limiter_.asked().front(), "token:client:svc");
  EXPECT_TRUE(refresh_limiter_.asked().empty());
}

TEST_F(RateLimitPolicyTest, RefreshLimitsUseTheirOwnLimiterAndAsyncAgreesWithSync) {
  EXPECT_TRUE(policy_.limits_refresh());
  EXPECT_FALSE(policy_.admit_refresh_address("192.0.2.9"));
  std::vector<std::optional<Error>> answers;
  policy_.admit_refresh_address_async("192.0.2.9",
                                      [&](std::optional<Error> e) { answers.push_back(e); });
  policy_.admit_refresh_address_async("192.0.2.9",
                                      [&](std::optional<Error> e) { answers.push_back(e); });
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_FALSE(answers[0]);
  ASSERT_TRUE(answers[1]);
  EXPECT_EQ(answers[1]->limit, 2);
  EXPECT_FALSE(policy_.admit_refresh_family("refresh:fam:x"));
  EXPECT_TRUE(policy_.admit_refresh_family("refresh:fam:x"));
  EXPECT_EQ(refresh_limiter_.asked().front(), "refresh:ip:192.0.2.9");
  EXPECT_TRUE(login_limiter_.asked().empty());
}

}  // namespace
}  // namespace authd::auth
