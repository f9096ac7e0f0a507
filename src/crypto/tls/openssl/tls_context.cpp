// SPDX-License-Identifier: MIT
// TlsContext on OpenSSL: TLS 1.3 only, no tickets, no early data; certificates and trust.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "crypto/tls/openssl/openssl_tls.hpp"

namespace ringtunnel::crypto::tls {
namespace {

// The settings both roles share. TLS 1.3 has no renegotiation; tickets (and so resumption
// and 0-RTT) are off: every connection is a full handshake bound to its certificate check.
SslCtxPtr new_context(const SSL_METHOD* method, std::string* error) {
  SslCtxPtr ctx(SSL_CTX_new(method));
  if (!ctx) {
    if (error) *error = "cannot create a TLS context: " + take_ssl_errors("out of memory");
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  SSL_CTX_set_max_early_data(ctx.get(), 0);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  // AES-256-GCM first (as the native transport), then ChaCha20 for CPUs without AES-NI.
  SSL_CTX_set_ciphersuites(ctx.get(), "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  // The BIO never refuses a write (see tls_connection.cpp), so SSL_write always completes.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // The only way OpenSSL 3.0 hands out the traffic secrets RecordLayer takes over with.
  SSL_CTX_set_keylog_callback(ctx.get(), capture_traffic_secret);
  return ctx;
}

bool readable(const std::string& path, const char* what, std::string* error) {
  if (::access(path.c_str(), R_OK) == 0) return true;
  if (error)
    *error =
        "cannot read the " + std::string(what) + " " + quoted(path) + ": " + std::strerror(errno);
  return false;
}

Result<void> use_certificate(SSL_CTX* ctx, const std::string& cert_file,
                             const std::string& key_file, std::string* error) {
  if (!readable(cert_file, "certificate", error) || !readable(key_file, "key", error)) {
    return errno_code(ENOENT);
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    if (error)
      *error = quoted(cert_file) + " is not a PEM certificate chain (" +
               take_ssl_errors("unreadable") + ")";
    return errno_code(EINVAL);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (error)
      *error =
          quoted(key_file) + " is not a PEM private key (" + take_ssl_errors("unreadable") + ")";
    return errno_code(EINVAL);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    if (error)
      *error = "the key " + quoted(key_file) + " does not belong to the certificate " +
               quoted(cert_file);
    ERR_clear_error();
    return errno_code(EINVAL);
  }
  return {};
}

Result<void> trust_ca(SSL_CTX* ctx, const std::string& ca_file, std::string* error) {
  if (ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      if (error) *error = "cannot load the system's CA certificates: " + take_ssl_errors("?");
      return errno_code(EINVAL);
    }
    return {};
  }
  if (!readable(ca_file, "CA bundle", error)) return errno_code(ENOENT);
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    if (error)
      *error =
          quoted(ca_file) + " holds no PEM CA certificate (" + take_ssl_errors("unreadable") + ")";
    return errno_code(EINVAL);
  }
  return {};
}

}  // namespace

TlsContext::TlsContext(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
TlsContext::~TlsContext() = default;

Result<std::unique_ptr<TlsContext>> TlsContext::server(const ServerConfig& config,
                                                       std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->server = true;
  impl->library_records = config.library_records;
  impl->ctx = new_context(TLS_server_method(), error);
  if (!impl->ctx) return errno_code(ENOMEM);
  if (auto used = use_certificate(impl->ctx.get(), config.cert_file, config.key_file, error);
      !used) {
    return used.error();
  }
  if (!config.client_ca_file.empty()) {
    if (auto trusted = trust_ca(impl->ctx.get(), config.client_ca_file, error); !trusted) {
      return trusted.error();
    }
    SSL_CTX_set_verify(impl->ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    // The CA names go into the CertificateRequest, so a client knows which certificate to send.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.client_ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(impl->ctx.get(), names);
    ERR_clear_error();
  }
  return std::unique_ptr<TlsContext>(new TlsContext(std::move(impl)));
}

Result<std::unique_ptr<TlsContext>> TlsContext::client(const ClientConfig& config,
                                                       std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->verify = config.verify;
  impl->server_name = config.server_name;
  impl->library_records = config.library_records;
  impl->ctx = new_context(TLS_client_method(), error);
  if (!impl->ctx) return errno_code(ENOMEM);
  if (config.verify == Verify::ca) {
    if (auto trusted = trust_ca(impl->ctx.get(), config.ca_file, error); !trusted) {
      return trusted.error();
    }
    SSL_CTX_set_verify(impl->ctx.get(), SSL_VERIFY_PEER, nullptr);
  } else {
    // Pinning checks the key after the handshake (known_hosts); insecure checks nothing.
    SSL_CTX_set_verify(impl->ctx.get(), SSL_VERIFY_NONE, nullptr);
  }
  if (!config.cert_file.empty() || !config.key_file.empty()) {
    if (config.cert_file.empty() || config.key_file.empty()) {
      if (error) *error = "a client certificate needs both --tls-cert and --tls-key";
      return errno_code(EINVAL);
    }
    if (auto used = use_certificate(impl->ctx.get(), config.cert_file, config.key_file, error);
        !used) {
      return used.error();
    }
  }
  return std::unique_ptr<TlsContext>(new TlsContext(std::move(impl)));
}

}  // namespace ringtunnel::crypto::tls
