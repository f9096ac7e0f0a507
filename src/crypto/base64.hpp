// SPDX-License-Identifier: MIT
// Internal to src/crypto: standard padded base64 (RFC 4648 §4) for key and fingerprint text.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace ringtunnel::crypto::detail {

/// The padded base64 of `bytes`: 4 characters per 3 bytes, '=' filling the last group.
/// Any thread.
[[nodiscard]] std::string base64_encode(std::span<const std::byte> bytes);

/// Decodes `text` into `out` when it is exactly the padded base64 of out.size() bytes; false
/// (and `out` unspecified) for any other length, a character outside the alphabet, or a '='
/// anywhere but the padding. Unused low bits of the last character are ignored, as OpenSSL's
/// EVP_DecodeBlock ignores them. Built in, so both crypto backends accept the same text.
/// Any thread.
[[nodiscard]] bool base64_decode(std::string_view text, std::span<std::byte> out) noexcept;

}  // namespace ringtunnel::crypto::detail
