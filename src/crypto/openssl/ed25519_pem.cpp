// SPDX-License-Identifier: MIT
// The Ed25519 key file's PEM PKCS#8 codec over OpenSSL 3 (PEM_write/read_bio_PrivateKey).
#include "crypto/ed25519_pem.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cerrno>
#include <climits>
#include <memory>

namespace ringtunnel::crypto::detail {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct BioFree {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

// The passphrase callback: never prompt on the terminal (the PEM default would).
int no_passphrase(char*, int, int, void*) { return -1; }

}  // namespace

int write_ed25519_pem(int fd, std::span<const std::byte, kEd25519SeedSize> seed) noexcept {
  const PkeyPtr key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), seed.size()));
  const BioPtr bio(BIO_new_fd(fd, BIO_NOCLOSE));
  errno = 0;
  if (!key || !bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return errno != 0 ? errno : EIO;
  }
  return 0;
}

PemKeyRead read_ed25519_pem(std::span<const std::byte> text,
                            std::span<std::byte, kEd25519SeedSize> seed, std::string& type) {
  if (text.size() > INT_MAX) return PemKeyRead::not_a_key;  // the caller caps it far below
  // A read-only memory BIO over the caller's bytes: no copy of the key is made here.
  const BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  const PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr)
                        : nullptr);
  if (!key) {
    return ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_BAD_PASSWORD_READ
               ? PemKeyRead::encrypted
               : PemKeyRead::not_a_key;
  }
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    const char* name = EVP_PKEY_get0_type_name(key.get());
    type = name != nullptr ? name : "";
    return PemKeyRead::other_type;
  }
  std::size_t length = seed.size();
  if (EVP_PKEY_get_raw_private_key(key.get(), reinterpret_cast<unsigned char*>(seed.data()),
                                   &length) != 1 ||
      length != seed.size()) {
    return PemKeyRead::no_seed;
  }
  return PemKeyRead::ed25519;
}

}  // namespace ringtunnel::crypto::detail
