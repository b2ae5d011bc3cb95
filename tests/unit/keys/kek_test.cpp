// KEK files and sealing signing keys under the KEK.

#include "authd/keys/kek.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "authd/core/base64url.h"
#include "authd/crypto/secretbox.h"
#include "authd/jose/jws.h"
#include "test_util.h"

namespace authd::keys {
namespace {

using testing::other_kek;
using testing::test_kek;

/// A private temporary directory, removed with its contents at the end of the test.
class KeysKekTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("authd-keys-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content, mode_t mode = 0600) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(KeysKekTest, LoadsThirtyTwoBase64Bytes) {
  const std::string path = write("kek", base64url::encode(std::string(32, 'k')) + "\n");
  auto kek = load_kek(path);
  ASSERT_TRUE(kek.has_value()) << kek.error().message;
  EXPECT_TRUE(kek->equals(std::string(32, 'k')));
}

TEST_F(KeysKekTest, MissingFileIsKekFileError) {
  auto kek = load_kek((dir_ / "absent").string());
  ASSERT_FALSE(kek.has_value());
  EXPECT_EQ(kek.error().code, Errc::kKekFile);
  EXPECT_NE(kek.error().message.find("not_found"), std::string::npos);
}

TEST_F(KeysKekTest, WorldReadableFileIsKekFileError) {
  const std::string path = write("kek", base64url::encode(std::string(32, 'k')), 0644);
  auto kek = load_kek(path);
  ASSERT_FALSE(kek.has_value());
  EXPECT_EQ(kek.error().code, Errc::kKekFile);
  EXPECT_NE(kek.error().message.find("permissions_too_open"), std::string::npos);
}

TEST_F(KeysKekTest, ShortFileIsKekFileError) {
  const std::string path = write("kek", base64url::encode(std::string(16, 'k')));
  auto kek = load_kek(path);
  ASSERT_FALSE(kek.has_value());
  EXPECT_EQ(kek.error().code, Errc::kKekFile);
}

TEST_F(KeysKekTest, LongFileIsKekFileError) {
  const std::string path = write("kek", base64url::encode(std::string(64, 'k')));
  auto kek = load_kek(path);
  ASSERT_FALSE(kek.has_value());
  EXPECT_EQ(kek.error().code, Errc::kKekFile);
  EXPECT_NE(kek.error().message.find("exactly 32"), std::string::npos);
}

TEST_F(KeysKekTest, LoadOrCreateCreatesOnceThenReadsTheSameKey) {
  const std::string path = (dir_ / "kek").string();
  auto first = load_or_create_kek(path);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->size(), kKekBytes);
  auto second = load_or_create_kek(path);
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(first->equals(*second));
}

TEST(KeysSealedKeyTest, GeneratedKeyOpensWithItsKek) {
  auto stored = generate_sealed_key(jose::Alg::ES256, test_kek());
  ASSERT_TRUE(stored.has_value()) << stored.error().message;
  EXPECT_EQ(stored->alg, "ES256");
  auto key = open_stored_key(*stored, test_kek());
  ASSERT_TRUE(key.has_value()) << key.error().message;
  EXPECT_EQ((*key)->kid(), stored->kid);
  EXPECT_EQ((*key)->thumbprint(), stored->kid);
  EXPECT_TRUE((*key)->has_private());
  EXPECT_EQ(nlohmann::json::parse(stored->public_jwk), (*key)->public_jwk());
}

TEST(KeysSealedKeyTest, SealedBlobDoesNotContainThePem) {
  auto stored = generate_sealed_key(jose::Alg::ES256, test_kek());
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->sealed_private.find("PRIVATE KEY"), std::string::npos);
}

TEST(KeysSealedKeyTest, WrongKekIsWrongKekNamingTheKid) {
  auto stored = generate_sealed_key(jose::Alg::ES256, test_kek());
  ASSERT_TRUE(stored.has_value());
  auto key = open_stored_key(*stored, other_kek());
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code, Errc::kWrongKek);
  EXPECT_EQ(key.error().message, "the key-encryption key cannot decrypt signing key " +
                                     stored->kid + "; wrong KEK file?");
}

TEST(KeysSealedKeyTest, TruncatedBlobIsCorruptKey) {
  auto stored = generate_sealed_key(jose::Alg::ES256, test_kek());
  ASSERT_TRUE(stored.has_value());
  stored->sealed_private.resize(10);
  auto key = open_stored_key(*stored, test_kek());
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code, Errc::kCorruptKey);
}

TEST(KeysSealedKeyTest, UnknownAlgIsCorruptKey) {
  auto stored = generate_sealed_key(jose::Alg::ES256, test_kek());
  ASSERT_TRUE(stored.has_value());
  stored->alg = "HS256";
  auto key = open_stored_key(*stored, test_kek());
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code, Errc::kCorruptKey);
}

TEST(KeysSealedKeyTest, AlgNotMatchingTheKeyIsCorruptKey) {
  auto stored = generate_sealed_key(jose::Alg::ES256, test_kek());
  ASSERT_TRUE(stored.has_value());
  stored->alg = "EdDSA";
  auto key = open_stored_key(*stored, test_kek());
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code, Errc::kCorruptKey);
}

TEST(KeysSealedKeyTest, KidNamingAnotherKeyIsCorruptKey) {
  auto a = generate_sealed_key(jose::Alg::ES256, test_kek());
  auto b = generate_sealed_key(jose::Alg::ES256, test_kek());
  ASSERT_TRUE(a.has_value() && b.has_value());
  a->sealed_private = b->sealed_private;  // a row whose private key is not its kid's
  auto key = open_stored_key(*a, test_kek());
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code, Errc::kCorruptKey);
}

TEST(KeysSealedKeyTest, EdDsaKeysRoundTrip) {
  auto stored = generate_sealed_key(jose::Alg::EdDSA, test_kek());
  ASSERT_TRUE(stored.has_value());
  auto key = open_stored_key(*stored, test_kek());
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ((*key)->alg(), jose::Alg::EdDSA);
}

}  // namespace
}  // namespace authd::keys
