// SPDX-License-Identifier: MIT
// Ed25519 key files: PEM PKCS#8, created 0600 and published atomically; loading checks perms.
// The PEM codec itself is per backend (<backend>/ed25519_pem.cpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "crypto/ed25519.hpp"
#include "crypto/ed25519_pem.hpp"
#include "crypto/library_error.hpp"
#include "crypto/secure_buffer.hpp"
#include "net/unique_fd.hpp"

namespace ringtunnel::crypto {
namespace {

// A key file is a few hundred bytes; anything much larger is the wrong file.
constexpr off_t kMaxKeyFileSize = off_t{64} * 1024;

// Records `message` for the caller (when it asked) and returns the matching error code.
std::error_code fail(std::string* error, int err, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return errno_code(err);
}

std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

Result<void> write_pem(int fd, std::span<const std::byte, kEd25519SeedSize> seed,
                       const std::string& tmp, std::string* error) {
  if (const int err = detail::write_ed25519_pem(fd, seed); err != 0) {
    // Taken in either case, so that no stale library error surfaces in a later report.
    const std::string library = detail::take_library_error();
    return fail(error, err,
                "cannot write the private key to " + quoted(tmp) + ": " +
                    (err == EIO ? library : std::string(std::strerror(err))));
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    return fail(error, err, "cannot fsync " + quoted(tmp) + ": " + std::strerror(err));
  }
  return {};
}

// rename(2) that never replaces `to`; falls back to link+unlink where the file system does
// not support RENAME_NOREPLACE (both fail with EEXIST when `to` exists).
int rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return errno;
  if (::link(from.c_str(), to.c_str()) != 0) return errno;
  static_cast<void>(::unlink(from.c_str()));
  return 0;
}

// Makes the rename durable. Best effort: the key is already complete and in place.
void sync_parent_directory(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  const net::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd) static_cast<void>(::fsync(fd.get()));
}

Result<net::UniqueFd> open_key_file(const std::string& path, std::string* error) {
  net::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    const int err = errno;
    return fail(error, err, "cannot open private key " + quoted(path) + ": " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    const int err = errno;
    return fail(error, err, "cannot stat " + quoted(path) + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(error, EINVAL, quoted(path) + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail(error, EACCES,
                std::string("permissions ") + mode + " for " + quoted(path) +
                    " are too open; run chmod 600 " + path);
  }
  if (st.st_size > kMaxKeyFileSize) {
    return fail(error, EINVAL, quoted(path) + " is too large to be a private key file");
  }
  return fd;
}

// The whole key file (open_key_file checked its size), wiped when dropped: it holds the seed.
class KeyFileText {
 public:
  KeyFileText() = default;
  KeyFileText(const KeyFileText&) = delete;
  KeyFileText& operator=(const KeyFileText&) = delete;
  ~KeyFileText() { secure_wipe(bytes_); }

  // Reads `fd` to its end; 0 or the errno of the failed read. One byte more than the limit is
  // room enough to see that a file grew past it since open_key_file looked.
  int read_from(int fd) {
    bytes_.resize(static_cast<std::size_t>(kMaxKeyFileSize) + 1);
    std::size_t size = 0;
    while (size < bytes_.size()) {
      const ssize_t n = ::read(fd, bytes_.data() + size, bytes_.size() - size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno;
      if (n == 0) break;
      size += static_cast<std::size_t>(n);
    }
    secure_wipe(std::span(bytes_).subspan(size));
    bytes_.resize(size);
    return 0;
  }
  std::span<const std::byte> bytes() const noexcept { return bytes_; }

 private:
  std::vector<std::byte> bytes_;
};

// The seed of the Ed25519 key in `text`; on failure says why in `*error`.
Result<void> parse_pem(const KeyFileText& text, const std::string& path,
                       std::span<std::byte, kEd25519SeedSize> seed, std::string* error) {
  std::string type;
  switch (detail::read_ed25519_pem(text.bytes(), seed, type)) {
    case detail::PemKeyRead::ed25519:
      return {};
    case detail::PemKeyRead::not_a_key:
      return fail(error, EINVAL,
                  "cannot read " + quoted(path) +
                      " as a PEM private key: " + detail::take_library_error());
    case detail::PemKeyRead::encrypted:
      return fail(error, EINVAL,
                  "cannot read " + quoted(path) + " as a PEM private key: " +
                      detail::take_library_error() +
                      " (passphrase-protected keys are not supported)");
    case detail::PemKeyRead::other_type:
      return fail(error, EINVAL,
                  quoted(path) + " holds a " + (type.empty() ? "non-Ed25519" : type) +
                      " key; an Ed25519 key is required");
    case detail::PemKeyRead::no_seed:
      break;
  }
  return fail(error, EINVAL,
              "cannot extract the Ed25519 seed from " + quoted(path) + ": " +
                  detail::take_library_error());
}

}  // namespace

Result<void> save_private_key(const Ed25519PrivateKey& key, const std::string& path,
                              std::string* error) {
  const std::string tmp = path + ".tmp";
  if (::access(path.c_str(), F_OK) == 0) {
    return fail(error, EEXIST,
                quoted(path) + " already exists; refusing to overwrite a key " +
                    "(move it away first to replace it)");
  }
  const net::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) {
    const int err = errno;
    std::string why = "cannot create " + quoted(tmp) + ": " + std::strerror(err);
    if (err == EEXIST) why += " (left by an interrupted save? remove it and retry)";
    return fail(error, err, std::move(why));
  }
  Result<void> written = write_pem(fd.get(), key.seed_.span(), tmp, error);
  if (written) {
    if (const int err = rename_no_replace(tmp, path); err != 0) {
      written =
          fail(error, err,
               "cannot rename " + quoted(tmp) + " to " + quoted(path) + ": " + std::strerror(err));
    }
  }
  if (!written) {
    static_cast<void>(::unlink(tmp.c_str()));
    return written;
  }
  sync_parent_directory(path);
  return {};
}

Result<Ed25519PrivateKey> load_private_key(const std::string& path, std::string* error) {
  Result<net::UniqueFd> fd = open_key_file(path, error);
  if (!fd) return fd.error();
  KeyFileText text;
  if (const int err = text.read_from(fd->get()); err != 0) {
    return fail(error, err, "cannot read " + quoted(path) + ": " + std::strerror(err));
  }
  if (text.bytes().size() > static_cast<std::size_t>(kMaxKeyFileSize)) {
    return fail(error, EINVAL, quoted(path) + " is too large to be a private key file");
  }
  SecureBuffer<kEd25519SeedSize> seed;
  if (Result<void> parsed = parse_pem(text, path, seed.span(), error); !parsed) {
    return parsed.error();
  }
  return Ed25519PrivateKey::from_seed(seed.span());
}

}  // namespace ringtunnel::crypto
