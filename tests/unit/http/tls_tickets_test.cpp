// TicketKeys: which key seals and which keys open session tickets, over time.

#include "http/tls_tickets.h"

#include <gtest/gtest.h>

#include <atomic>

namespace authd::http {
namespace {

class TicketKeysTest : public ::testing::Test {
 protected:
  std::atomic<std::int64_t> now_{1'700'000'000};
  TicketKeys keys_{std::chrono::hours(1), [this] { return now_.load(); }};
};

TEST_F(TicketKeysTest, OneKeySealsForOnePeriodThenANewOne) {
  const auto first = keys_.current();
  ASSERT_TRUE(first);
  now_ += 3599;
  EXPECT_EQ(keys_.current()->name, first->name);
  now_ += 1;
  const auto second = keys_.current();
  EXPECT_NE(second->name, first->name);
  EXPECT_NE(second->aes, first->aes);
  EXPECT_NE(second->hmac, first->hmac);
}

TEST_F(TicketKeysTest, CurrentKeyOpensTicketsWithoutRenewal) {
  const auto k = keys_.current();
  auto found = keys_.find(k->name.data());
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->renew);
  EXPECT_EQ(found->key.aes, k->aes);
}

TEST_F(TicketKeysTest, PreviousKeyStillOpensAndAsksForAFreshTicket) {
  const auto old = keys_.current();
  now_ += 3600;
  (void)keys_.current();  // rotated
  auto found = keys_.find(old->name.data());
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->renew);
  EXPECT_EQ(found->key.hmac, old->hmac);
}

TEST_F(TicketKeysTest, KeyTwoPeriodsOldOpensNothing) {
  const auto old = keys_.current();
  now_ += 3600;
  (void)keys_.current();
  now_ += 3600;  // the old key is two periods old: forward secrecy for what it sealed
  EXPECT_FALSE(keys_.find(old->name.data()));
}

TEST_F(TicketKeysTest, IdleServerStillExpiresOldKeys) {
  // No ticket was sealed for a long time: the key is not kept because nothing replaced it.
  const auto old = keys_.current();
  now_ += 5 * 3600;
  EXPECT_FALSE(keys_.find(old->name.data()));
}

TEST_F(TicketKeysTest, UnknownNameOpensNothing) {
  (void)keys_.current();
  const unsigned char name[16] = {1, 2, 3};
  EXPECT_FALSE(keys_.find(name));
}

}  // namespace
}  // namespace authd::http
