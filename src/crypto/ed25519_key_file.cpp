// SPDX-License-Identifier: MIT
// Ed25519 key files: PEM PKCS#8, created 0600 and published atomically; loading checks perms.
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "crypto/ed25519.hpp"
#include "crypto/library_error.hpp"
#include "net/unique_fd.hpp"

namespace ringtunnel::crypto {
namespace {

// A key file is a few hundred bytes; anything much larger is the wrong file.
constexpr off_t kMaxKeyFileSize = off_t{64} * 1024;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct BioFree {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

// Records `message` for the caller (when it asked) and returns the matching error code.
std::error_code fail(std::string* error, int err, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return errno_code(err);
}

std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

// The passphrase callback: never prompt on the terminal (the PEM default would).
int no_passphrase(char*, int, int, void*) {
  return -1;
}

Result<void> write_pem(int fd, std::span<const std::byte, kEd25519SeedSize> seed,
                       const std::string& tmp, std::string* error) {
  const PkeyPtr key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), seed.size()));
  const BioPtr bio(BIO_new_fd(fd, BIO_NOCLOSE));
  errno = 0;
  if (!key || !bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    const int err = errno != 0 ? errno : EIO;
    return fail(
        error, err,
        "cannot write the private key to " + quoted(tmp) + ": " + detail::take_library_error());
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

// Parses the PEM private key in `fd`; on failure says why in `*error` and returns null.
PkeyPtr read_pem(int fd, const std::string& path, std::string* error) {
  const BioPtr bio(BIO_new_fd(fd, BIO_NOCLOSE));
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr);
  if (key) return key;
  const bool encrypted = ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_BAD_PASSWORD_READ;
  std::string why =
      "cannot read " + quoted(path) + " as a PEM private key: " + detail::take_library_error();
  if (encrypted) why += " (passphrase-protected keys are not supported)";
  if (error != nullptr) *error = std::move(why);
  return nullptr;
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
  const PkeyPtr key = read_pem(fd->get(), path, error);
  if (!key) return errno_code(EINVAL);
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    const char* type = EVP_PKEY_get0_type_name(key.get());
    return fail(error, EINVAL,
                quoted(path) + " holds a " + (type ? type : "non-Ed25519") +
                    " key; an Ed25519 key is required");
  }
  SecureBuffer<kEd25519SeedSize> seed;
  std::size_t length = seed.size();
  if (EVP_PKEY_get_raw_private_key(key.get(), reinterpret_cast<unsigned char*>(seed.data()),
                                   &length) != 1 ||
      length != seed.size()) {
    return fail(error, EINVAL,
                "cannot extract the Ed25519 seed from " + quoted(path) + ": " +
                    detail::take_library_error());
  }
  return Ed25519PrivateKey::from_seed(seed.span());
}

}  // namespace ringtunnel::crypto
