// SPDX-License-Identifier: MIT
// Key and token files: create-if-missing with 0600, permission checks, token syntax.
#include "config/identity_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "crypto/random.hpp"
#include "net/unique_fd.hpp"

namespace ringtunnel::config {
namespace {

constexpr std::size_t kMaxTokenFile = 1024;

std::error_code fail(std::string* error, int err, std::string message) {
  if (error) *error = std::move(message);
  return errno_code(err);
}

bool token_syntax_ok(const std::string& token) {
  if (token.empty() || token.size() > 256) return false;
  for (unsigned char c : token) {
    if (c <= 0x20 || c >= 0x7f) return false;  // printable ASCII, no spaces
  }
  return true;
}

Result<std::string> read_token(const std::string& path, std::string* error) {
  net::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return fail(error, errno, "cannot open '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return fail(error, EINVAL, "'" + path + "' is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail(error, EACCES,
                std::string("permissions ") + mode + " for '" + path +
                    "' are too open: the token lets anyone enrol a client; run chmod 600 " + path);
  }
  std::array<char, kMaxTokenFile + 1> text{};
  const ssize_t n = ::read(fd.get(), text.data(), text.size());
  if (n < 0) return fail(error, errno, "cannot read '" + path + "': " + std::strerror(errno));
  std::string token(text.data(), static_cast<std::size_t>(n));
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (!token_syntax_ok(token)) {
    return fail(error, EINVAL,
                "'" + path + "' does not hold a token (1-256 printable characters, no spaces); "
                "delete it to have a new one made");
  }
  return token;
}

Result<void> write_new_file(const std::string& path, const std::string& text, std::string* error) {
  net::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return fail(error, errno, "cannot create '" + path + "': " + std::strerror(errno));
  const ssize_t n = ::write(fd.get(), text.data(), text.size());
  if (n != static_cast<ssize_t>(text.size()) || ::fsync(fd.get()) != 0) {
    const int err = n < 0 ? errno : EIO;
    ::unlink(path.c_str());
    return fail(error, err, "cannot write '" + path + "': " + std::strerror(err));
  }
  return {};
}

}  // namespace

std::string make_token() {
  std::array<std::byte, 24> raw{};
  crypto::random_bytes(raw);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (std::byte b : raw) {
    token.push_back(kHex[static_cast<unsigned>(b) >> 4]);
    token.push_back(kHex[static_cast<unsigned>(b) & 15]);
  }
  return token;
}

Result<crypto::Ed25519PrivateKey> load_or_create_key(const std::string& path, bool* created,
                                                     std::string* error) {
  if (created) *created = false;
  if (::access(path.c_str(), F_OK) == 0) return crypto::load_private_key(path, error);
  if (errno != ENOENT) return fail(error, errno, "cannot reach '" + path + "': " + std::strerror(errno));
  auto key = crypto::Ed25519PrivateKey::generate();
  if (auto saved = crypto::save_private_key(key, path, error); !saved) return saved.error();
  if (created) *created = true;
  return key;
}

Result<std::optional<std::string>> load_or_create_token(const std::string& path, bool create,
                                                        bool* created, std::string* error) {
  if (created) *created = false;
  if (::access(path.c_str(), F_OK) == 0) {
    auto token = read_token(path, error);
    if (!token) return token.error();
    return std::optional<std::string>(std::move(token).value());
  }
  if (errno != ENOENT) return fail(error, errno, "cannot reach '" + path + "': " + std::strerror(errno));
  if (!create) return std::optional<std::string>();
  std::string token = make_token();
  if (auto written = write_new_file(path, token + "\n", error); !written) return written.error();
  if (created) *created = true;
  return std::optional<std::string>(std::move(token));
}

}  // namespace ringtunnel::config
