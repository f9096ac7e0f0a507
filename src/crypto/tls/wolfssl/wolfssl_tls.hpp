// SPDX-License-Identifier: MIT
// What the wolfSSL TLS files share: the context's insides, certificate facts, error words.
#pragma once

#include "crypto/wolfssl/wolfcrypt.hpp"
// The wolfSSL headers after wolfcrypt.hpp, which includes their options.h first.
#include <wolfssl/ssl.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "crypto/tls/tls.hpp"

namespace ringtunnel::crypto::tls {

struct WolfCtxFree {
  void operator()(WOLFSSL_CTX* ctx) const noexcept { wolfSSL_CTX_free(ctx); }
};
using WolfCtxPtr = std::unique_ptr<WOLFSSL_CTX, WolfCtxFree>;

// ServerConfig/ClientConfig::library_records needs no field: this build cannot learn the
// traffic secrets (wolfSSL is built without HAVE_SECRET_CALLBACK), so wolfSSL always keeps
// its own record layer.
struct TlsContext::Impl {
  WolfCtxPtr ctx;
  bool server = false;
  bool verify_peer = false;  // the library checks the peer's chain (client ca, server mTLS)
  Verify verify = Verify::pin;
  std::string server_name;  // client: SNI and, under Verify::ca, the name checked
};

/// Frees this thread's cache of EC points (wc_ecc_fp_free) when the thread ends. wolfCrypt,
/// built with FP_ECC, keeps one per thread and frees it only when that thread asks: every
/// thread that may run EC arithmetic (contexts, handshakes) calls this first; calling it again
/// costs a thread-local check.
void free_ecc_cache_at_thread_exit() noexcept;

/// `path` in quotes, as error messages name files.
inline std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

/// Words for a wolfSSL or wolfCrypt error code (negative): OpenSSL's wording where the two
/// builds should log alike ("unsupported protocol", "hostname mismatch"), else wolfSSL's own.
/// `fallback` for a code that is not an error. Empties wolfSSL's error queue.
std::string tls_error_words(int code, const char* fallback);

/// True for the error codes that mean a certificate (chain, name, dates, presence) failed.
bool is_certificate_error(int code) noexcept;

/// The whole of `path` (at most 4 MiB) into `*bytes`; 0 or the errno of the failure.
int read_small_file(const std::string& path, std::vector<std::byte>* bytes);

/// The DER of the first certificate in the PEM file `path`; on failure says why in `*error`
/// (when non-null), naming the file.
Result<std::vector<std::byte>> read_certificate(const std::string& path, std::string* error);

/// The DER SubjectPublicKeyInfo inside the certificate `der` (RFC 5280 §4.1), or empty.
std::span<const std::byte> subject_public_key_info(std::span<const std::byte> der);

/// The 32 raw bytes of an Ed25519 SubjectPublicKeyInfo (RFC 8410), or empty for another key.
std::span<const std::byte> ed25519_key_of(std::span<const std::byte> spki);

/// The pin of the certificate in `der` (see certificate_pin), or empty when it has no key
/// this build can read.
std::string pin_of_der(std::span<const std::byte> der);

/// The one-line subject ("/CN=...") of the certificate in `der`, or empty if it does not parse.
std::string subject_of_der(std::span<const std::byte> der);

/// True when `key_file` holds an EC key whose public point is not that of the first certificate
/// in `cert_file`. wolfSSL 5.5's check_private_key misses exactly this (it imports the EC pair
/// without validating it); any other trouble is left to the library's own loading.
bool ec_key_mismatch(const std::string& cert_file, const std::string& key_file);

}  // namespace ringtunnel::crypto::tls
