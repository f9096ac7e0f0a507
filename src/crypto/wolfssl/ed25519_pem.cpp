// SPDX-License-Identifier: MIT
// The Ed25519 key file's PEM PKCS#8 codec over wolfCrypt (wc_DerToPem, wc_PemToDer).
#include "crypto/ed25519_pem.hpp"
#include "crypto/wolfssl/ed25519_key.hpp"
// The wolfSSL headers after wolfcrypt.hpp, which includes their options.h first.
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <memory>

#include "crypto/secure_buffer.hpp"

namespace ringtunnel::crypto::detail {
namespace {

// The PKCS#8 DER of an Ed25519 key is 48 bytes and its PEM 119: room to spare for both.
constexpr std::size_t kDerCapacity = 128;
constexpr std::size_t kPemCapacity = 256;

// wc_PemToDer's output, wiped (it holds the seed) and freed.
struct DerFree {
  void operator()(DerBuffer* der) const noexcept {
    if (der->buffer != nullptr) secure_wipe(std::as_writable_bytes(std::span(der->buffer, der->length)));
    wc_FreeDer(&der);
  }
};
using DerPtr = std::unique_ptr<DerBuffer, DerFree>;

// The name OpenSSL's EVP_PKEY_get0_type_name gives the key type wolfCrypt's PEM reader found,
// so both builds word the wrong-type error alike.
const char* key_type_name(int key_format) noexcept {
  switch (key_format) {
    case RSAk:
      return "RSA";
    case RSAPSSk:
      return "RSA-PSS";
    case DSAk:
      return "DSA";
    case ECDSAk:
      return "EC";
    case DHk:
      return "DH";
    case X25519k:
      return "X25519";
    case X448k:
      return "X448";
    case ED448k:
      return "ED448";
    default:
      return "";
  }
}

// The PEM text of `seed`'s key into `pem`; its length, or a wolfCrypt error (negative).
int encode(std::span<const std::byte, kEd25519SeedSize> seed,
           std::span<std::byte, kPemCapacity> pem) noexcept {
  WolfEd25519Key key;
  if (key.get() == nullptr) return BAD_STATE_E;
  std::array<std::byte, kDerCapacity> der{};
  // PKCS#8 v0 with no public key attribute: the form OpenSSL writes.
  int ret = wc_ed25519_import_private_only(wolf_in(seed), wolf_size(seed), key.get());
  if (ret == 0) ret = wc_Ed25519PrivateKeyToDer(key.get(), wolf_out(der), wolf_size(der));
  if (ret > 0) {
    ret = wc_DerToPem(wolf_in(std::span(der).first(static_cast<std::size_t>(ret))),
                      static_cast<word32>(ret), wolf_out(pem), wolf_size(pem),
                      PKCS8_PRIVATEKEY_TYPE);
  }
  secure_wipe(der);
  return ret;
}

}  // namespace

int write_ed25519_pem(int fd, std::span<const std::byte, kEd25519SeedSize> seed) noexcept {
  std::array<std::byte, kPemCapacity> pem{};
  const int size = encode(seed, pem);
  int err = EIO;
  if (size > 0) {
    err = write_all(fd, std::span(pem).first(static_cast<std::size_t>(size)));
  } else {
    note_library_error(size != 0 ? size : BUFFER_E);
  }
  secure_wipe(pem);
  return err;
}

PemKeyRead read_ed25519_pem(std::span<const std::byte> text,
                            std::span<std::byte, kEd25519SeedSize> seed, std::string& type) {
  if (text.size() > INT_MAX) return PemKeyRead::not_a_key;  // the caller caps it far below
  // With `key_format` asked for, wc_PemToDer also unwraps PKCS#8: the DER is then the key's
  // own encoding (for Ed25519 the OCTET STRING of the seed) and key_format names its type.
  DerBuffer* raw = nullptr;
  EncryptedInfo info{};  // no passphrase callback: an encrypted key fails with NO_PASSWORD
  int key_format = 0;
  const int ret = wc_PemToDer(wolf_in(text), static_cast<long>(text.size()), PRIVATEKEY_TYPE, &raw,
                              nullptr, &info, &key_format);
  const DerPtr der(raw);
  if (ret != 0) {
    note_library_error(ret);
    return ret == NO_PASSWORD ? PemKeyRead::encrypted : PemKeyRead::not_a_key;
  }
  if (key_format != ED25519k) {
    type = key_type_name(key_format);
    return PemKeyRead::other_type;
  }
  WolfEd25519Key key;
  word32 index = 0;
  word32 length = wolf_size(seed);
  if (key.get() == nullptr ||
      note_library_error(
          wc_Ed25519PrivateKeyDecode(der->buffer, &index, key.get(), der->length)) != 0 ||
      note_library_error(wc_ed25519_export_private_only(key.get(), wolf_out(seed), &length)) != 0 ||
      length != seed.size()) {
    secure_wipe(seed);
    return PemKeyRead::no_seed;
  }
  return PemKeyRead::ed25519;
}

}  // namespace ringtunnel::crypto::detail
