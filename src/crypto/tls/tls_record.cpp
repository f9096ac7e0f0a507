// SPDX-License-Identifier: MIT
// tls_record_size: where the TLS record at the front of a buffer ends (RFC 8446 §5.1).
#include <cstdint>

#include "crypto/tls/tls.hpp"
#include "protocol/reason.hpp"

namespace ringtunnel::crypto::tls {
namespace {

constexpr std::size_t kHeaderSize = 5;

// TLSPlaintext.type values a TLS 1.3 peer may send: change_cipher_spec (compatibility), alert,
// handshake, application_data.
bool is_record_type(std::uint8_t type) noexcept {
  return type >= 20 && type <= 23;
}

}  // namespace

Result<std::size_t> tls_record_size(std::span<const std::byte> input) noexcept {
  if (input.size() < kHeaderSize) return std::size_t{0};
  const auto type = static_cast<std::uint8_t>(input[0]);
  // legacy_record_version is 0x0303 after the first flight; 0x0301 is allowed in a ClientHello.
  const bool version_ok = input[1] == std::byte{3} && static_cast<std::uint8_t>(input[2]) <= 4;
  if (!is_record_type(type) || !version_ok) {
    return protocol::make_error_code(protocol::Reason::protocol_error);
  }
  const std::size_t length =
      (static_cast<std::size_t>(input[3]) << 8) | static_cast<std::size_t>(input[4]);
  if (kHeaderSize + length > kMaxTlsRecord) {
    return protocol::make_error_code(protocol::Reason::frame_too_large);
  }
  return kHeaderSize + length;
}

}  // namespace ringtunnel::crypto::tls
