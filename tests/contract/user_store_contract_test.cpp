// UserStore contract. Runs against every backend.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "contract/fixture.h"

namespace authd::contract {
namespace {

using auth::User;
using store::Errc;

User make_user(const std::string& email) {
  User u;
  u.id = new_uuid();
  u.email = email;
  u.password_hash = "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
  u.roles = {"user"};
  u.tenant_id = "";
  u.created_at = kT0;
  u.updated_at = kT0;
  return u;
}

void expect_same(const User& a, const User& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.email, b.email);
  EXPECT_EQ(a.password_hash, b.password_hash);
  EXPECT_EQ(a.roles, b.roles);
  EXPECT_EQ(a.tenant_id, b.tenant_id);
  EXPECT_EQ(a.disabled, b.disabled);
  EXPECT_EQ(a.session_version, b.session_version);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
}

class UserStoreContract : public ContractTest {
 protected:
  void SetUp() override {
    ContractTest::SetUp();
    if (HasFatalFailure()) return;
    migrate();
  }
  auth::UserStore& users() { return db().users(); }

  User created(const std::string& email) {
    User u = make_user(email);
    auto r = users().create(u);
    EXPECT_TRUE(r) << r.error();
    return u;
  }

  User fetch(const std::string& id) {
    auto r = users().find_by_id(id);
    EXPECT_TRUE(r) << r.error();
    if (!r || !r->has_value()) {
      ADD_FAILURE() << "user " << id << " not found";
      return {};
    }
    return **r;
  }
};

// Every field round-trips, including roles that need quoting in a Postgres array or JSON.
TEST_P(UserStoreContract, CreateAndFindByEmailAndId) {
  User u = make_user("alice@example.com");
  u.roles = {"admin", "a,b",      "quote\"d", "back\\slash",   "",
             "NULL",  "{braces}", "sp ace",   "\xc3\xbcnicode"};
  u.tenant_id = "tenant-7";
  u.session_version = 3;
  u.updated_at = kT0 + 5;
  auto r = users().create(u);
  ASSERT_TRUE(r) << r.error();

  auto by_email = users().find_by_email("alice@example.com");
  ASSERT_TRUE(by_email) << by_email.error();
  ASSERT_TRUE(by_email->has_value());
  expect_same(**by_email, u);

  auto by_id = users().find_by_id(u.id);
  ASSERT_TRUE(by_id) << by_id.error();
  ASSERT_TRUE(by_id->has_value());
  expect_same(**by_id, u);
}

// Emails are stored lower-case and looked up case-insensitively.
TEST_P(UserStoreContract, EmailIsStoredLowerCaseAndMatchedIgnoringCase) {
  User u = make_user("Bob.Smith@Example.COM");
  ASSERT_TRUE(users().create(u));
  auto found = users().find_by_email("BOB.SMITH@example.com");
  ASSERT_TRUE(found) << found.error();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, u.id);
  EXPECT_EQ((*found)->email, "bob.smith@example.com");
}

TEST_P(UserStoreContract, DuplicateEmailIsConflict) {
  created("carol@example.com");
  auto r = users().create(make_user("carol@example.com"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kConflict) << r.error();
}

TEST_P(UserStoreContract, DuplicateEmailDifferingOnlyInCaseIsConflict) {
  created("dave@example.com");
  auto r = users().create(make_user("DAVE@Example.com"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kConflict) << r.error();
}

TEST_P(UserStoreContract, DuplicateIdIsConflict) {
  User first = created("erin@example.com");
  User second = make_user("frank@example.com");
  second.id = first.id;
  auto r = users().create(second);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kConflict) << r.error();
}

// Unknown and malformed ids are "not found", never an error.
TEST_P(UserStoreContract, UnknownUserIsNotFound) {
  auto by_email = users().find_by_email("nobody@example.com");
  ASSERT_TRUE(by_email) << by_email.error();
  EXPECT_FALSE(by_email->has_value());
  auto by_id = users().find_by_id(new_uuid());
  ASSERT_TRUE(by_id) << by_id.error();
  EXPECT_FALSE(by_id->has_value());
  auto malformed = users().find_by_id("not-a-uuid");
  ASSERT_TRUE(malformed) << malformed.error();
  EXPECT_FALSE(malformed->has_value());
}

// Every update of an unknown (or malformed) id is kNotFound.
TEST_P(UserStoreContract, UpdatesOfUnknownUserAreNotFound) {
  for (const std::string& id : {new_uuid(), std::string("not-a-uuid")}) {
    auto a = users().set_password_hash(id, "h", kT0);
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().code, Errc::kNotFound);
    auto b = users().set_disabled(id, true, kT0);
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().code, Errc::kNotFound);
    auto c = users().set_roles(id, {"x"}, kT0);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, Errc::kNotFound);
    auto d = users().bump_session_version(id, kT0);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, Errc::kNotFound);
  }
}

TEST_P(UserStoreContract, SetPasswordHashReplacesHashAndUpdatedAt) {
  User u = created("gina@example.com");
  auto r = users().set_password_hash(u.id, "$argon2id$new", kT0 + 60);
  ASSERT_TRUE(r) << r.error();
  User expected = u;
  expected.password_hash = "$argon2id$new";
  expected.updated_at = kT0 + 60;
  expect_same(fetch(u.id), expected);
}

TEST_P(UserStoreContract, SetDisabledTogglesFlag) {
  User u = created("hank@example.com");
  ASSERT_TRUE(users().set_disabled(u.id, true, kT0 + 1));
  EXPECT_TRUE(fetch(u.id).disabled);
  EXPECT_EQ(fetch(u.id).updated_at, kT0 + 1);
  ASSERT_TRUE(users().set_disabled(u.id, false, kT0 + 2));
  EXPECT_FALSE(fetch(u.id).disabled);
}

TEST_P(UserStoreContract, SetRolesReplacesRoles) {
  User u = created("ivy@example.com");
  ASSERT_TRUE(users().set_roles(u.id, {"admin", "auditor"}, kT0 + 1));
  EXPECT_EQ(fetch(u.id).roles, (std::vector<std::string>{"admin", "auditor"}));
  ASSERT_TRUE(users().set_roles(u.id, {}, kT0 + 2));
  EXPECT_TRUE(fetch(u.id).roles.empty());
  EXPECT_EQ(fetch(u.id).updated_at, kT0 + 2);
}

TEST_P(UserStoreContract, BumpSessionVersionIncrementsAndReturnsNewValue) {
  User u = created("jack@example.com");
  auto first = users().bump_session_version(u.id, kT0 + 1);
  ASSERT_TRUE(first) << first.error();
  EXPECT_EQ(*first, 1);
  auto second = users().bump_session_version(u.id, kT0 + 2);
  ASSERT_TRUE(second) << second.error();
  EXPECT_EQ(*second, 2);
  EXPECT_EQ(fetch(u.id).session_version, 2);
  EXPECT_EQ(fetch(u.id).updated_at, kT0 + 2);
}

TEST_P(UserStoreContract, ListIsOrderedByEmailWithLimitAndOffset) {
  created("c@example.com");
  created("a@example.com");
  created("b.x@example.com");
  created("bx@example.com");
  auto emails = [this](std::size_t limit, std::size_t offset) {
    std::vector<std::string> out;
    auto r = users().list(limit, offset);
    EXPECT_TRUE(r) << r.error();
    if (r) {
      for (const auto& u : *r) out.push_back(u.email);
    }
    return out;
  };
  // Byte order: '.' sorts before 'x' whatever the database collation.
  EXPECT_EQ(emails(10, 0), (std::vector<std::string>{"a@example.com", "b.x@example.com",
                                                     "bx@example.com", "c@example.com"}));
  EXPECT_EQ(emails(2, 1), (std::vector<std::string>{"b.x@example.com", "bx@example.com"}));
  EXPECT_TRUE(emails(0, 0).empty());
  EXPECT_TRUE(emails(10, 4).empty());
  EXPECT_EQ(emails(std::numeric_limits<std::size_t>::max(), 0).size(), 4u);
}

AUTHD_INSTANTIATE_CONTRACT(UserStoreContract);

}  // namespace
}  // namespace authd::contract
