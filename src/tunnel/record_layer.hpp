// SPDX-License-Identifier: MIT
// Record protection of docs/protocol.md §2, one direction per object: RecordSealer, RecordOpener.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "crypto/aead.hpp"
#include "protocol/limits.hpp"
#include "protocol/record.hpp"
#include "runtime/result.hpp"
#include "tunnel/key_schedule.hpp"

namespace ringtunnel::tunnel {

// Sans-I/O: these objects turn plaintext into record bytes and back; moving the bytes is the
// caller's business. Threads: one object belongs to one session on one reactor core.

/// The clock key lifetimes are measured on. Callers pass `now`, so tests drive time.
using Clock = std::chrono::steady_clock;

/// Bytes a record adds around its plaintext: the 4-byte length header and the AEAD tag.
inline constexpr std::size_t kRecordOverhead = protocol::kRecordHeaderSize + protocol::kTagSize;
/// Largest whole record (header included): what RecordAssembler ever buffers.
inline constexpr std::size_t kMaxRecordSize =
    protocol::kRecordHeaderSize + protocol::kMaxRecordCiphertext;

/// Seals `plaintext` as record number `counter` under `key`, writing `u32 length ||
/// ciphertext || tag` (AAD = the length bytes) to the front of `out`; returns the record size.
/// The plaintext may already sit at out.data() + 4 (sealed in place); any other overlap is
/// refused. This is the raw form the handshake uses for its record 0; sessions use
/// RecordSealer, which owns the counter.
/// Errors: EINVAL for an empty plaintext or an `out` smaller than sealed_size (or overlapping
/// badly); EMSGSIZE over kMaxRecordPlaintext; ENOTRECOVERABLE if the crypto library fails.
/// No allocation.
[[nodiscard]] Result<std::size_t> seal_record(crypto::AeadKey& key, std::uint64_t counter,
                                              std::span<const std::byte> plaintext,
                                              std::span<std::byte> out) noexcept;

/// seal_record with the plaintext given as pieces (frame headers and payloads where they lie),
/// sealed without a gathering copy. `out` must not overlap any piece.
/// Errors: as seal_record (EINVAL for an empty total, a short `out` or any overlap).
[[nodiscard]] Result<std::size_t> seal_record_gather(
    crypto::AeadKey& key, std::uint64_t counter,
    std::span<const std::span<const std::byte>> pieces, std::span<std::byte> out) noexcept;

/// Opens, in place, a whole record (header + ciphertext) sealed as number `counter` under
/// `key`; returns the plaintext length, the plaintext starting at record.data() + 4.
/// Errors: decrypt_failed for anything wrong: a header that does not match the record's size
/// or §2 bounds, a wrong key, counter, header or tag. On failure the record's bytes are not
/// plaintext and must not be used. No allocation.
[[nodiscard]] Result<std::size_t> open_record(crypto::AeadKey& key, std::uint64_t counter,
                                              std::span<std::byte> record) noexcept;

/// The sending half of a session's record layer: the key of one traffic secret and the
/// record counter (0, +1 per record, reset by update_key()).
///
/// Key update (§3): when key_update_due() says so, the caller puts a KEY_UPDATE frame in the
/// next record, seals it (under the old key) and then calls update_key().
/// Lifetime: move-only; owns its AeadKey and the secret, both wiped when destroyed.
class RecordSealer {
 public:
  /// A sealer for record 0 under key(traffic_secret); `now` starts the key's clock.
  /// Errors: EOPNOTSUPP for an AEAD this build lacks; ENOMEM/ENOTRECOVERABLE from the library.
  [[nodiscard]] static Result<RecordSealer> create(crypto::AeadAlgorithm algorithm,
                                                   SecretView traffic_secret,
                                                   Clock::time_point now);

  /// Bytes seal() writes for `plaintext` bytes: 4 + plaintext + 16.
  static constexpr std::size_t sealed_size(std::size_t plaintext) noexcept {
    return plaintext + kRecordOverhead;
  }

  /// Seals the next record into `out` (see seal_record for the layout and in-place use) and
  /// advances the counter; returns the record size. No allocation.
  /// Errors: EINVAL/EMSGSIZE as seal_record (nothing consumed, the sealer stays usable);
  /// EOVERFLOW once the counter would reach 2^64 - 1 (§2: abort the session, never wrap);
  /// ENOTRECOVERABLE if the library fails. The last two are sticky: every later call fails.
  [[nodiscard]] Result<std::size_t> seal(std::span<const std::byte> plaintext,
                                         std::span<std::byte> out) noexcept;

  /// seal() with the plaintext given as pieces (see seal_record_gather). No allocation.
  [[nodiscard]] Result<std::size_t> seal_gather(std::span<const std::span<const std::byte>> pieces,
                                                std::span<std::byte> out) noexcept;

  /// True when the next record must carry KEY_UPDATE: it would be the 2^24th record on this
  /// key, or the key has been in use for an hour (§3).
  [[nodiscard]] bool key_update_due(Clock::time_point now) const noexcept;

  /// Switches to key(next(secret)) with the counter back at 0 and the clock restarted at
  /// `now`. Call right after sealing the record that carries KEY_UPDATE.
  /// Errors: ENOMEM/ENOTRECOVERABLE from the library (sticky: close the session).
  [[nodiscard]] Result<void> update_key(Clock::time_point now) noexcept;

  /// The number the next record will carry.
  [[nodiscard]] std::uint64_t counter() const noexcept { return counter_; }
  crypto::AeadAlgorithm algorithm() const noexcept { return algorithm_; }

 private:
  friend struct RecordLayerTestPeer;  // sets the counter near its limits (tests only)

  RecordSealer(crypto::AeadAlgorithm algorithm, Secret secret, crypto::AeadKey key,
               Clock::time_point now) noexcept;
  template <typename SealFn>
  Result<std::size_t> seal_counted(SealFn&& seal_fn) noexcept;

  crypto::AeadAlgorithm algorithm_;
  Secret secret_;
  crypto::AeadKey key_;
  std::uint64_t counter_ = 0;
  Clock::time_point key_started_;
  std::error_code failed_;  // sticky failure; empty while usable
};

/// The receiving half: opens the peer's records in order, with the counter implicit, so a
/// reordered, replayed, duplicated, truncated or forged record fails (decrypt_failed).
/// A failure is final: every later open() fails too (§2: no retry, no skipping).
/// Lifetime: move-only; owns its AeadKey and the secret, both wiped when destroyed.
class RecordOpener {
 public:
  /// An opener for the peer's record 0 under key(traffic_secret).
  /// Errors: EOPNOTSUPP for an AEAD this build lacks; ENOMEM/ENOTRECOVERABLE from the library.
  [[nodiscard]] static Result<RecordOpener> create(crypto::AeadAlgorithm algorithm,
                                                   SecretView traffic_secret);

  /// Opens the next record in place (see open_record): `record` is one whole record as
  /// RecordAssembler yields it; returns the plaintext length, plaintext at record.data() + 4.
  /// Errors: decrypt_failed (sticky). No allocation.
  [[nodiscard]] Result<std::size_t> open(std::span<std::byte> record) noexcept;

  /// Switches to key(next(secret)), counter 0: call after opening a record whose frames
  /// included KEY_UPDATE, before opening the next one.
  /// Errors: ENOMEM/ENOTRECOVERABLE from the library (sticky).
  [[nodiscard]] Result<void> update_key() noexcept;

  /// The number the next record must carry.
  [[nodiscard]] std::uint64_t counter() const noexcept { return counter_; }
  crypto::AeadAlgorithm algorithm() const noexcept { return algorithm_; }

 private:
  friend struct RecordLayerTestPeer;

  RecordOpener(crypto::AeadAlgorithm algorithm, Secret secret, crypto::AeadKey key) noexcept;

  crypto::AeadAlgorithm algorithm_;
  Secret secret_;
  crypto::AeadKey key_;
  std::uint64_t counter_ = 0;
  std::error_code failed_;
};

}  // namespace ringtunnel::tunnel
