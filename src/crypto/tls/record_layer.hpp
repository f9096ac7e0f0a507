// SPDX-License-Identifier: MIT
// RecordLayer: TLS 1.3 application records (RFC 8446 §5) sealed and opened by ringtunnel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "crypto/aead.hpp"
#include "crypto/secure_buffer.hpp"
#include "runtime/result.hpp"

namespace ringtunnel::crypto::tls {

// The TLS library runs the handshake; once it is done, a backend that can hand over the
// application traffic secrets gives the records to this class, as kTLS does for the kernel.
// Frames are then sealed from where they lie (AeadKey::seal_gather, no gathering copy, no
// copy in or out of the library's buffers) and opened in place: the same AEAD code as the
// native transport. The wire format is plain TLS 1.3, so the peer may keep its library's own
// record layer (the wolfSSL build does).

/// The hash of the negotiated cipher suite, which HKDF-Expand-Label runs on.
enum class TrafficHash : std::uint8_t { sha256, sha384 };

/// Largest traffic secret (SHA-384).
inline constexpr std::size_t kMaxTrafficSecret = 48;

/// One direction's traffic secret, as the handshake derived it.
struct TrafficSecret {
  SecureBuffer<kMaxTrafficSecret> bytes;
  std::size_t size = 0;  ///< 32 (SHA-256) or 48 (SHA-384); 0: not learnt
  [[nodiscard]] std::span<const std::byte> span() const noexcept {
    return std::span<const std::byte>(bytes.data(), size);
  }
  /// An explicit copy (SecureBuffer is not copyable, so no secret is duplicated by accident).
  [[nodiscard]] TrafficSecret copy() const noexcept {
    return TrafficSecret{SecureBuffer<kMaxTrafficSecret>(bytes.span()), size};
  }
};

/// HKDF-Expand-Label(secret, label, "", out.size()) (RFC 8446 §7.1) on `hash`; `label`
/// without the "tls13 " prefix. One per backend (the key derivation is the library's).
/// Errors: ENOTRECOVERABLE if the library fails.
[[nodiscard]] Result<void> expand_label(TrafficHash hash, std::span<const std::byte> secret,
                                        std::string_view label, std::span<std::byte> out) noexcept;

/// Bytes of one TLS 1.3 KeyUpdate record (header, 5-byte message, content type, tag).
inline constexpr std::size_t kKeyUpdateRecordSize = 5 + 4 + 1 + 1 + kAeadTagSize;

/// A closing or failing peer's alert, as read_record reports it.
struct Alert {
  std::uint8_t description = 0;  ///< RFC 8446 §6 AlertDescription (0: close_notify)
};

/// What read_record found in a record.
enum class RecordContent {
  application_data,  ///< plaintext for the session (possibly none)
  alert,             ///< the peer sent an alert: the connection is over
};

/// The session error for a peer's alert, with `*error_text` saying what it was: alerts about
/// our certificate are certificate_rejected, every other one (close_notify included: the
/// session's own CLOSE ends it cleanly) protocol_error.
[[nodiscard]] std::error_code alert_error(Alert alert, std::string* error_text);

/// Both directions' record protection after the handshake. Threads: one at a time.
class RecordLayer {
 public:
  /// Keys both directions from the traffic secrets (of equal size, matching `hash`).
  /// Errors: EINVAL for a secret of the wrong size; ENOTRECOVERABLE/ENOMEM from the library.
  [[nodiscard]] static Result<RecordLayer> create(AeadAlgorithm algorithm, TrafficHash hash,
                                                  const TrafficSecret& write_secret,
                                                  const TrafficSecret& read_secret);

  /// Bytes write() of `plaintext` bytes needs at most (a pending KeyUpdate included).
  [[nodiscard]] std::size_t sealed_size(std::size_t plaintext) const noexcept;

  /// Seals the concatenation of `pieces` into records of at most 2^14 plaintext bytes at the
  /// front of `out`, after any KeyUpdate that is due; returns the bytes written. A piece may
  /// not overlap `out`. Errors: EINVAL when `out` is short of sealed_size; ENOTRECOVERABLE
  /// when the library fails or the sequence number would wrap.
  [[nodiscard]] Result<std::size_t> write(std::span<const std::span<const std::byte>> pieces,
                                          std::span<std::byte> out) noexcept;

  /// Opens the whole record in `record` in place and moves its application data to the front
  /// of `dest` (which may overlap `record`); `*plaintext` is its size. Handles KeyUpdate
  /// (rekeys the read side; answers a requested one on the next write) and ignores a
  /// NewSessionTicket. Errors: decrypt_failed when the record does not authenticate;
  /// protocol_error for anything TLS 1.3 does not allow here; `*error_text` says which.
  [[nodiscard]] Result<RecordContent> read_record(std::span<std::byte> record,
                                                  std::span<std::byte> dest, std::size_t* plaintext,
                                                  Alert* alert, std::string* error_text) noexcept;

  /// Schedules a KeyUpdate (update_not_requested) before the next write's records.
  void update_key() noexcept { send_key_update_ = true; }

 private:
  // One direction: the key, its IV and the record sequence number under it.
  struct Direction {
    TrafficSecret secret;
    AeadKey key;
    SecureBuffer<kAeadNonceSize> iv;
    std::uint64_t sequence = 0;
  };

  RecordLayer(AeadAlgorithm algorithm, TrafficHash hash, Direction write, Direction read) noexcept;
  static Result<Direction> keyed(AeadAlgorithm algorithm, TrafficHash hash, TrafficSecret secret);
  // The next secret (RFC 8446 §7.2) and keys derived from it, sequence back to 0.
  Result<void> next_generation(Direction& direction) noexcept;
  // Seals one record whose inner plaintext (content and its type byte) is `inner`, `size`
  // bytes in all, at the front of `out`; its size on the wire.
  Result<std::size_t> seal_record(std::span<const std::span<const std::byte>> inner,
                                  std::size_t size, std::span<std::byte> out) noexcept;
  Result<void> handle_handshake(std::span<const std::byte> messages,
                                std::string* error_text) noexcept;

  AeadAlgorithm algorithm_;
  TrafficHash hash_;
  Direction write_;
  Direction read_;
  bool send_key_update_ = false;  // ours (update_key) or the reply to a requested one
};

}  // namespace ringtunnel::crypto::tls
