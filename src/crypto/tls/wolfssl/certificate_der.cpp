// SPDX-License-Identifier: MIT
// What a certificate's DER says: its key (pin, match with a private key) and its subject.
#include "crypto/wolfssl/wolfcrypt.hpp"
// The wolfSSL headers after wolfcrypt.hpp, which includes their options.h first.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "crypto/base64.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/fingerprint.hpp"
#include "crypto/hash.hpp"
#include "crypto/secure_buffer.hpp"
#include "crypto/tls/wolfssl/wolfssl_tls.hpp"
#include "net/unique_fd.hpp"

namespace ringtunnel::crypto::tls {
namespace {

// A key or certificate file is a few KiB at most; a CA bundle a few hundred.
constexpr std::size_t kMaxPemFile = std::size_t{4} << 20;

// One DER element (X.690 §8.1) taken off the front of `*der`: its tag, the whole encoding and
// its contents. Lengths up to 2^24 (a certificate is far smaller). False when malformed.
struct DerElement {
  std::uint8_t tag = 0;
  std::span<const std::byte> whole;
  std::span<const std::byte> contents;
};

bool take_element(std::span<const std::byte>* der, DerElement* element) {
  if (der->size() < 2) return false;
  std::size_t length = std::to_integer<std::size_t>((*der)[1]);
  std::size_t header = 2;
  if ((length & 0x80) != 0) {
    const std::size_t digits = length & 0x7f;
    if (digits == 0 || digits > 3 || der->size() < 2 + digits) return false;
    length = 0;
    for (std::size_t i = 0; i < digits; ++i) {
      length = (length << 8) | std::to_integer<std::size_t>((*der)[2 + i]);
    }
    header += digits;
  }
  if (der->size() - header < length) return false;
  element->tag = std::to_integer<std::uint8_t>((*der)[0]);
  element->whole = der->first(header + length);
  element->contents = der->subspan(header, length);
  *der = der->subspan(header + length);
  return true;
}

// SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (no unused bits) } before the raw key
// (RFC 8410 §4): an Ed25519 SPKI is these 12 bytes and the 32 of the key.
constexpr std::array<std::uint8_t, 12> kEd25519SpkiPrefix = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                             0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

// The public point of an EC SPKI (RFC 5480 §2.2: the BIT STRING's bytes after its unused-bits
// count), or empty.
std::span<const std::byte> ec_point(std::span<const std::byte> spki) {
  DerElement info, algorithm, key;
  if (!take_element(&spki, &info)) return {};
  std::span<const std::byte> fields = info.contents;
  if (!take_element(&fields, &algorithm) || !take_element(&fields, &key) || key.tag != 0x03 ||
      key.contents.size() < 2 || key.contents[0] != std::byte{0}) {
    return {};
  }
  return key.contents.subspan(1);
}

// An ecc_key, freed on every path.
class WolfEccKey {
 public:
  WolfEccKey() noexcept : ok_(wc_ecc_init(&key_) == 0) {}
  WolfEccKey(const WolfEccKey&) = delete;
  WolfEccKey& operator=(const WolfEccKey&) = delete;
  ~WolfEccKey() {
    if (ok_) wc_ecc_free(&key_);
  }
  // Null when wc_ecc_init failed.
  ecc_key* get() noexcept { return ok_ ? &key_ : nullptr; }

 private:
  ecc_key key_;
  bool ok_;
};

// The uncompressed public point of the EC private key in PEM `text` (PKCS#8 or SEC 1), derived
// from the private scalar; empty when `text` holds no EC key.
std::vector<std::byte> ec_public_point(std::span<const std::byte> text) {
  std::vector<std::byte> der(text.size());
  const int size = wc_KeyPemToDer(detail::wolf_in(text), static_cast<int>(text.size()),
                                  detail::wolf_out(der), static_cast<int>(der.size()), nullptr);
  std::vector<std::byte> point;
  WolfEccKey key;
  word32 at = 0;
  if (size > 0 && key.get() != nullptr) {
    auto* bytes = reinterpret_cast<byte*>(der.data());
    if (wc_GetPkcs8TraditionalOffset(bytes, &at, static_cast<word32>(size)) < 0) at = 0;
    if (wc_EccPrivateKeyDecode(bytes, &at, key.get(), static_cast<word32>(size)) == 0 &&
        wc_ecc_make_pub(key.get(), nullptr) == 0) {
      point.resize(1 + 2 * MAX_ECC_BYTES);
      word32 length = static_cast<word32>(point.size());
      if (wc_ecc_export_x963(key.get(), detail::wolf_out(point), &length) == 0) {
        point.resize(length);
      } else {
        point.clear();
      }
    }
  }
  secure_wipe(der);
  return point;
}

}  // namespace

int read_small_file(const std::string& path, std::vector<std::byte>* bytes) {
  const net::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0) return errno;
  if (static_cast<std::size_t>(st.st_size) > kMaxPemFile) return EFBIG;
  bytes->clear();
  bytes->reserve(static_cast<std::size_t>(st.st_size) + 1);
  for (;;) {
    const std::size_t at = bytes->size();
    if (at > kMaxPemFile) return EFBIG;
    bytes->resize(std::max(at + 1, bytes->capacity()));
    const ssize_t n = ::read(fd.get(), bytes->data() + at, bytes->size() - at);
    bytes->resize(at + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return 0;
  }
}

Result<std::vector<std::byte>> read_certificate(const std::string& path, std::string* error) {
  std::vector<std::byte> pem;
  if (const int err = read_small_file(path, &pem); err != 0) {
    if (error) *error = "cannot read the certificate " + quoted(path) + ": " + std::strerror(err);
    return errno_code(err);
  }
  std::vector<std::byte> der(pem.size());
  const int size = wc_CertPemToDer(detail::wolf_in(pem), static_cast<int>(pem.size()),
                                   detail::wolf_out(der), static_cast<int>(der.size()), CERT_TYPE);
  if (size <= 0) {
    if (error)
      *error =
          quoted(path) + " is not a PEM certificate (" + tls_error_words(size, "no data") + ")";
    return errno_code(EINVAL);
  }
  der.resize(static_cast<std::size_t>(size));
  return der;
}

std::span<const std::byte> subject_public_key_info(std::span<const std::byte> der) {
  DerElement certificate, tbs, field;
  if (!take_element(&der, &certificate) || certificate.tag != 0x30) return {};
  std::span<const std::byte> body = certificate.contents;
  if (!take_element(&body, &tbs) || tbs.tag != 0x30) return {};
  std::span<const std::byte> fields = tbs.contents;
  // [0] version (absent in v1), serialNumber, signature, issuer, validity, subject, the key.
  if (!take_element(&fields, &field)) return {};
  if (field.tag == 0xa0 && !take_element(&fields, &field)) return {};
  for (int skipped = 0; skipped < 4; ++skipped) {
    if (!take_element(&fields, &field)) return {};
  }
  if (!take_element(&fields, &field) || field.tag != 0x30) return {};
  return field.whole;
}

std::span<const std::byte> ed25519_key_of(std::span<const std::byte> spki) {
  const bool ed25519 =
      spki.size() == kEd25519SpkiPrefix.size() + kEd25519PublicKeySize &&
      std::equal(kEd25519SpkiPrefix.begin(), kEd25519SpkiPrefix.end(), spki.begin(),
                 [](std::uint8_t a, std::byte b) { return std::byte{a} == b; });
  return ed25519 ? spki.last(kEd25519PublicKeySize) : std::span<const std::byte>{};
}

std::string pin_of_der(std::span<const std::byte> der) {
  const std::span<const std::byte> spki = subject_public_key_info(der);
  if (spki.empty()) return {};
  if (const auto raw = ed25519_key_of(spki); !raw.empty()) {
    return fingerprint(raw.first<kEd25519PublicKeySize>());
  }
  std::string text = detail::base64_encode(sha256(spki));
  while (!text.empty() && text.back() == '=') text.pop_back();
  return "SHA256:" + text;
}

std::string subject_of_der(std::span<const std::byte> der) {
  auto cert = std::make_unique<DecodedCert>();  // several KiB: not on the stack
  wc_InitDecodedCert(cert.get(), detail::wolf_in(der), detail::wolf_size(der), nullptr);
  std::string subject;
  if (wc_ParseCert(cert.get(), CERT_TYPE, NO_VERIFY, nullptr) == 0) subject = cert->subject;
  wc_FreeDecodedCert(cert.get());
  return subject;
}

bool ec_key_mismatch(const std::string& cert_file, const std::string& key_file) {
  auto der = read_certificate(cert_file, nullptr);
  std::vector<std::byte> text;
  const int err = read_small_file(key_file, &text);
  const std::vector<std::byte> derived =
      der && err == 0 ? ec_public_point(text) : std::vector<std::byte>{};
  secure_wipe(text);
  if (derived.empty()) return false;  // not an EC key (or unreadable: the library said so)
  const std::span<const std::byte> point = ec_point(subject_public_key_info(*der));
  return !std::ranges::equal(point, derived);
}

}  // namespace ringtunnel::crypto::tls
