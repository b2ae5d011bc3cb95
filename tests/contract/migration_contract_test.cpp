// Database contract: migrations, schema version checks, ping. Runs against every backend.

#include <algorithm>
#include <string>
#include <thread>

#include "contract/fixture.h"

namespace authd::contract {
namespace {

using store::Errc;

class MigrationContract : public ContractTest {
 protected:
  int latest() const { return store::latest_version(test_db_->migrations()); }
};

// An empty database reports version 0, migrates to the build's version, and passes the check.
TEST_P(MigrationContract, MigrateEmptyDatabase) {
  auto before = db().schema_version();
  ASSERT_TRUE(before) << before.error();
  EXPECT_EQ(*before, 0);

  auto migrated = db().migrate();
  ASSERT_TRUE(migrated) << migrated.error();
  EXPECT_EQ(*migrated, latest());

  auto after = db().schema_version();
  ASSERT_TRUE(after) << after.error();
  EXPECT_EQ(*after, latest());
  auto check = db().check_schema();
  EXPECT_TRUE(check) << check.error();
  EXPECT_EQ(test_db_->query_int("SELECT count(*) FROM schema_migrations"), latest());
  EXPECT_EQ(test_db_->query_int("SELECT count(*) FROM schema_migrations WHERE name = '' OR "
                                "applied_at <= 0"),
            0);
  auto ping = db().ping();
  EXPECT_TRUE(ping) << ping.error();
}

// Migrating an up-to-date database changes nothing (no duplicate rows, no second default
// client).
TEST_P(MigrationContract, MigrateTwiceIsNoop) {
  migrate();
  auto again = db().migrate();
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(*again, latest());
  EXPECT_EQ(test_db_->query_int("SELECT count(*) FROM schema_migrations"), latest());
  EXPECT_EQ(test_db_->query_int("SELECT count(*) FROM clients"), 1);
}

// Replicas starting together may all run `migrate`; each migration is applied exactly once.
TEST_P(MigrationContract, ConcurrentMigrateFromTwoHandles) {
  auto other = test_db_->open();
  ASSERT_TRUE(other) << other.error();
  store::StoreResult<int> a = 0, b = 0;
  std::thread t1([&] { a = db().migrate(); });
  std::thread t2([&] { b = (*other)->migrate(); });
  t1.join();
  t2.join();
  ASSERT_TRUE(a) << a.error();
  ASSERT_TRUE(b) << b.error();
  EXPECT_EQ(*a, latest());
  EXPECT_EQ(*b, latest());
  EXPECT_EQ(test_db_->query_int("SELECT count(*) FROM schema_migrations"), latest());
  EXPECT_EQ(test_db_->query_int("SELECT count(*) FROM clients"), 1);
}

// An unmigrated database is refused with the command that fixes it, and store calls on it fail
// with kSchema rather than kInternal.
TEST_P(MigrationContract, CheckSchemaRefusesUnmigratedDatabase) {
  auto check = db().check_schema();
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code, Errc::kSchema);
  EXPECT_NE(check.error().message.find("authd migrate"), std::string::npos) << check.error();

  auto user = db().users().find_by_email("a@example.com");
  ASSERT_FALSE(user);
  EXPECT_EQ(user.error().code, Errc::kSchema) << user.error();
}

// A database migrated by a newer build is refused, by check_schema and by migrate, with a
// message naming both versions.
TEST_P(MigrationContract, CheckSchemaRefusesNewerVersion) {
  migrate();
  ASSERT_EQ(test_db_->exec("INSERT INTO schema_migrations (version, name, applied_at) "
                           "VALUES (9999, 'from_the_future', 1)"),
            "");
  auto version = db().schema_version();
  ASSERT_TRUE(version) << version.error();
  EXPECT_EQ(*version, 9999);

  auto check = db().check_schema();
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code, Errc::kSchema);
  EXPECT_NE(check.error().message.find("9999"), std::string::npos) << check.error();
  EXPECT_NE(check.error().message.find("this build knows version " + std::to_string(latest())),
            std::string::npos)
      << check.error();

  auto migrated = db().migrate();
  ASSERT_FALSE(migrated);
  EXPECT_EQ(migrated.error().code, Errc::kSchema);
}

// A database one migration behind is refused with "run `authd migrate`".
TEST_P(MigrationContract, CheckSchemaRefusesOlderVersion) {
  migrate();
  ASSERT_EQ(
      test_db_->exec("DELETE FROM schema_migrations WHERE version = " + std::to_string(latest())),
      "");
  auto check = db().check_schema();
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code, Errc::kSchema);
  EXPECT_NE(check.error().message.find("run `authd migrate`"), std::string::npos) << check.error();
}

// Every down migration, applied newest first, undoes its up migration completely; the
// database can then be migrated up again.
TEST_P(MigrationContract, DownMigrationsRevertEverything) {
  migrate();
  auto migrations = test_db_->migrations();
  for (auto it = migrations.rbegin(); it != migrations.rend(); ++it) {
    ASSERT_EQ(test_db_->exec(std::string(it->down)), "") << "down " << it->version;
    ASSERT_EQ(test_db_->exec("DELETE FROM schema_migrations WHERE version = " +
                             std::to_string(it->version)),
              "");
  }
  EXPECT_EQ(test_db_->count_tables(), 0);

  // A fresh handle: the old one's cached statements refer to dropped tables.
  ASSERT_TRUE(test_db_->reopen()) << test_db_->error();
  migrate();
  auto client = db().clients().find("authd");
  ASSERT_TRUE(client) << client.error();
  EXPECT_TRUE(client->has_value());
}

TEST_P(MigrationContract, PingWorksWithoutSchema) {
  auto ping = db().ping();
  EXPECT_TRUE(ping) << ping.error();
}

AUTHD_INSTANTIATE_CONTRACT(MigrationContract);

// Both dialects are versioned in step, so "schema version N" means the same thing for both,
// and every migration can be reverted.
TEST(MigrationFiles, DialectsAreVersionedInStep) {
  const auto pg = store::postgres_migrations();
  const auto lite = store::sqlite_migrations();
  ASSERT_FALSE(pg.empty());
  ASSERT_EQ(pg.size(), lite.size());
  for (std::size_t i = 0; i < pg.size(); ++i) {
    EXPECT_EQ(pg[i].version, static_cast<int>(i + 1));
    EXPECT_EQ(lite[i].version, static_cast<int>(i + 1));
    EXPECT_EQ(pg[i].name, lite[i].name);
    EXPECT_FALSE(pg[i].up.empty());
    EXPECT_FALSE(pg[i].down.empty());
    EXPECT_FALSE(lite[i].up.empty());
    EXPECT_FALSE(lite[i].down.empty());
  }
}

}  // namespace
}  // namespace authd::contract
