// SPDX-License-Identifier: MIT
// TlsConnection on OpenSSL: an SSL object over a BIO that reads and writes caller spans.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

#include "crypto/tls/openssl/openssl_tls.hpp"
#include "crypto/tls/record_layer.hpp"
#include "crypto/tls/wire.hpp"
#include "protocol/reason.hpp"

namespace ringtunnel::crypto::tls {
namespace {

using protocol::Reason;

std::error_code reason(Reason r) noexcept {
  return protocol::make_error_code(r);
}

using detail::Wire;

int wire_write(BIO* bio, const char* data, int size) {
  auto* wire = static_cast<Wire*>(BIO_get_data(bio));
  return detail::wire_put(*wire, std::as_bytes(std::span(data, static_cast<std::size_t>(size))))
             ? size
             : -1;
}

int wire_read(BIO* bio, char* data, int size) {
  auto* wire = static_cast<Wire*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  const std::size_t n = detail::wire_take(
      *wire, std::as_writable_bytes(std::span(data, static_cast<std::size_t>(size))));
  if (n == 0) {
    BIO_set_retry_read(bio);
    return -1;
  }
  return static_cast<int>(n);
}

long wire_ctrl(BIO*, int command, long, void*) {
  return command == BIO_CTRL_FLUSH ? 1 : 0;  // nothing is ever held back
}

int wire_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// One method table for every connection, made on first use (thread-safe static).
BIO_METHOD* wire_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ringtunnel wire");
    BIO_meth_set_write(m, wire_write);
    BIO_meth_set_read(m, wire_read);
    BIO_meth_set_ctrl(m, wire_ctrl);
    BIO_meth_set_create(m, wire_create);
    return m;
  }();
  return method;
}

struct SslFree {
  void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};

// The hex digits of a keylog line's secret into `secret`; false for anything else.
bool decode_secret(std::string_view hex, TrafficSecret& secret) noexcept {
  if (hex.size() != 64 && hex.size() != 96) return false;
  const auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = digit(hex[i]);
    const int low = digit(hex[i + 1]);
    if (high < 0 || low < 0) {
      secret.bytes.wipe();
      return false;
    }
    secret.bytes.data()[i / 2] = static_cast<std::byte>(high * 16 + low);
  }
  secret.size = hex.size() / 2;
  return true;
}

}  // namespace

struct TlsConnection::Impl {
  std::unique_ptr<SSL, SslFree> ssl;
  Wire wire;
  PeerCertificate peer;
  std::string error_text;
  bool server = false;
  // The application traffic secrets the keylog callback saw, until take_records() uses them.
  TrafficSecret client_secret;
  TrafficSecret server_secret;
  // Set once the handshake is done: ringtunnel protects the records from then on.
  std::optional<RecordLayer> records;
  // Without `records`: the pieces of one write, gathered for SSL_write.
  std::vector<std::byte> staging;

  // The error of a failed SSL call `result`, with error_text filled in.
  std::error_code failure(int result, Reason otherwise) {
    const int code = SSL_get_error(ssl.get(), result);
    if (wire.overflow) {
      ERR_clear_error();
      error_text = "the peer made us queue more than 64 KiB of TLS messages";
      return reason(Reason::protocol_error);
    }
    const unsigned long first = ERR_peek_error();
    const int why = ERR_GET_REASON(first);
    if (code == SSL_ERROR_ZERO_RETURN) {
      error_text = "the peer closed TLS (close_notify) without the session's CLOSE";
      return reason(Reason::protocol_error);
    }
    if (code == SSL_ERROR_SSL && why == SSL_R_CERTIFICATE_VERIFY_FAILED) {
      const long verify = SSL_get_verify_result(ssl.get());
      error_text =
          std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
      ERR_clear_error();
      return reason(Reason::certificate_rejected);
    }
    if (code == SSL_ERROR_SSL && why == SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC) {
      ERR_clear_error();
      error_text = "a TLS record did not authenticate";
      return reason(Reason::decrypt_failed);
    }
    error_text = take_ssl_errors(code == SSL_ERROR_SYSCALL ? "unexpected end of the TLS stream"
                                                           : "TLS failure");
    // Alerts the peer sent about our certificate read as certificate problems. (In TLS 1.3 a
    // server checks the client's certificate after the client has finished its handshake, so
    // the client meets these alerts on its first read.)
    for (const char* about_certificate : {"certificate", "unknown ca", "access denied"}) {
      if (error_text.find(about_certificate) != std::string::npos) {
        return reason(Reason::certificate_rejected);
      }
    }
    return reason(otherwise);
  }

  void learn_peer() {
    X509* cert = SSL_get0_peer_certificate(ssl.get());
    peer.presented = cert != nullptr;
    if (cert == nullptr) return;
    peer.pin = pin_of(cert);
    peer.subject = subject_of(cert);
    const bool checked =
        server ? SSL_get_verify_mode(ssl.get()) != SSL_VERIFY_NONE : context->verify == Verify::ca;
    peer.chain_verified = checked && SSL_get_verify_result(ssl.get()) == X509_V_OK;
  }

  // Hands the records to RecordLayer (see record_layer.hpp). Without the secrets or with
  // library_records set, the library keeps its own record layer.
  Result<void> take_records() {
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl.get());
    const std::uint16_t suite = cipher != nullptr ? SSL_CIPHER_get_protocol_id(cipher) : 0;
    const bool known = suite == 0x1302 || suite == 0x1303;  // AES-256-GCM, ChaCha20-Poly1305
    if (context->library_records || !known || client_secret.size == 0 || server_secret.size == 0) {
      return {};
    }
    const auto algorithm =
        suite == 0x1302 ? AeadAlgorithm::aes_256_gcm : AeadAlgorithm::chacha20_poly1305;
    const auto hash = suite == 0x1302 ? TrafficHash::sha384 : TrafficHash::sha256;
    auto layer = server ? RecordLayer::create(algorithm, hash, server_secret, client_secret)
                        : RecordLayer::create(algorithm, hash, client_secret, server_secret);
    client_secret = TrafficSecret{};  // the moves wipe the secrets' bytes
    server_secret = TrafficSecret{};
    if (!layer) {
      error_text = "cannot key the TLS record layer: " + layer.error().message();
      return layer.error();
    }
    records.emplace(std::move(*layer));
    return {};
  }

  const TlsContext::Impl* context = nullptr;
};

void capture_traffic_secret(const SSL* ssl, const char* line) {
  auto* impl = static_cast<TlsConnection::Impl*>(SSL_get_app_data(ssl));
  if (impl == nullptr || impl->context->library_records || line == nullptr) return;
  // "<label> <client random, hex> <secret, hex>" (the NSS key log format).
  const std::string_view text(line);
  TrafficSecret* secret = nullptr;
  if (text.starts_with("CLIENT_TRAFFIC_SECRET_0 ")) secret = &impl->client_secret;
  if (text.starts_with("SERVER_TRAFFIC_SECRET_0 ")) secret = &impl->server_secret;
  const std::size_t space = text.rfind(' ');
  if (secret != nullptr && space != std::string_view::npos) {
    decode_secret(text.substr(space + 1), *secret);
  }
}

TlsConnection::TlsConnection(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
TlsConnection::~TlsConnection() = default;

Result<std::unique_ptr<TlsConnection>> TlsContext::new_connection() const {
  auto impl = std::make_unique<TlsConnection::Impl>();
  impl->server = impl_->server;
  impl->context = impl_.get();
  impl->ssl.reset(SSL_new(impl_->ctx.get()));
  BIO* bio = impl->ssl ? BIO_new(wire_method()) : nullptr;
  if (bio == nullptr) {
    ERR_clear_error();
    return errno_code(ENOMEM);
  }
  BIO_set_data(bio, static_cast<void*>(&impl->wire));
  SSL_set_app_data(impl->ssl.get(), impl.get());  // for capture_traffic_secret
  SSL_set_bio(impl->ssl.get(), bio, bio);  // the SSL owns the BIO from here
  if (impl_->server) {
    SSL_set_accept_state(impl->ssl.get());
  } else {
    SSL_set_connect_state(impl->ssl.get());
    const std::string& name = impl_->server_name;
    if (!name.empty() && !detail::is_ip_literal(name)) {
      // SNI carries DNS names only. (SSL_set_tlsext_host_name is this call behind a C cast.)
      SSL_ctrl(impl->ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(name.c_str()));
    }
    if (impl_->verify == Verify::ca && !name.empty()) {
      X509_VERIFY_PARAM* param = SSL_get0_param(impl->ssl.get());
      const int set = detail::is_ip_literal(name)
                          ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                          : X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
      if (set != 1) {
        ERR_clear_error();
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
  const int result = SSL_do_handshake(impl_->ssl.get());
  output->insert(output->end(), wire.queued.begin(), wire.queued.end());
  wire.queued.clear();
  HandshakeStep step{wire.taken, result == 1};
  wire.input = {};
  if (result == 1) {
    impl_->learn_peer();
    if (auto taken = impl_->take_records(); !taken) return taken.error();
    return step;
  }
  const int code = SSL_get_error(impl_->ssl.get(), result);
  if (code == SSL_ERROR_WANT_READ && !wire.overflow) return step;
  return impl_->failure(result, Reason::tls_failed);
}

std::size_t TlsConnection::sealed_size(std::size_t plaintext) const noexcept {
  if (impl_->records) return impl_->wire.queued.size() + impl_->records->sealed_size(plaintext);
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
  if (impl_->records) {
    auto sealed = impl_->records->write(pieces, out.subspan(queued));
    if (!sealed) {
      impl_->error_text = "TLS record sealing failed";
      return errno_code(ENOTRECOVERABLE);
    }
    return queued + *sealed;
  }
  auto& staging = impl_->staging;
  detail::gather(pieces, staging);
  wire.out = out;
  wire.written = queued;
  std::size_t done = 0;
  int result = 1;
  while (done < total && result > 0) {
    const std::size_t chunk = std::min(total - done, std::size_t{1} << 30);
    std::size_t n = 0;
    result = SSL_write_ex(impl_->ssl.get(), staging.data() + done, chunk, &n);
    done += n;
  }
  const std::size_t written = wire.written;
  wire.out = {};
  wire.written = 0;
  if (result <= 0) return impl_->failure(result, Reason::internal_error);
  return written;
}

Result<std::size_t> TlsConnection::read_record(std::span<std::byte> record,
                                               std::span<std::byte> dest) noexcept {
  if (impl_->records) {
    std::size_t plaintext = 0;
    Alert alert;
    auto content =
        impl_->records->read_record(record, dest, &plaintext, &alert, &impl_->error_text);
    if (!content) return content.error();
    if (*content == RecordContent::alert) return alert_error(alert, &impl_->error_text);
    return plaintext;
  }
  Wire& wire = impl_->wire;
  wire.input = record;
  wire.taken = 0;
  std::size_t n = 0;
  const int result = SSL_read_ex(impl_->ssl.get(), dest.data(), dest.size(), &n);
  const bool whole = wire.taken == record.size();
  wire.input = {};
  if (result == 1) {
    if (!whole) {  // cannot happen with one record in and room for all of it: a bug
      impl_->error_text = "TLS read past a record boundary";
      return reason(Reason::internal_error);
    }
    return n;
  }
  if (SSL_get_error(impl_->ssl.get(), result) == SSL_ERROR_WANT_READ && !wire.overflow) {
    return std::size_t{0};  // a record without application data (KeyUpdate)
  }
  return impl_->failure(result, Reason::protocol_error);
}

Result<std::vector<std::byte>> TlsConnection::export_key(std::string_view label,
                                                         std::size_t size) const {
  std::vector<std::byte> key(size);
  const std::string name(label);
  if (SSL_export_keying_material(impl_->ssl.get(), reinterpret_cast<unsigned char*>(key.data()),
                                 key.size(), name.c_str(), name.size(), nullptr, 0, 0) != 1) {
    ERR_clear_error();
    return errno_code(ENOTRECOVERABLE);
  }
  return key;
}

Result<void> TlsConnection::update_key() noexcept {
  if (impl_->records) {
    impl_->records->update_key();
    return {};
  }
  if (SSL_key_update(impl_->ssl.get(), SSL_KEY_UPDATE_NOT_REQUESTED) != 1) {
    impl_->error_text = take_ssl_errors("key update refused");
    return errno_code(ENOTRECOVERABLE);
  }
  return {};
}

const PeerCertificate& TlsConnection::peer() const noexcept {
  return impl_->peer;
}

bool TlsConnection::records_by_ringtunnel() const noexcept {
  return impl_->records.has_value();
}

const std::string& TlsConnection::error_text() const noexcept {
  return impl_->error_text;
}

}  // namespace ringtunnel::crypto::tls
