// ClientStore contract. Runs against every backend.

#include <string>
#include <vector>

#include "contract/fixture.h"

namespace authd::contract {
namespace {

using auth::Client;
using store::Errc;

class ClientStoreContract : public ContractTest {
 protected:
  void SetUp() override {
    ContractTest::SetUp();
    if (HasFatalFailure()) return;
    migrate();
  }
  auth::ClientStore& clients() { return db().clients(); }
};

Client make_client(const std::string& id) {
  Client c;
  c.id = id;
  c.secret_hash = "$argon2id$secret";
  c.grant_types = {"client_credentials"};
  c.scopes = {"read", "write:all"};
  c.allowed_origins = {"https://app.example.com", "https://admin.example.com"};
  c.refresh_grace_seconds = 30;
  c.created_at = kT0;
  c.permissions = {"introspect"};
  c.audiences = {"https://api.example.com", "billing"};
  c.access_ttl_seconds = 120;
  c.previous_secret_hash = "$authd-kh$v1$previous";
  c.previous_secret_expires_at = kT0 + 3600;
  c.jwk = R"({"kty":"EC","crv":"P-256","x":"x","y":"y"})";
  c.redirect_uris = {"https://app.example.com/cb", "http://127.0.0.1/native"};
  c.post_logout_redirect_uris = {"https://app.example.com/bye"};
  return c;
}

void expect_same(const Client& a, const Client& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.secret_hash, b.secret_hash);
  EXPECT_EQ(a.grant_types, b.grant_types);
  EXPECT_EQ(a.scopes, b.scopes);
  EXPECT_EQ(a.allowed_origins, b.allowed_origins);
  EXPECT_EQ(a.refresh_grace_seconds, b.refresh_grace_seconds);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.permissions, b.permissions);
  EXPECT_EQ(a.audiences, b.audiences);
  EXPECT_EQ(a.access_ttl_seconds, b.access_ttl_seconds);
  EXPECT_EQ(a.previous_secret_hash, b.previous_secret_hash);
  EXPECT_EQ(a.previous_secret_expires_at, b.previous_secret_expires_at);
  EXPECT_EQ(a.jwk, b.jwk);
  EXPECT_EQ(a.jwks_uri, b.jwks_uri);
  EXPECT_EQ(a.redirect_uris, b.redirect_uris);
  EXPECT_EQ(a.post_logout_redirect_uris, b.post_logout_redirect_uris);
}

// The migrations install the public client that /login and /refresh use.
TEST_P(ClientStoreContract, DefaultClientExistsAfterMigrate) {
  auto r = clients().find("authd");
  ASSERT_TRUE(r) << r.error();
  ASSERT_TRUE(r->has_value());
  const Client& c = **r;
  EXPECT_EQ(c.secret_hash, "");
  EXPECT_EQ(c.grant_types, (std::vector<std::string>{"password", "refresh_token"}));
  EXPECT_TRUE(c.scopes.empty());
  EXPECT_TRUE(c.allowed_origins.empty());
  EXPECT_EQ(c.refresh_grace_seconds, 10);
  EXPECT_GT(c.created_at, 0);
  EXPECT_TRUE(c.permissions.empty());
  EXPECT_TRUE(c.audiences.empty());
  EXPECT_EQ(c.access_ttl_seconds, 0) << "the server's lifetime";
}

// Upsert inserts, then replaces everything but created_at (when the client was registered).
TEST_P(ClientStoreContract, UpsertInsertsThenUpdates) {
  Client c = make_client("svc-reports");
  ASSERT_TRUE(clients().upsert(c));
  auto inserted = clients().find("svc-reports");
  ASSERT_TRUE(inserted) << inserted.error();
  ASSERT_TRUE(inserted->has_value());
  expect_same(**inserted, c);

  Client changed = c;
  changed.secret_hash = "$argon2id$rotated";
  changed.grant_types = {"client_credentials", "refresh_token"};
  changed.scopes = {};
  changed.allowed_origins = {"https://new.example.com"};
  changed.refresh_grace_seconds = 0;
  changed.created_at = kT0 + 999;
  changed.permissions = {};
  changed.audiences = {"https://other.example.com"};
  changed.access_ttl_seconds = 0;
  changed.previous_secret_hash = "";
  changed.previous_secret_expires_at = 0;
  changed.jwk = "";
  changed.jwks_uri = "https://svc.example.com/jwks.json";
  auto r = clients().upsert(changed);
  ASSERT_TRUE(r) << r.error();
  auto updated = clients().find("svc-reports");
  ASSERT_TRUE(updated) << updated.error();
  ASSERT_TRUE(updated->has_value());
  Client expected = changed;
  expected.created_at = kT0;
  expect_same(**updated, expected);
}

// The schema bounds a client's access-token lifetime, whatever the caller checked.
TEST_P(ClientStoreContract, AccessTtlOutsideItsRangeIsRefused) {
  for (std::int64_t ttl : {std::int64_t{-1}, std::int64_t{86401}}) {
    Client c = make_client("svc-ttl");
    c.access_ttl_seconds = ttl;
    EXPECT_FALSE(clients().upsert(c)) << ttl;
  }
}

// create() never replaces: an existing id is kConflict and the stored client is unchanged.
TEST_P(ClientStoreContract, CreateRefusesAnExistingId) {
  Client c = make_client("svc-create");
  auto first = clients().create(c);
  ASSERT_TRUE(first) << first.error();
  Client other = make_client("svc-create");
  other.scopes = {"admin"};
  auto again = clients().create(other);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::kConflict);
  auto stored = clients().find("svc-create");
  ASSERT_TRUE(stored && stored->has_value());
  expect_same(**stored, c);
}

TEST_P(ClientStoreContract, RemoveDeletesOnceAndReportsIt) {
  ASSERT_TRUE(clients().create(make_client("svc-gone")));
  auto removed = clients().remove("svc-gone");
  ASSERT_TRUE(removed) << removed.error();
  EXPECT_TRUE(*removed);
  auto again = clients().remove("svc-gone");
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  auto found = clients().find("svc-gone");
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->has_value());
}

// A client assertion is accepted once until its `until`; after that the key may be used again
// (the assertion itself has expired by then); other keys are independent.
TEST_P(ClientStoreContract, AnAssertionIsUsedOnceUntilItsExpiry) {
  auto first = clients().use_assertion("svc:jti-1", kT0 + 60, kT0);
  ASSERT_TRUE(first) << first.error();
  EXPECT_TRUE(*first);
  auto replay = clients().use_assertion("svc:jti-1", kT0 + 60, kT0 + 30);
  ASSERT_TRUE(replay) << replay.error();
  EXPECT_FALSE(*replay);
  auto other = clients().use_assertion("svc:jti-2", kT0 + 60, kT0 + 30);
  ASSERT_TRUE(other);
  EXPECT_TRUE(*other);
  auto after = clients().use_assertion("svc:jti-1", kT0 + 200, kT0 + 61);
  ASSERT_TRUE(after);
  EXPECT_TRUE(*after) << "past its until";
  auto again = clients().use_assertion("svc:jti-1", kT0 + 200, kT0 + 62);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
}

// A client registered with a JWKS URL (private_key_jwt) keeps it through create, find and
// list, and an update can move it back to an inline key.
TEST_P(ClientStoreContract, JwksUriIsStoredAndReplaced) {
  Client c = make_client("svc-jwks");
  c.secret_hash = "";
  c.jwk = "";
  c.jwks_uri = "https://svc.example.com/.well-known/jwks.json?v=1";
  ASSERT_TRUE(clients().create(c));
  auto found = clients().find("svc-jwks");
  ASSERT_TRUE(found) << found.error();
  ASSERT_TRUE(found->has_value());
  expect_same(**found, c);
  EXPECT_TRUE((*found)->confidential());
  auto listed = clients().list();
  ASSERT_TRUE(listed) << listed.error();
  bool seen = false;
  for (const auto& l : *listed)
    if (l.id == "svc-jwks") {
      seen = true;
      EXPECT_EQ(l.jwks_uri, c.jwks_uri);
    }
  EXPECT_TRUE(seen);
  c.jwks_uri = "";
  c.jwk = R"({"kty":"EC","crv":"P-256","x":"x","y":"y"})";
  ASSERT_TRUE(clients().upsert(c));
  auto updated = clients().find("svc-jwks");
  ASSERT_TRUE(updated && updated->has_value());
  EXPECT_EQ((*updated)->jwks_uri, "");
  EXPECT_EQ((*updated)->jwk, c.jwk);
}

// The janitor's purge: a used assertion is forgotten once past its `until` (it is expired,
// so forgetting allows no replay), never before; batches are bounded by `limit`.
TEST_P(ClientStoreContract, PurgeAssertionsDeletesOnlyExpiredOnesInBatches) {
  for (int i = 0; i < 5; ++i) {
    auto r = clients().use_assertion("svc\nold-" + std::to_string(i), kT0 + 10 + i, kT0);
    ASSERT_TRUE(r && *r);
  }
  auto live = clients().use_assertion("svc\nlive", kT0 + 3600, kT0);
  ASSERT_TRUE(live && *live);

  auto none = clients().purge_assertions(kT0 + 10, 100);
  ASSERT_TRUE(none) << none.error();
  EXPECT_EQ(*none, 0u) << "until is still now: not yet past";
  auto batch = clients().purge_assertions(kT0 + 100, 3);
  ASSERT_TRUE(batch) << batch.error();
  EXPECT_EQ(*batch, 3u);
  auto rest = clients().purge_assertions(kT0 + 100, 100);
  ASSERT_TRUE(rest) << rest.error();
  EXPECT_EQ(*rest, 2u);
  auto nothing = clients().purge_assertions(kT0 + 100, 100);
  ASSERT_TRUE(nothing);
  EXPECT_EQ(*nothing, 0u);

  auto replay = clients().use_assertion("svc\nlive", kT0 + 3600, kT0 + 100);
  ASSERT_TRUE(replay) << replay.error();
  EXPECT_FALSE(*replay) << "a live assertion's record survives the purge";
}

TEST_P(ClientStoreContract, FindUnknownIsEmpty) {
  auto r = clients().find("no-such-client");
  ASSERT_TRUE(r) << r.error();
  EXPECT_FALSE(r->has_value());
}

TEST_P(ClientStoreContract, ListIsOrderedById) {
  ASSERT_TRUE(clients().upsert(make_client("zeta")));
  ASSERT_TRUE(clients().upsert(make_client("alpha")));
  ASSERT_TRUE(clients().upsert(make_client("Beta")));
  auto r = clients().list();
  ASSERT_TRUE(r) << r.error();
  std::vector<std::string> ids;
  for (const auto& c : *r) ids.push_back(c.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"Beta", "alpha", "authd", "zeta"}));  // byte order
}

AUTHD_INSTANTIATE_CONTRACT(ClientStoreContract);

}  // namespace
}  // namespace authd::contract
