// SPDX-License-Identifier: MIT
// TlsConnection on wolfSSL: a WOLFSSL object whose I/O callbacks read and write caller spans.
#include "crypto/wolfssl/wolfcrypt.hpp"
// The wolfSSL headers after wolfcrypt.hpp, which includes their options.h first.
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <new>

#include "crypto/tls/record_layer.hpp"  // kKeyUpdateRecordSize
#include "crypto/tls/wire.hpp"
#include "crypto/tls/wolfssl/wolfssl_tls.hpp"
#include "protocol/reason.hpp"

namespace ringtunnel::crypto::tls {
namespace {

using protocol::Reason;

std::error_code reason(Reason r) noexcept {
  return protocol::make_error_code(r);
}

using detail::Wire;

int wire_send(WOLFSSL*, char* data, int size, void* context) {
  auto* wire = static_cast<Wire*>(context);
  return detail::wire_put(*wire, std::as_bytes(std::span(data, static_cast<std::size_t>(size))))
             ? size
             : WOLFSSL_CBIO_ERR_GENERAL;
}

// wolfSSL asks for exactly the bytes it needs (a record header, then its body), so it never
// takes bytes past the handshake or past the record being read.
int wire_receive(WOLFSSL*, char* data, int size, void* context) {
  auto* wire = static_cast<Wire*>(context);
  const std::size_t n = detail::wire_take(
      *wire, std::as_writable_bytes(std::span(data, static_cast<std::size_t>(size))));
  return n == 0 ? WOLFSSL_CBIO_ERR_WANT_READ : static_cast<int>(n);
}

struct SslFree {
  void operator()(WOLFSSL* ssl) const noexcept { wolfSSL_free(ssl); }
};

// RFC 8446 §6 names of the alerts a peer may end a handshake with.
struct AlertName {
  int code;
  const char* name;
};
constexpr AlertName kAlertNames[] = {
    {10, "unexpected message"},
    {20, "bad record mac"},
    {40, "handshake failure"},
    {42, "bad certificate"},
    {43, "unsupported certificate"},
    {44, "certificate revoked"},
    {45, "certificate expired"},
    {46, "certificate unknown"},
    {47, "illegal parameter"},
    {48, "unknown ca"},
    {49, "access denied"},
    {50, "decode error"},
    {51, "decrypt error"},
    {70, "protocol version"},
    {71, "insufficient security"},
    {80, "internal error"},
    {86, "inappropriate fallback"},
    {90, "user canceled"},
    {109, "missing extension"},
    {110, "unsupported extension"},
    {112, "unrecognized name"},
    {116, "certificate required"},
    {120, "no application protocol"},
};

const char* alert_name(int code) noexcept {
  for (const AlertName& alert : kAlertNames) {
    if (alert.code == code) return alert.name;
  }
  return "unknown";
}

// Alerts the peer sends about our certificate. (In TLS 1.3 a server checks the client's
// certificate after the client has finished its handshake, so the client meets these alerts
// on its first read.)
bool is_certificate_alert(int code) noexcept {
  return (code >= 42 && code <= 46) || code == 48 || code == 49 || code == 116;
}

}  // namespace

struct TlsConnection::Impl {
  std::unique_ptr<WOLFSSL, SslFree> ssl;
  Wire wire;
  PeerCertificate peer;
  std::string error_text;
  bool server = false;
  bool key_update_due = false;     // update_key() asked; sent before the next write's records
  std::vector<std::byte> staging;  // the pieces of one write, gathered for wolfSSL_write
  const TlsContext::Impl* context = nullptr;

  // The error of a failed wolfSSL call `result`, with error_text filled in.
  std::error_code failure(int result, Reason otherwise) {
    const int code = wolfSSL_get_error(ssl.get(), result);
    if (wire.overflow) {
      wolfSSL_ERR_clear_error();
      error_text = "the peer made us queue more than 64 KiB of TLS messages";
      return reason(Reason::protocol_error);
    }
    if (code == WOLFSSL_ERROR_ZERO_RETURN) {
      wolfSSL_ERR_clear_error();
      error_text = "the peer closed TLS (close_notify) without the session's CLOSE";
      return reason(Reason::protocol_error);
    }
    if (code == FATAL_ERROR) {  // the peer sent a fatal alert
      WOLFSSL_ALERT_HISTORY history{};
      wolfSSL_get_alert_history(ssl.get(), &history);
      wolfSSL_ERR_clear_error();
      error_text = std::string("the peer sent the TLS alert ") + alert_name(history.last_rx.code);
      return reason(is_certificate_alert(history.last_rx.code) ? Reason::certificate_rejected
                                                               : otherwise);
    }
    if (code == VERIFY_MAC_ERROR || code == DECRYPT_ERROR || code == AES_GCM_AUTH_E ||
        code == MAC_CMP_FAILED_E) {
      wolfSSL_ERR_clear_error();
      error_text = "a TLS record did not authenticate";
      return reason(Reason::decrypt_failed);
    }
    if (is_certificate_error(code)) {
      const std::string words = tls_error_words(code, "certificate verify failed");
      error_text = code == NO_PEER_CERT ? words : "certificate verify failed: " + words;
      return reason(Reason::certificate_rejected);
    }
    error_text = tls_error_words(code, "TLS failure");
    return reason(otherwise);
  }

  void learn_peer() {
    WOLFSSL_X509_CHAIN* chain = wolfSSL_get_peer_chain(ssl.get());
    peer.presented = chain != nullptr && wolfSSL_get_chain_count(chain) > 0;
    if (!peer.presented) return;
    const auto* leaf = reinterpret_cast<const std::byte*>(wolfSSL_get_chain_cert(chain, 0));
    const int length = wolfSSL_get_chain_length(chain, 0);
    if (leaf == nullptr || length <= 0) return;
    const std::span der(leaf, static_cast<std::size_t>(length));
    peer.pin = pin_of_der(der);
    peer.subject = subject_of_der(der);
    // With verification on, a chain that failed would have failed the handshake.
    peer.chain_verified = context->verify_peer && wolfSSL_get_verify_result(ssl.get()) == X509_V_OK;
  }
};

TlsConnection::TlsConnection(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
TlsConnection::~TlsConnection() = default;

Result<std::unique_ptr<TlsConnection>> TlsContext::new_connection() const {
  auto impl = std::make_unique<TlsConnection::Impl>();
  impl->server = impl_->server;
  impl->context = impl_.get();
  impl->ssl.reset(wolfSSL_new(impl_->ctx.get()));
  if (!impl->ssl) {
    wolfSSL_ERR_clear_error();
    return errno_code(ENOMEM);
  }
  WOLFSSL* ssl = impl->ssl.get();
  wolfSSL_SSLSetIORecv(ssl, wire_receive);
  wolfSSL_SSLSetIOSend(ssl, wire_send);
  // The Impl lives on the heap and owns the WOLFSSL: the pointer outlives every callback.
  wolfSSL_SetIOReadCtx(ssl, &impl->wire);
  wolfSSL_SetIOWriteCtx(ssl, &impl->wire);
  const std::string& name = impl_->server_name;
  if (!impl_->server && !name.empty()) {
    const bool ip = detail::is_ip_literal(name);
    // SNI carries DNS names only.
    if (!ip && wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, name.data(),
                              static_cast<unsigned short>(name.size())) != WOLFSSL_SUCCESS) {
      return errno_code(ENOMEM);
    }
    if (impl_->verify == Verify::ca) {
      // wolfSSL checks a DNS name against the SANs (or the CN without them); an IP literal goes
      // through the verify parameters, which match it against the IP SANs.
      const int set =
          ip ? wolfSSL_X509_VERIFY_PARAM_set1_ip_asc(wolfSSL_get0_param(ssl), name.c_str())
             : wolfSSL_check_domain_name(ssl, name.c_str());
      if (set != WOLFSSL_SUCCESS) {
        wolfSSL_ERR_clear_error();
        return errno_code(EINVAL);
      }
    }
  }
  return std::make_unique<TlsConnection>(std::move(impl));
}

Result<HandshakeStep> TlsConnection::handshake(std::span<const std::byte> input,
                                               std::vector<std::byte>* output) {
  Wire& wire = impl_->wire;
  wire.input = input;
  wire.taken = 0;
  wire.out = {};
  wire.written = 0;
  WOLFSSL* ssl = impl_->ssl.get();
  free_ecc_cache_at_thread_exit();  // ECDSA certificates and P-256 key shares use the cache
  const int result = impl_->server ? wolfSSL_accept(ssl) : wolfSSL_connect(ssl);
  output->insert(output->end(), wire.queued.begin(), wire.queued.end());
  wire.queued.clear();
  HandshakeStep step{wire.taken, result == WOLFSSL_SUCCESS};
  wire.input = {};
  if (step.done) {
    impl_->learn_peer();
    return step;
  }
  if (wolfSSL_get_error(ssl, result) == WOLFSSL_ERROR_WANT_READ && !wire.overflow) {
    wolfSSL_ERR_clear_error();
    return step;
  }
  return impl_->failure(result, Reason::tls_failed);
}

std::size_t TlsConnection::sealed_size(std::size_t plaintext) const noexcept {
  const std::size_t records = (plaintext + kMaxTlsPlaintext - 1) / kMaxTlsPlaintext;
  // Room for a KeyUpdate of our own (update_key) as well: one small record.
  return impl_->wire.queued.size() + plaintext + records * kTlsRecordOverhead +
         kKeyUpdateRecordSize;
}

Result<std::size_t> TlsConnection::write(std::span<const std::span<const std::byte>> pieces,
                                         std::span<std::byte> out) noexcept {
  std::size_t total = 0;
  for (const auto piece : pieces) total += piece.size();
  if (out.size() < sealed_size(total)) return errno_code(EINVAL);
  Wire& wire = impl_->wire;
  const std::size_t queued = wire.queued.size();
  if (queued > 0) std::memcpy(out.data(), wire.queued.data(), queued);
  wire.queued.clear();
  auto& staging = impl_->staging;
  detail::gather(pieces, staging);
  wire.out = out;
  wire.written = queued;
  WOLFSSL* ssl = impl_->ssl.get();
  int result = 1;
  if (impl_->key_update_due) {
    impl_->key_update_due = false;
    result = wolfSSL_update_keys(ssl) == WOLFSSL_SUCCESS ? 1 : -1;
  }
  std::size_t done = 0;
  while (done < total && result > 0) {
    const std::size_t chunk = std::min(total - done, std::size_t{1} << 30);
    result = wolfSSL_write(ssl, staging.data() + done, static_cast<int>(chunk));
    if (result > 0) done += static_cast<std::size_t>(result);
  }
  const std::size_t written = wire.written;
  wire.out = {};
  wire.written = 0;
  if (result <= 0) return impl_->failure(result, Reason::internal_error);
  return written;
}

Result<std::size_t> TlsConnection::read_record(std::span<std::byte> record,
                                               std::span<std::byte> dest) noexcept {
  // wolfSSL copies the record into its own buffer and decrypts it there, so `dest` may
  // overlap it; `record` itself is left as it was.
  Wire& wire = impl_->wire;
  wire.input = record;
  wire.taken = 0;
  WOLFSSL* ssl = impl_->ssl.get();
  const int size = static_cast<int>(std::min<std::size_t>(dest.size(), INT_MAX));
  const int result = wolfSSL_read(ssl, dest.data(), size);
  const bool whole = wire.taken == record.size();
  wire.input = {};
  if (result > 0) {
    if (!whole) {  // cannot happen with one record in and room for all of it: a bug
      impl_->error_text = "TLS read past a record boundary";
      return reason(Reason::internal_error);
    }
    return static_cast<std::size_t>(result);
  }
  // wolfSSL_read returns 0 for close_notify: failure() tells it from a record without data.
  if (result < 0 && wolfSSL_get_error(ssl, result) == WOLFSSL_ERROR_WANT_READ && !wire.overflow) {
    wolfSSL_ERR_clear_error();
    return std::size_t{0};  // a record without application data (KeyUpdate)
  }
  return impl_->failure(result, Reason::protocol_error);
}

Result<std::vector<std::byte>> TlsConnection::export_key(std::string_view label,
                                                         std::size_t size) const {
  std::vector<std::byte> key(size);
  const std::string name(label);
  // No context (use_context 0): TLS 1.3's exporter then hashes an empty one, as OpenSSL does.
  if (wolfSSL_export_keying_material(impl_->ssl.get(), reinterpret_cast<unsigned char*>(key.data()),
                                     key.size(), name.c_str(), name.size(), nullptr, 0,
                                     0) != WOLFSSL_SUCCESS) {
    wolfSSL_ERR_clear_error();
    return errno_code(ENOTRECOVERABLE);
  }
  return key;
}

Result<void> TlsConnection::update_key() noexcept {
  // wolfSSL would send the KeyUpdate at once, into the queue sealed_size() already measured;
  // write() sends it instead, into the room it keeps for one. (wolfSSL 5.5 has no call for an
  // update_not_requested KeyUpdate: wolfSSL_update_keys asks the peer to update its keys too,
  // which it answers with a KeyUpdate of its own. Harmless, but not what OpenSSL sends.)
  if (wolfSSL_is_init_finished(impl_->ssl.get()) == 0) {
    impl_->error_text = "key update refused: the TLS handshake has not finished";
    return errno_code(ENOTRECOVERABLE);
  }
  impl_->key_update_due = true;
  return {};
}

const PeerCertificate& TlsConnection::peer() const noexcept {
  return impl_->peer;
}

bool TlsConnection::records_by_ringtunnel() const noexcept {
  return false;  // wolfSSL keeps its record layer: this build cannot learn the traffic secrets
}

const std::string& TlsConnection::error_text() const noexcept {
  return impl_->error_text;
}

}  // namespace ringtunnel::crypto::tls
