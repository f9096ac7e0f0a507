// SPDX-License-Identifier: MIT
// Records (docs/protocol.md §2): the 4-byte length header, its bounds, the nonce and counter.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "protocol/limits.hpp"
#include "protocol/reason.hpp"
#include "runtime/result.hpp"

namespace ringtunnel::protocol {

// Everything here is a pure function of its arguments (classes hold only their own state):
// any thread may call it, and nothing does I/O, crypto or, on the decode side, allocation.

/// `length: u32`, which is also the record's AEAD additional data.
inline constexpr std::size_t kRecordHeaderSize = 4;

/// AEAD nonce size: `0x00000000 || counter: u64`.
inline constexpr std::size_t kNonceSize = 12;

/// The largest counter a record may carry. A sender that would reach 2^64 - 1 aborts the
/// session instead (§2), so the counter never wraps.
inline constexpr uint64_t kMaxRecordCounter = UINT64_MAX - 1;

/// Reads a record header: the ciphertext length (tag included) that follows it.
/// Errors: protocol_error below kMinRecordCiphertext (17), frame_too_large above
/// kMaxRecordCiphertext (66 576). Check before reading or allocating the ciphertext.
[[nodiscard]] Result<uint32_t> parse_record_length(
    std::span<const std::byte, kRecordHeaderSize> header) noexcept;

/// Writes a record header. `ciphertext_length` must be within the bounds above (the sender
/// knows its own lengths; this does not check).
void write_record_header(std::span<std::byte, kRecordHeaderSize> out,
                         uint32_t ciphertext_length) noexcept;

/// The nonce of record number `counter` of one direction.
std::array<std::byte, kNonceSize> record_nonce(uint64_t counter) noexcept;

}  // namespace ringtunnel::protocol
