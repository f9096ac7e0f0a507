// SPDX-License-Identifier: MIT
// TlsChannel: the TLS transport's Channel: frames as TLS 1.3 application data.
#pragma once

#include <memory>

#include "crypto/tls/tls.hpp"
#include "tunnel/channel.hpp"

namespace ringtunnel::tunnel {

/// A session's frames carried as TLS application data, after the TLS handshake and the
/// in-session client authentication (tls_handshake_io.hpp).
///
/// TLS records do not align with frames, so open() keeps the state of a frame cut between
/// records: it decrypts each whole record into the receive ring itself, over ciphertext
/// already taken in, and yields the whole frames at the front. A frame's start stays in the
/// ring until its end arrives: the bytes before `carried_` are its plaintext, then `gap_`
/// bytes of spent ciphertext, then ciphertext not yet read. Plaintext never overtakes the
/// ciphertext, since a record's plaintext is shorter than the record. So views into the ring
/// stay valid as the Session expects. The spent ciphertext goes with the frames before it; the
/// little that piles up behind a cut frame (22 bytes a record) is let go by moving the cut
/// frame's start once it passes 64 KiB, so what the ring holds stays within max_unit().
///
/// seal() passes the frames' pieces on as they lie: TlsConnection::write seals them into TLS
/// records without a gathering copy where ringtunnel's RecordLayer protects the records.
///
/// Keys are updated with TLS KeyUpdate on the same schedule as the native transport (2^24
/// records or an hour); the peer's KeyUpdate is handled inside TLS, and a KEY_UPDATE frame is
/// a protocol error here.
class TlsChannel final : public Channel {
 public:
  TlsChannel(std::unique_ptr<crypto::tls::TlsConnection> connection, Clock::time_point now);

  std::size_t max_plaintext() const noexcept override;
  std::size_t sealed_size(std::size_t plaintext) const noexcept override;
  std::size_t max_unit() const noexcept override;
  Result<std::size_t> seal(std::span<const ConstBytes> pieces, std::span<std::byte> out,
                           Clock::time_point now) noexcept override;
  Result<Opened> open(std::span<std::byte> input) noexcept override;
  Result<void> peer_key_update() noexcept override;

  /// TLS records written under the current key (tests).
  std::uint64_t records_on_key() const noexcept { return records_on_key_; }

 private:
  std::unique_ptr<crypto::tls::TlsConnection> connection_;
  std::size_t carried_ = 0;         // plaintext of a cut frame at the front of the input
  std::size_t gap_ = 0;             // spent ciphertext after it
  std::uint64_t records_on_key_ = 0;
  Clock::time_point key_started_;
};

}  // namespace ringtunnel::tunnel
