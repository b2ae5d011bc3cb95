#include "authd/crypto/secret_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <utility>

#include "authd/crypto/init.h"

namespace authd::crypto {
namespace {

// A generated secret larger than this is a caller bug, not a key.
constexpr std::size_t kMaxCreateBytes = 4096;
constexpr char kWhitespace[] = " \t\r\n";

/// Owns a file descriptor; closes it once.
class Fd {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  /// Closes now and reports failure: on some filesystems close() is where write errors surface.
  bool close() noexcept {
    const int fd = std::exchange(fd_, -1);
    return fd < 0 || ::close(fd) == 0;
  }

 private:
  int fd_;
};

Errc errno_to_errc(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Errc::NotFound;
    case EACCES:
    case EPERM:
      return Errc::AccessDenied;
    case EEXIST:
      return Errc::AlreadyExists;
    default:
      return Errc::IoError;
  }
}

bool write_all(int fd, const unsigned char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// Decodes base64 in any of libsodium's four variants, skipping whitespace anywhere.
// The output goes straight into a Secret so no decoded copy is left in unowned memory.
Result<Secret, Errc> decode_base64(std::string_view text) {
  static constexpr int kVariants[] = {
      sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
      sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING};
  Secret out = Secret::zeroed(text.size() / 4 * 3 + 3);
  for (const int variant : kVariants) {
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), kWhitespace, &len, &end,
                          variant) == 0 &&
        end == text.data() + text.size()) {
      out.truncate(len);
      return out;
    }
  }
  return unexpected(Errc::Malformed);
}

// Opens, checks and reads a secret file whole: the checks every secret file gets, whatever
// its format (see secret_file.h).
Result<Secret, Errc> read_checked(const std::string& path, const SecretFileOptions& options) {
  if (!init()) return unexpected(Errc::InitFailed);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return unexpected(errno_to_errc(errno));

  // fstat on the open descriptor, not stat on the path: the checks apply to the very file
  // read below even if the path is swapped in between (or is a symlink, as in Kubernetes).
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return unexpected(Errc::IoError);
  if (!S_ISREG(st.st_mode)) return unexpected(Errc::Malformed);
  const mode_t allowed_group = options.allow_group_read ? S_IRGRP : 0;
  if ((st.st_mode & (S_IRWXG | S_IRWXO) & ~allowed_group) != 0) {
    return unexpected(Errc::PermissionsTooOpen);
  }
  if (st.st_size < 0 || static_cast<std::size_t>(st.st_size) > kMaxSecretFileBytes) {
    return unexpected(Errc::Malformed);
  }

  // Read up to one byte past the limit so a file that grew after fstat is still caught.
  Secret text = Secret::zeroed(kMaxSecretFileBytes + 1);
  std::size_t used = 0;
  while (used < text.size()) {
    const ssize_t r = ::read(fd.get(), text.data() + used, text.size() - used);
    if (r < 0) {
      if (errno == EINTR) continue;
      return unexpected(Errc::IoError);
    }
    if (r == 0) break;
    used += static_cast<std::size_t>(r);
  }
  if (used > kMaxSecretFileBytes) return unexpected(Errc::Malformed);

  text.truncate(used);
  return text;
}

}  // namespace

Result<Secret, Errc> load_secret_file(const std::string& path, std::size_t min_bytes,
                                      const SecretFileOptions& options) {
  auto text = read_checked(path, options);
  if (!text) return unexpected(text.error());
  auto decoded = decode_base64(text->view());
  if (!decoded) return unexpected(decoded.error());
  if (decoded->size() < min_bytes || decoded->empty()) return unexpected(Errc::TooShort);
  return std::move(decoded).value();
}

Result<Secret, Errc> load_password_file(const std::string& path, const SecretFileOptions& options) {
  auto text = read_checked(path, options);
  if (!text) return unexpected(text.error());
  std::size_t len = text->size();
  while (len > 0 && (text->data()[len - 1] == '\n' || text->data()[len - 1] == '\r')) --len;
  if (len == 0) return unexpected(Errc::TooShort);
  text->truncate(len);
  return std::move(text).value();
}

Result<void, Errc> create_secret_file(const std::string& path, std::size_t bytes) {
  if (!init()) return unexpected(Errc::InitFailed);
  if (bytes == 0 || bytes > kMaxCreateBytes) return unexpected(Errc::InvalidParams);

  const std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  if (target.filename().empty()) return unexpected(Errc::InvalidParams);

  // Refuse early so an existing key is never even partially shadowed by a temp file.
  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0) return unexpected(Errc::AlreadyExists);

  // The temp name is random so that concurrent creators never collide on it.
  unsigned char tag[8];
  randombytes_buf(tag, sizeof tag);
  char tag_hex[sizeof tag * 2 + 1];
  sodium_bin2hex(tag_hex, sizeof tag_hex, tag, sizeof tag);
  const std::string tmp = (dir / ("." + target.filename().string() + ".tmp-" + tag_hex)).string();

  Secret key = Secret::random(bytes);
  const std::size_t encoded_cap =
      sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_ORIGINAL);  // includes the NUL
  Secret text = Secret::zeroed(encoded_cap);
  sodium_bin2base64(reinterpret_cast<char*>(text.data()), text.size(), key.data(), key.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  // Replace the terminating NUL with the newline `base64` itself would write.
  text.data()[encoded_cap - 1] = '\n';

  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return unexpected(errno_to_errc(errno));
  // fchmod because open()'s mode is filtered by the umask; we want exactly 0600, not less.
  const bool written = ::fchmod(fd.get(), 0600) == 0 &&
                       write_all(fd.get(), text.data(), text.size()) && ::fsync(fd.get()) == 0 &&
                       fd.close();
  if (!written) {
    // Out of space, quota or a failing disk: the partial temp file must not linger.
    ::unlink(tmp.c_str());
    return unexpected(Errc::IoError);
  }

  // link() fails with EEXIST instead of replacing: the no-overwrite guarantee that rename()
  // lacks, and the file appears complete or not at all.
  const int link_rc = ::link(tmp.c_str(), path.c_str());
  const int link_err = errno;
  ::unlink(tmp.c_str());
  if (link_rc != 0) return unexpected(errno_to_errc(link_err));

  // Make the new directory entry durable; the file itself was fsync'd above. Best effort:
  // the key is in place either way, and reporting an error now would make a retry fail with
  // AlreadyExists.
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.valid()) ::fsync(dir_fd.get());
  return {};
}

Result<Secret, Errc> load_or_create_secret_file(const std::string& path, std::size_t bytes) {
  auto created = create_secret_file(path, bytes);
  if (!created && created.error() != Errc::AlreadyExists) return unexpected(created.error());
  return load_secret_file(path, bytes);
}

}  // namespace authd::crypto
