// SPDX-License-Identifier: MIT
// AeadChannel: frames into records (with the KEY_UPDATE frame when due), records into frames.
#include "tunnel/aead_channel.hpp"

#include <array>
#include <cerrno>

#include "protocol/payload.hpp"
#include "protocol/record.hpp"

namespace ringtunnel::tunnel {
namespace {

// The KEY_UPDATE frame appended to a record when the sending key is due for an update.
constexpr std::array<std::byte, protocol::kFrameHeaderSize> key_update_frame() noexcept {
  return {std::byte{static_cast<std::uint8_t>(protocol::FrameType::key_update)}};
}

}  // namespace

Result<std::unique_ptr<AeadChannel>> AeadChannel::create(const Established& established,
                                                         protocol::Role self,
                                                         Clock::time_point now) {
  auto records = session_records(established, self, now);
  if (!records) return records.error();
  return std::make_unique<AeadChannel>(std::move(records).value());
}

std::size_t AeadChannel::max_plaintext() const noexcept {
  // Room is kept for the KEY_UPDATE frame seal() may append.
  return protocol::kMaxRecordPlaintext - protocol::kFrameHeaderSize;
}

std::size_t AeadChannel::sealed_size(std::size_t plaintext) const noexcept {
  return RecordSealer::sealed_size(plaintext + protocol::kFrameHeaderSize);
}

Result<std::size_t> AeadChannel::seal(std::span<const ConstBytes> pieces, std::span<std::byte> out,
                                      Clock::time_point now) noexcept {
  RecordSealer& sealer = records_.sealer;
  if (!sealer.key_update_due(now)) return sealer.seal_gather(pieces, out);
  // The caller's pieces plus the KEY_UPDATE frame, under the old key; the new key from the
  // next record on (§3).
  static constexpr std::array<std::byte, protocol::kFrameHeaderSize> kKeyUpdate = key_update_frame();
  if (pieces.size() > kMaxSealPieces) return errno_code(EINVAL);
  std::array<ConstBytes, kMaxSealPieces + 1> with_update;
  for (std::size_t i = 0; i < pieces.size(); ++i) with_update[i] = pieces[i];
  with_update[pieces.size()] = kKeyUpdate;
  auto sealed = sealer.seal_gather(std::span(with_update).first(pieces.size() + 1), out);
  if (!sealed) return sealed.error();
  if (auto updated = sealer.update_key(now); !updated) return updated.error();
  return sealed;
}

Result<Opened> AeadChannel::open(std::span<std::byte> input) noexcept {
  if (input.size() < protocol::kRecordHeaderSize) return Opened{};
  const auto length = protocol::parse_record_length(input.first<protocol::kRecordHeaderSize>());
  if (!length) return length.error();
  const std::size_t whole = protocol::kRecordHeaderSize + *length;
  if (input.size() < whole) return Opened{};
  const auto record = input.first(whole);
  auto opened = records_.opener.open(record);
  if (!opened) return opened.error();
  return Opened{whole, record.subspan(protocol::kRecordHeaderSize, *opened)};
}

Result<void> AeadChannel::peer_key_update() noexcept { return records_.opener.update_key(); }

}  // namespace ringtunnel::tunnel
