// SPDX-License-Identifier: MIT
// Certificates on OpenSSL: the zero-config self-signed one, pins, subjects, error text.
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "crypto/fingerprint.hpp"
#include "crypto/hash.hpp"
#include "crypto/tls/openssl/openssl_tls.hpp"

namespace ringtunnel::crypto::tls {
namespace {

struct FileClose {
  void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileClose>;

PkeyPtr read_key(const std::string& path, std::string* error) {
  FilePtr file(std::fopen(path.c_str(), "re"));
  if (!file) {
    if (error) *error = "cannot read the key " + quoted(path) + ": " + std::strerror(errno);
    return nullptr;
  }
  PkeyPtr key(PEM_read_PrivateKey(file.get(), nullptr, nullptr, nullptr));
  if (!key && error) {
    *error = quoted(path) + " is not a PEM private key (" + take_ssl_errors("unreadable") + ")";
  }
  return key;
}

X509Ptr read_certificate(const std::string& path, std::string* error) {
  FilePtr file(std::fopen(path.c_str(), "re"));
  if (!file) {
    if (error) *error = "cannot read the certificate " + quoted(path) + ": " + std::strerror(errno);
    return nullptr;
  }
  X509Ptr cert(PEM_read_X509(file.get(), nullptr, nullptr, nullptr));
  if (!cert && error) {
    *error = quoted(path) + " is not a PEM certificate (" + take_ssl_errors("unreadable") + ")";
  }
  return cert;
}

std::string base64_unpadded(std::span<const std::byte> bytes) {
  std::vector<unsigned char> text(4 * ((bytes.size() + 2) / 3) + 1);
  const int length =
      EVP_EncodeBlock(text.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  std::string result(reinterpret_cast<const char*>(text.data()), static_cast<std::size_t>(length));
  while (!result.empty() && result.back() == '=') result.pop_back();
  return result;
}

// A self-signed certificate for `key`: version 3, random serial, valid from a day ago for 20
// years (the pin, not the dates, is what a client checks), CN naming the key's pin.
X509Ptr make_self_signed(EVP_PKEY* key, std::string* error) {
  X509Ptr cert(X509_new());
  std::array<unsigned char, 16> serial{};
  if (!cert || RAND_bytes(serial.data(), serial.size()) != 1) {
    if (error) *error = "cannot make a certificate: " + take_ssl_errors("out of memory");
    return nullptr;
  }
  serial[0] &= 0x7f;  // a positive INTEGER
  BIGNUM* number = BN_bin2bn(serial.data(), serial.size(), nullptr);
  ASN1_INTEGER* asn1_serial = BN_to_ASN1_INTEGER(number, nullptr);
  BN_free(number);
  X509_set_version(cert.get(), 2);
  X509_set_serialNumber(cert.get(), asn1_serial);
  ASN1_INTEGER_free(asn1_serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 20L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("ringtunnel"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("ringtunnel server"), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  // Ed25519 signs the message itself: no digest (nullptr).
  const EVP_MD* digest = EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  if (X509_sign(cert.get(), key, digest) <= 0) {
    if (error) *error = "cannot sign the certificate: " + take_ssl_errors("signing failed");
    return nullptr;
  }
  return cert;
}

// Writes `cert` as PEM to `path` through path.tmp and a rename, so a reader never sees half.
Result<void> write_certificate(X509* cert, const std::string& path, std::string* error) {
  const std::string temporary = path + ".tmp";
  ::unlink(temporary.c_str());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int saved = errno;
    if (error) *error = "cannot create " + quoted(temporary) + ": " + std::strerror(saved);
    return errno_code(saved);
  }
  FilePtr file(::fdopen(fd, "w"));
  if (!file) {
    ::close(fd);
    return errno_code(ENOMEM);
  }
  const bool written =
      PEM_write_X509(file.get(), cert) == 1 && std::fflush(file.get()) == 0 && ::fsync(fd) == 0;
  file.reset();
  if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
    const int saved = errno != 0 ? errno : EIO;
    ::unlink(temporary.c_str());
    if (error)
      *error = "cannot write the certificate " + quoted(path) + ": " + std::strerror(saved);
    return errno_code(saved);
  }
  return {};
}

}  // namespace

std::string take_ssl_errors(const char* fallback) {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    char line[256];
    ERR_error_string_n(code, line, sizeof line);
    if (!text.empty()) text += "; ";
    // "error:0A000086:SSL routines::certificate verify failed": keep what follows the "::".
    const char* readable = std::strstr(line, "::");
    text += readable != nullptr ? readable + 2 : line;
  }
  return text.empty() ? fallback : text;
}

std::string pin_of(X509* cert) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) return {};
  if (EVP_PKEY_get_id(key) == EVP_PKEY_ED25519) {
    std::array<std::byte, 32> raw{};
    std::size_t size = raw.size();
    if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &size) !=
            1 ||
        size != raw.size()) {
      ERR_clear_error();
      return {};
    }
    return fingerprint(raw);
  }
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key, &der);
  if (length <= 0) return {};
  const Sha256Digest digest =
      sha256(std::span(reinterpret_cast<const std::byte*>(der), static_cast<std::size_t>(length)));
  OPENSSL_free(der);
  return "SHA256:" + base64_unpadded(digest);
}

std::string subject_of(X509* cert) {
  char line[512];
  X509_NAME_oneline(X509_get_subject_name(cert), line, sizeof line);
  return line;
}

Result<void> ensure_self_signed(const std::string& key_file, const std::string& cert_file,
                                std::string* error) {
  PkeyPtr key = read_key(key_file, error);
  if (!key) return errno_code(EINVAL);
  if (::access(cert_file.c_str(), F_OK) == 0) {
    X509Ptr existing = read_certificate(cert_file, nullptr);
    ERR_clear_error();
    // Kept when it is for this key; made again when the key changed or the file is damaged.
    if (existing && X509_check_private_key(existing.get(), key.get()) == 1) return {};
    ERR_clear_error();
  }
  X509Ptr cert = make_self_signed(key.get(), error);
  if (!cert) return errno_code(ENOTRECOVERABLE);
  return write_certificate(cert.get(), cert_file, error);
}

Result<std::string> certificate_pin(const std::string& cert_file, std::string* error) {
  X509Ptr cert = read_certificate(cert_file, error);
  if (!cert) return errno_code(EINVAL);
  std::string pin = pin_of(cert.get());
  if (pin.empty()) {
    if (error) *error = quoted(cert_file) + " has no public key this build can read";
    return errno_code(EINVAL);
  }
  return pin;
}

std::string library_version() {
  return OpenSSL_version(OPENSSL_VERSION);
}

}  // namespace ringtunnel::crypto::tls
