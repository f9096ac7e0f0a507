// SPDX-License-Identifier: MIT
// Channel: the secure transform a Session runs over (native AEAD records today, TLS 1.3 later).
#pragma once

#include <chrono>
#include <cstddef>
#include <span>

#include "runtime/result.hpp"

namespace ringtunnel::tunnel {

/// Bytes a Channel reads or seals: plain views, no ownership.
using ConstBytes = std::span<const std::byte>;

/// The most pieces one Channel::seal() takes.
inline constexpr std::size_t kMaxSealPieces = 255;

/// What Channel::open found at the front of its input.
struct Opened {
  std::size_t consumed = 0;     ///< input bytes used; 0 means a whole unit has not arrived yet
  std::span<std::byte> frames;  ///< whole frames, back to back (valid until the next open)
};

/// The secure part of a session, after its handshake: turns outgoing frames into wire bytes
/// and incoming wire bytes into frames. Sans-I/O: the Session does every socket operation on
/// its reactor, the channel only transforms bytes, so a second implementation (TLS 1.3
/// through memory BIOs) fits behind the same interface.
///
/// Contract: open() yields whole frames only (an implementation whose units do not align
/// with frames buffers the rest itself); a failure of seal() or open() is final for the
/// session. Threads: one channel belongs to one session on one reactor core.
class Channel {
 public:
  using Clock = std::chrono::steady_clock;

  virtual ~Channel() = default;

  /// The largest plaintext one seal() accepts.
  [[nodiscard]] virtual std::size_t max_plaintext() const noexcept = 0;
  /// The most bytes seal() writes for `plaintext` bytes of frames.
  [[nodiscard]] virtual std::size_t sealed_size(std::size_t plaintext) const noexcept = 0;
  /// The largest unit open() ever needs whole in its input (the receive buffer must hold one).
  [[nodiscard]] virtual std::size_t max_unit() const noexcept = 0;

  /// Seals the concatenation of `pieces` (at most kMaxSealPieces; whole frames,
  /// 1..max_plaintext() bytes) into `out`
  /// and returns the bytes written. `now` drives key lifetimes. No allocation.
  /// Errors: EINVAL/EMSGSIZE for a caller bug (nothing sent, the channel stays usable);
  /// anything else is final (close the session).
  [[nodiscard]] virtual Result<std::size_t> seal(std::span<const ConstBytes> pieces,
                                                 std::span<std::byte> out,
                                                 Clock::time_point now) noexcept = 0;

  /// Opens the unit at the front of `input`, in place where the implementation can.
  /// consumed == 0: not enough bytes yet. Errors (protocol reasons: decrypt_failed,
  /// frame_too_large, protocol_error) are final. No allocation.
  [[nodiscard]] virtual Result<Opened> open(std::span<std::byte> input) noexcept = 0;

  /// The peer sent KEY_UPDATE in the unit just opened: switch the receiving key before the
  /// next unit. Errors: protocol_error where the transport has no such frame (TLS).
  [[nodiscard]] virtual Result<void> peer_key_update() noexcept = 0;
};

}  // namespace ringtunnel::tunnel
