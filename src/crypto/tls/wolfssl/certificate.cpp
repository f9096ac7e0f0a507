// SPDX-License-Identifier: MIT
// Certificates on wolfSSL: the zero-config self-signed one, pins, the library version.
#include "crypto/wolfssl/ed25519_key.hpp"
// The wolfSSL headers after wolfcrypt.hpp, which includes their options.h first.
#include <fcntl.h>
#include <unistd.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "crypto/ed25519_pem.hpp"
#include "crypto/library_error.hpp"
#include "crypto/secure_buffer.hpp"
#include "crypto/tls/wolfssl/wolfssl_tls.hpp"
#include "net/unique_fd.hpp"

namespace ringtunnel::crypto::tls {
namespace {

// The server's identity key and its public half, the certificate's subject key.
struct IdentityKey {
  detail::WolfEd25519Key key;
  Ed25519PublicKey public_key{};
};

// The server's identity key from `path` (the PEM PKCS#8 file ed25519_key_file.cpp writes).
Result<void> read_identity_key(const std::string& path, IdentityKey* key, std::string* error) {
  std::vector<std::byte> text;
  const int err = read_small_file(path, &text);
  if (err != 0) {
    secure_wipe(text);
    if (error) *error = "cannot read the key " + quoted(path) + ": " + std::strerror(err);
    return errno_code(err);
  }
  SecureBuffer<kEd25519SeedSize> seed;
  std::string type;
  const detail::PemKeyRead read = detail::read_ed25519_pem(text, seed.span(), type);
  secure_wipe(text);
  if (read == detail::PemKeyRead::other_type) {
    if (error)
      *error = quoted(path) + " holds a " + (type.empty() ? "non-Ed25519" : type) +
               " key; the self-signed certificate is made for an Ed25519 identity key";
    return errno_code(EINVAL);
  }
  if (read != detail::PemKeyRead::ed25519) {
    if (error)
      *error = quoted(path) + " is not a PEM private key (" + detail::take_library_error() + ")";
    return errno_code(EINVAL);
  }
  if (const int ret = key->key.import_seed(seed.span(), key->public_key); ret != 0) {
    if (error) *error = "cannot use the key " + quoted(path) + ": " + tls_error_words(ret, "?");
    return errno_code(EINVAL);
  }
  return {};
}

// A self-signed certificate (DER) for `key`: version 3, random serial, valid from a day ago
// (wolfCrypt backdates it so) for 20 years (the pin, not the dates, is what a client checks).
Result<std::vector<std::byte>> make_self_signed(IdentityKey* key, std::string* error) {
  auto cert = std::make_unique<Cert>();
  WC_RNG rng;
  if (wc_InitCert(cert.get()) != 0 || wc_InitRng(&rng) != 0) {
    if (error) *error = "cannot make a certificate: out of memory";
    return errno_code(ENOMEM);
  }
  cert->sigType = CTC_ED25519;
  cert->daysValid = 20 * 365;
  cert->isCA = 0;
  std::strncpy(cert->subject.org, "ringtunnel", CTC_NAME_SIZE - 1);
  std::strncpy(cert->subject.commonName, "ringtunnel server", CTC_NAME_SIZE - 1);
  std::vector<std::byte> der(4096);
  int size = wc_MakeCert_ex(cert.get(), detail::wolf_out(der), static_cast<word32>(der.size()),
                            ED25519_TYPE, key->key.get(), &rng);
  if (size > 0) {
    size = wc_SignCert_ex(cert->bodySz, cert->sigType, detail::wolf_out(der),
                          static_cast<word32>(der.size()), ED25519_TYPE, key->key.get(), &rng);
  }
  wc_FreeRng(&rng);
  if (size <= 0) {
    if (error) *error = "cannot sign the certificate: " + tls_error_words(size, "signing failed");
    return errno_code(ENOTRECOVERABLE);
  }
  der.resize(static_cast<std::size_t>(size));
  return der;
}

// Writes `der` as PEM to `path` through path.tmp and a rename, so a reader never sees half.
Result<void> write_certificate(std::span<const std::byte> der, const std::string& path,
                               std::string* error) {
  std::vector<std::byte> pem(der.size() * 2 + 128);
  const int size = wc_DerToPem(detail::wolf_in(der), detail::wolf_size(der), detail::wolf_out(pem),
                               detail::wolf_size(pem), CERT_TYPE);
  if (size <= 0) {
    if (error) *error = "cannot encode the certificate: " + tls_error_words(size, "?");
    return errno_code(ENOTRECOVERABLE);
  }
  const std::string temporary = path + ".tmp";
  ::unlink(temporary.c_str());
  net::UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) {
    const int saved = errno;
    if (error) *error = "cannot create " + quoted(temporary) + ": " + std::strerror(saved);
    return errno_code(saved);
  }
  int saved = detail::write_all(fd.get(), std::span(pem).first(static_cast<std::size_t>(size)));
  if (saved == 0 && ::fsync(fd.get()) != 0) saved = errno;
  fd.reset();
  if (saved == 0 && ::rename(temporary.c_str(), path.c_str()) != 0) saved = errno;
  if (saved != 0) {
    ::unlink(temporary.c_str());
    if (error)
      *error = "cannot write the certificate " + quoted(path) + ": " + std::strerror(saved);
    return errno_code(saved);
  }
  return {};
}

}  // namespace

Result<void> ensure_self_signed(const std::string& key_file, const std::string& cert_file,
                                std::string* error) {
  IdentityKey key;
  if (auto read = read_identity_key(key_file, &key, error); !read) return read.error();
  if (::access(cert_file.c_str(), F_OK) == 0) {
    // Kept when it is for this key; made again when the key changed or the file is damaged.
    if (auto existing = read_certificate(cert_file, nullptr)) {
      if (std::ranges::equal(ed25519_key_of(subject_public_key_info(*existing)), key.public_key)) {
        return {};
      }
    }
  }
  auto der = make_self_signed(&key, error);
  if (!der) return der.error();
  return write_certificate(*der, cert_file, error);
}

Result<std::string> certificate_pin(const std::string& cert_file, std::string* error) {
  auto der = read_certificate(cert_file, error);
  if (!der) return errno_code(EINVAL);
  std::string pin = pin_of_der(*der);
  if (pin.empty()) {
    if (error) *error = quoted(cert_file) + " has no public key this build can read";
    return errno_code(EINVAL);
  }
  return pin;
}

std::string library_version() {
  return std::string("wolfSSL ") + wolfSSL_lib_version();
}

}  // namespace ringtunnel::crypto::tls
