// SPDX-License-Identifier: MIT
// TLS 1.3 behind one narrow interface: contexts (certificates, trust) and sans-I/O connections.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/result.hpp"

namespace ringtunnel::crypto::tls {

// The TLS library only transforms bytes here: a TlsConnection takes the peer's wire bytes and
// gives back wire bytes and plaintext; the runtime does every socket operation on its reactor.
// The library is told TLS 1.3 only, no session tickets, no 0-RTT (TLS 1.3 has no
// renegotiation). One implementation per crypto backend (openssl/, wolfssl/) behind this file.
//
// Errors from the handshake are protocol reasons (certificate_rejected when a certificate did
// not verify, tls_failed for anything else the TLS peer or library refused) with the library's
// words in `TlsConnection::error_text()`.

/// How a server presents itself and whom it lets in.
struct ServerConfig {
  std::string cert_file;       ///< PEM certificate chain, leaf first
  std::string key_file;        ///< PEM private key of the leaf
  std::string client_ca_file;  ///< non-empty: require a client certificate that chains to it
  /// Keep the library's own record layer after the handshake instead of RecordLayer (tests
  /// check one against the other; a backend that cannot hand over its secrets always keeps it).
  bool library_records = false;
};

/// How a client decides whether it trusts the server's certificate.
enum class Verify {
  pin,       ///< no chain check: the caller pins the key (known_hosts), as the native transport
  ca,        ///< full chain to `ca_file` (or the system roots) and the name `server_name`
  insecure,  ///< nothing checked (--tls-insecure-skip-verify; the caller warns every time)
};

struct ClientConfig {
  Verify verify = Verify::pin;
  std::string ca_file;      ///< Verify::ca: PEM bundle; empty means the system's roots
  std::string server_name;  ///< sent as SNI (not for IP literals) and checked under Verify::ca
  std::string cert_file;    ///< optional client certificate (mTLS), PEM chain
  std::string key_file;     ///< its key
  /// As ServerConfig::library_records.
  bool library_records = false;
};

/// What the handshake learnt about the peer's certificate.
struct PeerCertificate {
  bool presented = false;       ///< the peer sent a certificate
  bool chain_verified = false;  ///< it chained to the configured CA (and, client, the name)
  std::string pin;              ///< "SHA256:..." of its key (see certificate_pin)
  std::string subject;          ///< one-line subject, for logs
};

class TlsConnection;

/// Certificates, keys and trust settings, loaded once at start-up and shared by every core:
/// const after creation, and new_connection() may be called from any thread at once.
class TlsContext {
 public:
  /// Errors: EINVAL/ENOENT/EACCES with a sentence naming the file and the fix in `*error`.
  /// Start-up only: reads files.
  [[nodiscard]] static Result<std::unique_ptr<TlsContext>> server(const ServerConfig& config,
                                                                  std::string* error);
  [[nodiscard]] static Result<std::unique_ptr<TlsContext>> client(const ClientConfig& config,
                                                                  std::string* error);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  /// A connection in its initial state (client: about to send its ClientHello).
  /// Errors: ENOMEM/ENOTRECOVERABLE from the library.
  [[nodiscard]] Result<std::unique_ptr<TlsConnection>> new_connection() const;

  struct Impl;

 private:
  explicit TlsContext(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

/// Largest TLS plaintext record (RFC 8446 §5.1).
inline constexpr std::size_t kMaxTlsPlaintext = 16384;
/// Bytes a TLS 1.3 AEAD record adds: 5-byte header, the inner content type, a 16-byte tag.
inline constexpr std::size_t kTlsRecordOverhead = 5 + 1 + 16;
/// Largest TLS 1.3 record on the wire, header included (§5.2: ciphertext ≤ 2^14 + 256).
inline constexpr std::size_t kMaxTlsRecord = 5 + kMaxTlsPlaintext + 256;

/// How far a handshake step got.
struct HandshakeStep {
  std::size_t consumed = 0;  ///< input bytes the library took
  bool done = false;         ///< the handshake is complete in this direction
};

/// One TLS connection, sans-I/O. Threads: one at a time (the session's core).
class TlsConnection {
 public:
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  /// Runs the handshake on `input` (the peer's bytes not yet consumed; may be empty for the
  /// client's first flight) and appends what must be sent to `*output`. It takes only the
  /// bytes of the handshake: what follows stays unconsumed for the caller.
  /// Errors: certificate_rejected or tls_failed (see error_text()); the alert the library wants
  /// to send may still be in `*output`.
  [[nodiscard]] Result<HandshakeStep> handshake(std::span<const std::byte> input,
                                                std::vector<std::byte>* output);

  /// The bytes write() of `plaintext` bytes produces at most, including pending output.
  [[nodiscard]] std::size_t sealed_size(std::size_t plaintext) const noexcept;

  /// Encrypts the concatenation of `pieces` (at most 256; any total size, records of at most
  /// kMaxTlsPlaintext) into `out`, which starts with any output queued by read_record (e.g. a
  /// KeyUpdate reply); returns the bytes written. No piece may overlap `out`. Errors: EINVAL
  /// when `out` is smaller than sealed_size (nothing written); ENOTRECOVERABLE if the library
  /// fails (final). No allocation after the first write on OpenSSL (RecordLayer or its own
  /// records); wolfSSL 5.5's record layer allocates its record buffers once per record.
  [[nodiscard]] Result<std::size_t> write(std::span<const std::span<const std::byte>> pieces,
                                          std::span<std::byte> out) noexcept;

  /// Decrypts one whole TLS record (header included, as tls_record_size() measured it), which
  /// may be overwritten (it is decrypted in place), and moves its application data to `dest`
  /// (at least kMaxTlsPlaintext bytes, or the record's ciphertext length); returns the
  /// plaintext bytes (0 for a record that carried none, such as a KeyUpdate). `dest` may
  /// overlap `record`. Errors: decrypt_failed for a record that does not authenticate;
  /// certificate_rejected for the peer's alert about our certificate; protocol_error for any
  /// other alert (close_notify included: the session's own CLOSE frame ends it cleanly) or a
  /// post-handshake message this build refuses. Final. No allocation on OpenSSL (as write).
  [[nodiscard]] Result<std::size_t> read_record(std::span<std::byte> record,
                                                std::span<std::byte> dest) noexcept;

  /// Keying material exported from the session (RFC 8446 §7.5) for `label`, no context: what the
  /// in-session client authentication signs, binding it to this one TLS connection.
  [[nodiscard]] Result<std::vector<std::byte>> export_key(std::string_view label,
                                                          std::size_t size) const;

  /// Sends a KeyUpdate (not requesting one back) before the next write's records.
  [[nodiscard]] Result<void> update_key() noexcept;

  /// The peer's certificate, once the handshake is done.
  [[nodiscard]] const PeerCertificate& peer() const noexcept;

  /// True once the handshake handed the records to ringtunnel's RecordLayer; false while the
  /// library protects them (before the handshake is done, library_records, or a backend that
  /// keeps them). For logs and tests.
  [[nodiscard]] bool records_by_ringtunnel() const noexcept;

  /// The library's account of the last failure, for logs.
  [[nodiscard]] const std::string& error_text() const noexcept;

  struct Impl;
  explicit TlsConnection(std::unique_ptr<Impl> impl) noexcept;

 private:
  std::unique_ptr<Impl> impl_;
};

/// The size of the TLS record at the front of `input` (header included), or 0 when its header
/// is not all there yet. Errors: protocol_error for a record type that is not TLS, or
/// frame_too_large over kMaxTlsRecord. Backend-neutral.
[[nodiscard]] Result<std::size_t> tls_record_size(std::span<const std::byte> input) noexcept;

/// Makes the zero-config server certificate: a self-signed X.509 certificate for the key in
/// `key_file` (the server's Ed25519 identity key), written to `cert_file` (0644) unless a
/// certificate for that same key is already there. The client pins the key, so the certificate
/// carries no name it must match. Start-up only. Errors name the file in `*error`.
[[nodiscard]] Result<void> ensure_self_signed(const std::string& key_file,
                                              const std::string& cert_file, std::string* error);

/// "SHA256:<base64>" of a certificate's key: for an Ed25519 key the hash of its 32 raw bytes
/// (so a native server's fingerprint and its TLS pin are the same string), for any other key
/// the hash of its DER SubjectPublicKeyInfo.
[[nodiscard]] Result<std::string> certificate_pin(const std::string& cert_file, std::string* error);

/// The backend's name and version ("OpenSSL 3.0.19", "wolfSSL 5.5.4"), for --version and logs.
[[nodiscard]] std::string library_version();

}  // namespace ringtunnel::crypto::tls
