// SPDX-License-Identifier: MIT
// RecordAssembler: gathers received byte chunks into whole records, header checked first.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "runtime/result.hpp"
#include "tunnel/record_layer.hpp"

namespace ringtunnel::tunnel {

/// Turns a byte stream into whole records (`u32 length || ciphertext`) for RecordOpener.
///
/// The length header is checked (protocol::parse_record_length) as soon as its 4 bytes are in,
/// before any ciphertext is taken, and feed() never takes bytes past the end of the current
/// record, so a hostile length can never make it hold more than kMaxRecordSize bytes. Its one
/// buffer of kMaxRecordSize bytes is allocated by the constructor; feed() allocates nothing.
///
/// Use:
///   while (!chunk.empty()) {
///     auto taken = assembler.feed(chunk);             // error: close with reason_of(error)
///     chunk = chunk.subspan(*taken);
///     if (assembler.has_record()) { opener.open(assembler.record()); ...; assembler.consume(); }
///   }
/// Lifetime: move-only. Threads: one session's core.
class RecordAssembler {
 public:
  RecordAssembler();

  /// Takes bytes from the front of `input` up to the end of the current record; returns how
  /// many it took (0 while a complete record waits for consume()).
  /// Errors: what parse_record_length reports for a bad header (protocol_error below 17,
  /// frame_too_large above kMaxRecordCiphertext); sticky: the stream cannot be resynchronised.
  [[nodiscard]] Result<std::size_t> feed(std::span<const std::byte> input) noexcept;

  /// True when a whole record is buffered.
  [[nodiscard]] bool has_record() const noexcept { return have_length_ && filled_ == expected_; }

  /// The whole record (header + ciphertext), writable so RecordOpener can open it in place.
  /// Valid until consume(). Empty when has_record() is false.
  [[nodiscard]] std::span<std::byte> record() noexcept;

  /// Drops the current record (if complete) so feed() can start the next one.
  void consume() noexcept;

  /// Bytes held now (a partial or complete record).
  [[nodiscard]] std::size_t buffered() const noexcept { return filled_; }

 private:
  std::unique_ptr<std::byte[]> buffer_;  // kMaxRecordSize bytes
  std::size_t filled_ = 0;
  std::size_t expected_ = 0;  // whole record size, once the header is known
  bool have_length_ = false;
  std::error_code failed_;
};

}  // namespace ringtunnel::tunnel
