// SPDX-License-Identifier: MIT
// RecordLayer: TLS 1.3 record protection (RFC 8446 §5.2-5.4, §7.2-7.3) over AeadKey.
#include "crypto/tls/record_layer.hpp"

#include <array>
#include <cstring>

#include "crypto/tls/tls.hpp"
#include "protocol/reason.hpp"

namespace ringtunnel::crypto::tls {
namespace {

using protocol::Reason;

constexpr std::uint8_t kAlert = 21;
constexpr std::uint8_t kHandshake = 22;
constexpr std::uint8_t kApplicationData = 23;
constexpr std::uint8_t kNewSessionTicket = 4;
constexpr std::uint8_t kKeyUpdate = 24;
constexpr std::size_t kHeaderSize = 5;
// write() takes at most this many pieces, so a record never needs more parts than it has.
constexpr std::size_t kMaxWritePieces = 256;

std::error_code reason(Reason r) noexcept {
  return protocol::make_error_code(r);
}

std::size_t hash_size(TrafficHash hash) noexcept {
  return hash == TrafficHash::sha384 ? 48 : 32;
}

// §5.3: the per-record nonce is the IV XOR the 64-bit sequence number, left-padded.
std::array<std::byte, kAeadNonceSize> nonce_of(const SecureBuffer<kAeadNonceSize>& iv,
                                               std::uint64_t sequence) noexcept {
  std::array<std::byte, kAeadNonceSize> nonce;
  std::memcpy(nonce.data(), iv.data(), nonce.size());
  for (std::size_t i = 0; i < 8; ++i) {
    nonce[kAeadNonceSize - 1 - i] ^= static_cast<std::byte>(sequence >> (8 * i));
  }
  return nonce;
}

void write_header(std::span<std::byte> out, std::size_t length) noexcept {
  out[0] = std::byte{kApplicationData};  // every protected record looks like application data
  out[1] = std::byte{3};
  out[2] = std::byte{3};
  out[3] = static_cast<std::byte>(length >> 8);
  out[4] = static_cast<std::byte>(length);
}

}  // namespace

RecordLayer::RecordLayer(AeadAlgorithm algorithm, TrafficHash hash, Direction write,
                         Direction read) noexcept
    : algorithm_(algorithm), hash_(hash), write_(std::move(write)), read_(std::move(read)) {}

Result<RecordLayer::Direction> RecordLayer::keyed(AeadAlgorithm algorithm, TrafficHash hash,
                                                  TrafficSecret secret) {
  if (secret.size != hash_size(hash)) return errno_code(EINVAL);
  // §7.3: key = HKDF-Expand-Label(secret, "key", "", 32), iv = ... "iv" ..., 12.
  SecureBuffer<kAeadKeySize> key_bytes;
  SecureBuffer<kAeadNonceSize> iv;
  if (auto r = expand_label(hash, secret.span(), "key", key_bytes.span()); !r) return r.error();
  if (auto r = expand_label(hash, secret.span(), "iv", iv.span()); !r) return r.error();
  auto key = AeadKey::create(algorithm, key_bytes.span());
  if (!key) return key.error();
  return Direction{std::move(secret), std::move(*key), std::move(iv), 0};
}

Result<RecordLayer> RecordLayer::create(AeadAlgorithm algorithm, TrafficHash hash,
                                        const TrafficSecret& write_secret,
                                        const TrafficSecret& read_secret) {
  auto write = keyed(algorithm, hash, write_secret.copy());
  if (!write) return write.error();
  auto read = keyed(algorithm, hash, read_secret.copy());
  if (!read) return read.error();
  return RecordLayer(algorithm, hash, std::move(*write), std::move(*read));
}

Result<void> RecordLayer::next_generation(Direction& direction) noexcept {
  // §7.2: application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "",
  // Hash.length).
  TrafficSecret next;
  next.size = direction.secret.size;
  if (auto r = expand_label(hash_, direction.secret.span(), "traffic upd",
                            std::span(next.bytes.data(), next.size));
      !r) {
    return r.error();
  }
  auto keys = keyed(algorithm_, hash_, std::move(next));
  if (!keys) return keys.error();
  direction = std::move(*keys);
  return {};
}

std::size_t RecordLayer::sealed_size(std::size_t plaintext) const noexcept {
  const std::size_t records = (plaintext + kMaxTlsPlaintext - 1) / kMaxTlsPlaintext;
  // Room for a KeyUpdate as well: the caller may ask for one between this and write().
  return kKeyUpdateRecordSize + plaintext + records * kTlsRecordOverhead;
}

Result<std::size_t> RecordLayer::seal_record(std::span<const std::span<const std::byte>> inner,
                                             std::size_t size, std::span<std::byte> out) noexcept {
  // The sequence number never wraps (§5.3); the session updates its keys long before.
  if (write_.sequence == UINT64_MAX) return errno_code(ENOTRECOVERABLE);
  const std::size_t length = size + kAeadTagSize;
  write_header(out, length);
  const auto nonce = nonce_of(write_.iv, write_.sequence);
  // §5.2: the additional data is the record header.
  auto sealed = write_.key.seal_gather_with_nonce(nonce, out.first(kHeaderSize), inner,
                                                  out.subspan(kHeaderSize, length));
  if (!sealed) return errno_code(ENOTRECOVERABLE);
  ++write_.sequence;
  return kHeaderSize + *sealed;
}

Result<std::size_t> RecordLayer::write(std::span<const std::span<const std::byte>> pieces,
                                       std::span<std::byte> out) noexcept {
  if (pieces.size() > kMaxWritePieces) return errno_code(EINVAL);
  std::size_t total = 0;
  for (const auto piece : pieces) total += piece.size();
  if (out.size() < sealed_size(total)) return errno_code(EINVAL);
  static constexpr std::byte kDataType[1] = {std::byte{kApplicationData}};
  std::size_t at = 0;
  if (send_key_update_) {
    // KeyUpdate(update_not_requested), sent under the old key; ours switches after it.
    static constexpr std::byte kUpdate[] = {std::byte{kKeyUpdate}, std::byte{0},
                                            std::byte{0},          std::byte{1},
                                            std::byte{0},          std::byte{kHandshake}};
    const std::span<const std::byte> inner[1] = {kUpdate};
    auto sealed = seal_record(inner, sizeof kUpdate, out);
    if (!sealed) return sealed.error();
    if (auto next = next_generation(write_); !next) return next.error();
    at += *sealed;
    send_key_update_ = false;
  }
  // Records of up to 2^14 bytes, each from the pieces where they lie plus its content type.
  std::array<std::span<const std::byte>, kMaxWritePieces + 1> parts;
  std::size_t piece = 0;
  std::size_t offset = 0;
  while (piece < pieces.size()) {
    std::size_t count = 0;
    std::size_t size = 0;
    while (piece < pieces.size() && size < kMaxTlsPlaintext) {
      const auto rest = pieces[piece].subspan(offset);
      const std::size_t take = std::min(rest.size(), kMaxTlsPlaintext - size);
      if (take > 0) parts[count++] = rest.first(take);
      size += take;
      offset += take;
      if (offset == pieces[piece].size()) {
        ++piece;
        offset = 0;
      }
    }
    if (size == 0) break;  // only empty pieces were left
    parts[count++] = kDataType;
    auto sealed = seal_record(std::span(parts).first(count), size + 1, out.subspan(at));
    if (!sealed) return sealed.error();
    at += *sealed;
  }
  return at;
}

Result<void> RecordLayer::handle_handshake(std::span<const std::byte> messages,
                                           std::string* error_text) noexcept {
  if (messages.empty()) {
    *error_text = "an empty TLS handshake record";
    return reason(Reason::protocol_error);
  }
  while (!messages.empty()) {
    if (messages.size() < 4) {
      *error_text = "a TLS handshake message cut across records";
      return reason(Reason::protocol_error);
    }
    const auto type = static_cast<std::uint8_t>(messages[0]);
    const std::size_t length = (static_cast<std::size_t>(messages[1]) << 16) |
                               (static_cast<std::size_t>(messages[2]) << 8) |
                               static_cast<std::size_t>(messages[3]);
    if (messages.size() - 4 < length) {
      *error_text = "a TLS handshake message cut across records";
      return reason(Reason::protocol_error);
    }
    const auto body = messages.subspan(4, length);
    messages = messages.subspan(4 + length);
    if (type == kNewSessionTicket) continue;  // none was asked for; never used
    if (type != kKeyUpdate) {
      *error_text = "a TLS post-handshake message of type " + std::to_string(type) +
                    ", which this build refuses";
      return reason(Reason::protocol_error);
    }
    // §4.6.3: one byte, 0 or 1, and the last message of its record (the key changes after it).
    const bool requested = length == 1 && body[0] == std::byte{1};
    if (length != 1 || (body[0] != std::byte{0} && !requested) || !messages.empty()) {
      *error_text = "a malformed TLS KeyUpdate";
      return reason(Reason::protocol_error);
    }
    if (auto next = next_generation(read_); !next) return next.error();
    // A requested update is answered once before our next records, however many came.
    if (requested) send_key_update_ = true;
  }
  return {};
}

Result<RecordContent> RecordLayer::read_record(std::span<std::byte> record,
                                               std::span<std::byte> dest, std::size_t* plaintext,
                                               Alert* alert, std::string* error_text) noexcept {
  *plaintext = 0;
  if (record.size() < kHeaderSize + 1 + kAeadTagSize || record[0] != std::byte{kApplicationData}) {
    *error_text = "a TLS record that is not protected application data after the handshake";
    return reason(Reason::protocol_error);
  }
  if (read_.sequence == UINT64_MAX) return reason(Reason::internal_error);
  const auto header = record.first(kHeaderSize);
  const auto body = record.subspan(kHeaderSize);
  auto opened = read_.key.open_with_nonce(nonce_of(read_.iv, read_.sequence), header, body, body);
  if (!opened) {
    *error_text = "a TLS record did not authenticate";
    return reason(Reason::decrypt_failed);
  }
  ++read_.sequence;
  // §5.4: the content type is the last non-zero byte; zeros after it are padding.
  std::size_t end = *opened;
  while (end > 0 && body[end - 1] == std::byte{0}) --end;
  if (end == 0) {
    *error_text = "a TLS record with no content type";
    return reason(Reason::protocol_error);
  }
  const auto type = static_cast<std::uint8_t>(body[end - 1]);
  const auto content = body.first(end - 1);
  if (content.size() > kMaxTlsPlaintext) {
    *error_text = "a TLS record over 2^14 bytes of plaintext (record_overflow)";
    return reason(Reason::protocol_error);
  }
  switch (type) {
    case kApplicationData:
      if (dest.size() < content.size()) return reason(Reason::internal_error);
      std::memmove(dest.data(), content.data(), content.size());
      *plaintext = content.size();
      return RecordContent::application_data;
    case kAlert:
      if (content.size() != 2) {
        *error_text = "a malformed TLS alert";
        return reason(Reason::protocol_error);
      }
      alert->description = static_cast<std::uint8_t>(content[1]);
      return RecordContent::alert;
    case kHandshake:
      if (auto handled = handle_handshake(content, error_text); !handled) return handled.error();
      return RecordContent::application_data;
    default:
      *error_text = "a TLS record of content type " + std::to_string(type) + " after the handshake";
      return reason(Reason::protocol_error);
  }
}

std::error_code alert_error(Alert alert, std::string* error_text) {
  switch (alert.description) {
    case 0:
      *error_text = "the peer closed TLS (close_notify) without the session's CLOSE";
      return reason(Reason::protocol_error);
    case 42:   // bad_certificate
    case 43:   // unsupported_certificate
    case 44:   // certificate_revoked
    case 45:   // certificate_expired
    case 46:   // certificate_unknown
    case 48:   // unknown_ca
    case 49:   // access_denied
    case 116:  // certificate_required
      *error_text =
          "the peer refused our certificate (TLS alert " + std::to_string(alert.description) + ")";
      return reason(Reason::certificate_rejected);
    default:
      *error_text = "the peer sent TLS alert " + std::to_string(alert.description);
      return reason(Reason::protocol_error);
  }
}

}  // namespace ringtunnel::crypto::tls
