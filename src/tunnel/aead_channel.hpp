// SPDX-License-Identifier: MIT
// AeadChannel: the native transport's Channel: records of docs/protocol.md §2 with key update.
#pragma once

#include <memory>

#include "protocol/frame.hpp"
#include "tunnel/channel.hpp"
#include "tunnel/handshake.hpp"
#include "tunnel/record_layer.hpp"

namespace ringtunnel::tunnel {

/// One session's records: seals frames with RecordSealer, opens records in place with
/// RecordOpener. Key update (§3) is handled here: when the sealer says a key update is due,
/// seal() appends a KEY_UPDATE frame to the record and switches keys after it, so the
/// session never has to know; the session reports the peer's KEY_UPDATE through
/// peer_key_update().
class AeadChannel final : public Channel {
 public:
  explicit AeadChannel(SessionRecords records) noexcept : records_(std::move(records)) {}

  /// The channel of a finished handshake, for `self` (client or server).
  [[nodiscard]] static Result<std::unique_ptr<AeadChannel>> create(const Established& established,
                                                                   protocol::Role self,
                                                                   Clock::time_point now);

  std::size_t max_plaintext() const noexcept override;
  std::size_t sealed_size(std::size_t plaintext) const noexcept override;
  std::size_t max_unit() const noexcept override { return kMaxRecordSize; }
  Result<std::size_t> seal(std::span<const ConstBytes> pieces, std::span<std::byte> out,
                           Clock::time_point now) noexcept override;
  Result<Opened> open(std::span<std::byte> input) noexcept override;
  Result<void> peer_key_update() noexcept override;

  /// Records sealed under the current sending key (tests).
  std::uint64_t send_counter() const noexcept { return records_.sealer.counter(); }

 private:
  SessionRecords records_;
};

}  // namespace ringtunnel::tunnel
