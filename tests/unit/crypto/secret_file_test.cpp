#include "authd/crypto/secret_file.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "unit/crypto/test_util.h"

namespace authd::crypto {
namespace {

namespace fs = std::filesystem;
using testing::counting_bytes;

// 32 bytes 0x00..0x1f, as `base64` prints them.
constexpr std::string_view kB64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

class SecretFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "authd-crypto-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string write(const std::string& name, std::string_view content, mode_t mode) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  fs::path dir_;
};

TEST_F(SecretFileTest, Mode0600Accepted) {
  auto s = load_secret_file(write("kek", std::string(kB64) + "\n", 0600), 32);
  ASSERT_TRUE(s) << to_string(s.error());
  EXPECT_EQ(s->view(), counting_bytes(32));
}

TEST_F(SecretFileTest, Mode0400Accepted) {
  auto s = load_secret_file(write("kek", kB64, 0400), 32);
  ASSERT_TRUE(s) << to_string(s.error());
  EXPECT_EQ(s->view(), counting_bytes(32));
}

TEST_F(SecretFileTest, Mode0644Refused) {
  auto s = load_secret_file(write("kek", kB64, 0644), 32);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::PermissionsTooOpen);
}

TEST_F(SecretFileTest, GroupReadableRefusedByDefault) {
  auto s = load_secret_file(write("kek", kB64, 0640), 32);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::PermissionsTooOpen);
}

TEST_F(SecretFileTest, OtherWritableRefused) {
  auto s = load_secret_file(write("kek", kB64, 0602), 32);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::PermissionsTooOpen);
}

TEST_F(SecretFileTest, GroupReadAllowedWhenOptedIn) {
  auto s = load_secret_file(write("kek", kB64, 0440), 32, {.allow_group_read = true});
  ASSERT_TRUE(s) << to_string(s.error());
  EXPECT_EQ(s->size(), 32u);
}

TEST_F(SecretFileTest, GroupWriteRefusedEvenWhenGroupReadAllowed) {
  auto s = load_secret_file(write("kek", kB64, 0660), 32, {.allow_group_read = true});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::PermissionsTooOpen);
}

TEST_F(SecretFileTest, OtherReadRefusedEvenWhenGroupReadAllowed) {
  auto s = load_secret_file(write("kek", kB64, 0444), 32, {.allow_group_read = true});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::PermissionsTooOpen);
}

TEST_F(SecretFileTest, TooShortRefused) {
  // 31 bytes.
  auto s =
      load_secret_file(write("kek", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n", 0600), 32);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::TooShort);
}

TEST_F(SecretFileTest, EmptyFileTooShort) {
  auto s = load_secret_file(write("kek", "", 0600), 32);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::TooShort);
}

TEST_F(SecretFileTest, MissingFileNotFound) {
  auto s = load_secret_file((dir_ / "absent").string(), 32);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::NotFound);
}

TEST_F(SecretFileTest, NotBase64Malformed) {
  auto s = load_secret_file(write("kek", "this is not base64!!\n", 0600), 1);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::Malformed);
}

TEST_F(SecretFileTest, RawBinaryMalformed) {
  std::string raw = counting_bytes(32);
  auto s = load_secret_file(write("kek", raw, 0600), 32);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::Malformed);
}

TEST_F(SecretFileTest, DirectoryMalformed) {
  fs::create_directory(dir_ / "sub");
  ::chmod((dir_ / "sub").c_str(), 0700);
  auto s = load_secret_file((dir_ / "sub").string(), 32);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::Malformed);
}

TEST_F(SecretFileTest, OversizedMalformed) {
  auto s = load_secret_file(write("kek", std::string(kMaxSecretFileBytes + 4, 'A'), 0600), 32);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), Errc::Malformed);
}

TEST_F(SecretFileTest, UrlSafeUnpaddedAccepted) {
  // 33 bytes 0xfb.. chosen to exercise '-' and '_'.
  const std::string bytes(33, static_cast<char>(0xfb));
  std::string b64(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  b64.pop_back();  // the NUL
  ASSERT_NE(b64.find_first_of("-_"), std::string::npos);
  auto s = load_secret_file(write("kek", b64, 0600), 32);
  ASSERT_TRUE(s) << to_string(s.error());
  EXPECT_EQ(s->view(), bytes);
}

TEST_F(SecretFileTest, WrappedLinesAccepted) {
  // `head -c64 /dev/urandom | base64` wraps at 76 columns.
  const std::string bytes = counting_bytes(64);
  std::string b64(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  b64.pop_back();
  const std::string wrapped = b64.substr(0, 76) + "\n" + b64.substr(76) + "\r\n";
  auto s = load_secret_file(write("kek", wrapped, 0600), 64);
  ASSERT_TRUE(s) << to_string(s.error());
  EXPECT_EQ(s->view(), bytes);
}

TEST_F(SecretFileTest, SymlinkFollowedAndTargetChecked) {
  const std::string target = write("real", kB64, 0600);
  fs::create_symlink(target, dir_ / "link");
  auto s = load_secret_file((dir_ / "link").string(), 32);
  ASSERT_TRUE(s) << to_string(s.error());
  EXPECT_EQ(s->size(), 32u);
}

TEST_F(SecretFileTest, CreateMakes0600FileThatLoads) {
  const std::string path = (dir_ / "pepper").string();
  auto created = create_secret_file(path, 32);
  ASSERT_TRUE(created) << to_string(created.error());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  auto loaded = load_secret_file(path, 32);
  ASSERT_TRUE(loaded) << to_string(loaded.error());
  EXPECT_EQ(loaded->size(), 32u);
}

TEST_F(SecretFileTest, CreateIgnoresPermissiveUmask) {
  const mode_t old = ::umask(0);
  auto created = create_secret_file((dir_ / "kek").string(), 32);
  ::umask(old);
  ASSERT_TRUE(created);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "kek").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(SecretFileTest, CreateWritesBase64Line) {
  const std::string path = (dir_ / "kek").string();
  ASSERT_TRUE(create_secret_file(path, 32));
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(text.size(), 45u);  // 44 base64 chars + newline, like `base64`
  EXPECT_EQ(text.back(), '\n');
}

TEST_F(SecretFileTest, CreateRefusesToOverwrite) {
  const std::string path = write("kek", kB64, 0600);
  auto created = create_secret_file(path, 32);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error(), Errc::AlreadyExists);
  auto still = load_secret_file(path, 32);
  ASSERT_TRUE(still);
  EXPECT_EQ(still->view(), counting_bytes(32));
}

TEST_F(SecretFileTest, CreateGivesFreshSecretEachTime) {
  ASSERT_TRUE(create_secret_file((dir_ / "a").string(), 32));
  ASSERT_TRUE(create_secret_file((dir_ / "b").string(), 32));
  auto a = load_secret_file((dir_ / "a").string(), 32);
  auto b = load_secret_file((dir_ / "b").string(), 32);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(a->equals(*b));
}

TEST_F(SecretFileTest, CreateLeavesNoTempFiles) {
  ASSERT_TRUE(create_secret_file((dir_ / "kek").string(), 32));
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"kek"});
}

TEST_F(SecretFileTest, CreateInMissingDirectoryNotFound) {
  auto created = create_secret_file((dir_ / "nope" / "kek").string(), 32);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error(), Errc::NotFound);
}

TEST_F(SecretFileTest, CreateZeroBytesInvalid) {
  auto created = create_secret_file((dir_ / "kek").string(), 0);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error(), Errc::InvalidParams);
}

TEST_F(SecretFileTest, ConcurrentCreatorsAgreeOnOneSecret) {
  const std::string path = (dir_ / "kek").string();
  std::vector<std::thread> threads;
  std::vector<std::string> seen(4);
  for (auto& out : seen) {
    threads.emplace_back([&out, &path] {
      auto s = load_or_create_secret_file(path, 32);
      out = s ? std::string(s->view()) : std::string("error");
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : seen) EXPECT_EQ(s, seen[0]);
  EXPECT_EQ(seen[0].size(), 32u);
}

TEST_F(SecretFileTest, LoadOrCreateKeepsExisting) {
  const std::string path = write("kek", kB64, 0600);
  auto s = load_or_create_secret_file(path, 32);
  ASSERT_TRUE(s) << to_string(s.error());
  EXPECT_EQ(s->view(), counting_bytes(32));
}

// Password files (store.password_file, redis.password_file) get the key files' checks.

TEST_F(SecretFileTest, PasswordFileReadAsTextLessTrailingLineBreaks) {
  auto pw = load_password_file(write("pw", "s3cret with spaces+/=\r\n\n", 0600));
  ASSERT_TRUE(pw) << to_string(pw.error());
  EXPECT_EQ(pw->view(), "s3cret with spaces+/=");
}

TEST_F(SecretFileTest, PasswordFileWithoutLineBreakReadWhole) {
  auto pw = load_password_file(write("pw", "authd-test-pw", 0400));
  ASSERT_TRUE(pw) << to_string(pw.error());
  EXPECT_EQ(pw->view(), "authd-test-pw");
}

TEST_F(SecretFileTest, WorldReadablePasswordFileRefused) {
  auto pw = load_password_file(write("pw", "hunter2\n", 0644));
  ASSERT_FALSE(pw);
  EXPECT_EQ(pw.error(), Errc::PermissionsTooOpen);
}

TEST_F(SecretFileTest, EmptyPasswordFileTooShort) {
  auto pw = load_password_file(write("pw", "\n", 0600));
  ASSERT_FALSE(pw);
  EXPECT_EQ(pw.error(), Errc::TooShort);
}

TEST_F(SecretFileTest, MissingPasswordFileNotFound) {
  auto pw = load_password_file((dir_ / "absent").string());
  ASSERT_FALSE(pw);
  EXPECT_EQ(pw.error(), Errc::NotFound);
}

}  // namespace
}  // namespace authd::crypto
