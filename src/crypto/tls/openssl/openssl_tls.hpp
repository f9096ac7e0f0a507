// SPDX-License-Identifier: MIT
// What the OpenSSL TLS files share: owning pointers, the contexts' insides, error text.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "crypto/tls/tls.hpp"

namespace ringtunnel::crypto::tls {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
};
struct X509Free {
  void operator()(X509* cert) const noexcept { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

struct TlsContext::Impl {
  SslCtxPtr ctx;
  bool server = false;
  Verify verify = Verify::pin;
  std::string server_name;  // client: SNI and, under Verify::ca, the name checked
  bool library_records = false;
};

/// SSL_CTX_set_keylog_callback's callback: keeps the application traffic secrets of the
/// connection the handshake is running on, for its RecordLayer (tls_connection.cpp).
void capture_traffic_secret(const SSL* ssl, const char* line);

/// `path` in quotes, as error messages name files.
inline std::string quoted(const std::string& path) {
  return "'" + path + "'";
}

/// The OpenSSL error queue as one line (emptied), or `fallback` when it is empty.
std::string take_ssl_errors(const char* fallback);

/// The pin of `cert`'s key (see certificate_pin), or an empty string if it has none.
std::string pin_of(X509* cert);

/// A one-line subject ("CN=..., O=...").
std::string subject_of(X509* cert);

}  // namespace ringtunnel::crypto::tls
