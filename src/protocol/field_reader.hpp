// SPDX-License-Identifier: MIT
// FieldReader: reads a message field by field and remembers the first field that was cut off.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>

#include "protocol/problem.hpp"
#include "protocol/reason.hpp"
#include "protocol/wire.hpp"

namespace ringtunnel::protocol {

/// Module-internal helper for the decoders: each read names its Field; the first read that runs
/// out of input (or a str8 that is not UTF-8) becomes the error, and later reads do nothing, so
/// a decoder reads every field and checks error() once. No allocation.
class FieldReader {
 public:
  explicit FieldReader(std::span<const std::byte> input) noexcept : in_(input) {}

  void read(uint8_t& out, Field field) noexcept { take(in_.u8(), out, field); }
  void read(uint16_t& out, Field field) noexcept { take(in_.u16(), out, field); }
  void read(uint32_t& out, Field field) noexcept { take(in_.u32(), out, field); }
  void read(uint64_t& out, Field field) noexcept { take(in_.u64(), out, field); }

  void read(Reason& out, Field field) noexcept {
    uint16_t raw = 0;
    read(raw, field);
    out = static_cast<Reason>(raw);
  }

  template <std::size_t N>
  void read(std::array<std::byte, N>& out, Field field) noexcept {
    if (!error_ && !in_.copy_to(out)) error_ = make_error(Problem::truncated, field);
  }

  /// A str8 that must be valid UTF-8; the view points into the input.
  void read(std::string_view& out, Field field) noexcept {
    if (error_) return;
    const auto text = in_.str8();
    if (!text) {
      error_ = make_error(Problem::truncated, field);
    } else if (!is_valid_utf8(*text)) {
      error_ = make_error(Problem::not_utf8, field);
    } else {
      out = *text;
    }
  }

  /// The first error so far (truncation or bad UTF-8), or the empty code.
  std::error_code error() const noexcept { return error_; }

  /// The first error, or, once every field is read, trailing_bytes if input is left over.
  /// `message` names the whole message (Field::client_hello, Field::open, ...).
  std::error_code finish(Field message) const noexcept {
    if (error_) return error_;
    if (!in_.empty()) return make_error(Problem::trailing_bytes, message, in_.remaining());
    return {};
  }

 private:
  template <typename T, typename V>
  void take(const std::optional<V>& value, T& out, Field field) noexcept {
    if (error_) return;
    if (value) {
      out = *value;
    } else {
      error_ = make_error(Problem::truncated, field);
    }
  }

  ByteReader in_;
  std::error_code error_;
};

/// Encoder-side check of a str8 against its limit (255, or 64 for client_name) and UTF-8.
inline std::error_code check_text(std::string_view text, Field field,
                                  std::size_t limit = 255) noexcept {
  if (text.size() > limit) return make_error(Problem::too_long, field, text.size());
  if (!is_valid_utf8(text)) return make_error(Problem::not_utf8, field);
  return {};
}

}  // namespace ringtunnel::protocol
