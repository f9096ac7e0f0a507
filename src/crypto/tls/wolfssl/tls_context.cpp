// SPDX-License-Identifier: MIT
// TlsContext on wolfSSL: TLS 1.3 only, no tickets, no early data; certificates and trust.
#include "crypto/wolfssl/wolfcrypt.hpp"
// The wolfSSL headers after wolfcrypt.hpp, which includes their options.h first.
#include <unistd.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include <cerrno>
#include <cstring>

#include "crypto/tls/wolfssl/wolfssl_tls.hpp"

namespace ringtunnel::crypto::tls {
namespace {

// wolfSSL_CTX_new would initialise the library itself, but not safely from two threads at once.
bool library_ready() {
  static const bool ready = wolfSSL_Init() == WOLFSSL_SUCCESS;
  return ready;
}

// The settings both roles share. The TLS 1.3 methods never downgrade (and TLS 1.3 has no
// renegotiation); tickets, and with them resumption and 0-RTT, are off: every connection is a
// full handshake bound to its certificate check.
WolfCtxPtr new_context(WOLFSSL_METHOD* method, std::string* error) {
  WolfCtxPtr ctx(library_ready() && method != nullptr ? wolfSSL_CTX_new(method) : nullptr);
  if (!ctx) {
    if (error) *error = "cannot create a TLS context: out of memory";
    return nullptr;
  }
  wolfSSL_CTX_no_ticket_TLSv13(ctx.get());
  wolfSSL_CTX_set_session_cache_mode(ctx.get(), WOLFSSL_SESS_CACHE_OFF);
  // AES-256-GCM first (as the native transport), then ChaCha20 for CPUs without AES-NI.
  // X25519 first among the groups: the key share a client sends, as OpenSSL's.
  int groups[] = {WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1, WOLFSSL_ECC_X448,
                  WOLFSSL_ECC_SECP384R1, WOLFSSL_ECC_SECP521R1};
  if (wolfSSL_CTX_set_cipher_list(
          ctx.get(), "TLS13-AES256-GCM-SHA384:TLS13-CHACHA20-POLY1305-SHA256") != WOLFSSL_SUCCESS ||
      wolfSSL_CTX_set_groups(ctx.get(), groups, static_cast<int>(std::size(groups))) !=
          WOLFSSL_SUCCESS) {
    if (error) *error = "this wolfSSL build lacks TLS 1.3's AES-256-GCM, ChaCha20 or X25519";
    return nullptr;
  }
  return ctx;
}

bool readable(const std::string& path, const char* what, std::string* error) {
  if (::access(path.c_str(), R_OK) == 0) return true;
  if (error)
    *error =
        "cannot read the " + std::string(what) + " " + quoted(path) + ": " + std::strerror(errno);
  return false;
}

Result<void> use_certificate(WOLFSSL_CTX* ctx, const std::string& cert_file,
                             const std::string& key_file, std::string* error) {
  if (!readable(cert_file, "certificate", error) || !readable(key_file, "key", error)) {
    return errno_code(ENOENT);
  }
  if (const int used = wolfSSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str());
      used != WOLFSSL_SUCCESS) {
    if (error)
      *error = quoted(cert_file) + " is not a PEM certificate chain (" +
               tls_error_words(used, "unreadable") + ")";
    return errno_code(EINVAL);
  }
  if (const int used = wolfSSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), WOLFSSL_FILETYPE_PEM);
      used != WOLFSSL_SUCCESS) {
    if (error)
      *error = quoted(key_file) + " is not a PEM private key (" +
               tls_error_words(used, "unreadable") + ")";
    return errno_code(EINVAL);
  }
  if (wolfSSL_CTX_check_private_key(ctx) != WOLFSSL_SUCCESS ||
      ec_key_mismatch(cert_file, key_file)) {
    if (error)
      *error = "the key " + quoted(key_file) + " does not belong to the certificate " +
               quoted(cert_file);
    wolfSSL_ERR_clear_error();
    return errno_code(EINVAL);
  }
  return {};
}

Result<void> trust_ca(WOLFSSL_CTX* ctx, const std::string& ca_file, std::string* error) {
  if (ca_file.empty()) {
    if (const int loaded = wolfSSL_CTX_load_system_CA_certs(ctx); loaded != WOLFSSL_SUCCESS) {
      if (error)
        *error = "cannot load the system's CA certificates: " + tls_error_words(loaded, "?");
      return errno_code(EINVAL);
    }
    return {};
  }
  if (!readable(ca_file, "CA bundle", error)) return errno_code(ENOENT);
  if (const int loaded = wolfSSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
      loaded != WOLFSSL_SUCCESS) {
    if (error)
      *error = quoted(ca_file) + " holds no PEM CA certificate (" +
               tls_error_words(loaded, "unreadable") + ")";
    return errno_code(EINVAL);
  }
  return {};
}

}  // namespace

void free_ecc_cache_at_thread_exit() noexcept {
  struct EccCache {
    EccCache() = default;
    EccCache(const EccCache&) = delete;
    EccCache& operator=(const EccCache&) = delete;
    ~EccCache() { wc_ecc_fp_free(); }
  };
  thread_local const EccCache cache;  // constructed on this thread's first call
}

TlsContext::TlsContext(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
TlsContext::~TlsContext() = default;

Result<std::unique_ptr<TlsContext>> TlsContext::server(const ServerConfig& config,
                                                       std::string* error) {
  free_ecc_cache_at_thread_exit();
  auto impl = std::make_unique<Impl>();
  impl->server = true;
  impl->ctx = new_context(wolfTLSv1_3_server_method(), error);
  if (!impl->ctx) return errno_code(ENOMEM);
  // The client's order of suites, as OpenSSL's default: a client without AES-NI that puts
  // ChaCha20 first gets it (wolfSSL would otherwise pick by its own list).
  wolfSSL_CTX_UseClientSuites(impl->ctx.get());
  if (auto used = use_certificate(impl->ctx.get(), config.cert_file, config.key_file, error);
      !used) {
    return used.error();
  }
  if (config.client_ca_file.empty()) {
    wolfSSL_CTX_set_verify(impl->ctx.get(), WOLFSSL_VERIFY_NONE, nullptr);
  } else {
    if (auto trusted = trust_ca(impl->ctx.get(), config.client_ca_file, error); !trusted) {
      return trusted.error();
    }
    wolfSSL_CTX_set_verify(impl->ctx.get(),
                           WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    impl->verify_peer = true;
    // The CA names go into the CertificateRequest, so a client knows which certificate to send.
    if (auto* names = wolfSSL_load_client_CA_file(config.client_ca_file.c_str())) {
      wolfSSL_CTX_set_client_CA_list(impl->ctx.get(), names);  // the context owns them
    }
    wolfSSL_ERR_clear_error();
  }
  return std::unique_ptr<TlsContext>(new TlsContext(std::move(impl)));
}

Result<std::unique_ptr<TlsContext>> TlsContext::client(const ClientConfig& config,
                                                       std::string* error) {
  free_ecc_cache_at_thread_exit();
  auto impl = std::make_unique<Impl>();
  impl->verify = config.verify;
  impl->server_name = config.server_name;
  impl->ctx = new_context(wolfTLSv1_3_client_method(), error);
  if (!impl->ctx) return errno_code(ENOMEM);
  if (config.verify == Verify::ca) {
    if (auto trusted = trust_ca(impl->ctx.get(), config.ca_file, error); !trusted) {
      return trusted.error();
    }
    wolfSSL_CTX_set_verify(impl->ctx.get(), WOLFSSL_VERIFY_PEER, nullptr);
    impl->verify_peer = true;
  } else {
    // Pinning checks the key after the handshake (known_hosts); insecure checks nothing.
    // (A wolfSSL client verifies by default: say so explicitly.)
    wolfSSL_CTX_set_verify(impl->ctx.get(), WOLFSSL_VERIFY_NONE, nullptr);
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
