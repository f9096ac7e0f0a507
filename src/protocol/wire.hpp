// SPDX-License-Identifier: MIT
// ByteReader and ByteWriter: bounds-checked big-endian primitives (u8..u64, bytes, str8).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace ringtunnel::protocol {

/// Views text as bytes (no copy).
inline std::span<const std::byte> as_bytes(std::string_view text) noexcept {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

/// Views bytes as text (no copy, no validation).
inline std::string_view as_text(std::span<const std::byte> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

/// True if `text` is well-formed UTF-8 (no overlong forms, no surrogates, nothing past
/// U+10FFFF). Every str8 on the wire must be.
bool is_valid_utf8(std::string_view text) noexcept;

/// Reads big-endian fields from a span it does not own, never past its end.
///
/// Each read either consumes exactly what it returns or, when too few bytes remain, returns
/// nothing (false / nullopt) and consumes nothing. Views returned point into the input and live
/// as long as it does. Plain value type; no allocation.
class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> input) noexcept : rest_(input) {}

  /// Bytes not read yet.
  std::size_t remaining() const noexcept { return rest_.size(); }
  bool empty() const noexcept { return rest_.empty(); }
  /// The unread bytes, without consuming them.
  std::span<const std::byte> rest() const noexcept { return rest_; }

  std::optional<uint8_t> u8() noexcept { return read_int<uint8_t>(); }
  std::optional<uint16_t> u16() noexcept { return read_int<uint16_t>(); }
  std::optional<uint32_t> u32() noexcept { return read_int<uint32_t>(); }
  std::optional<uint64_t> u64() noexcept { return read_int<uint64_t>(); }

  /// The next `count` bytes, as a view into the input.
  std::optional<std::span<const std::byte>> bytes(std::size_t count) noexcept {
    if (count > rest_.size()) return std::nullopt;
    std::span<const std::byte> out = rest_.first(count);
    rest_ = rest_.subspan(count);
    return out;
  }

  /// Copies the next N bytes into `out`; false (and `out` untouched) if fewer remain.
  template <std::size_t N>
  bool copy_to(std::array<std::byte, N>& out) noexcept {
    if (N > rest_.size()) return false;
    std::memcpy(out.data(), rest_.data(), N);
    rest_ = rest_.subspan(N);
    return true;
  }

  /// A `str8`: a u8 length and that many bytes, as a view into the input. Consumes nothing if
  /// the length byte or the text is missing. Does not check UTF-8 (see is_valid_utf8).
  std::optional<std::string_view> str8() noexcept {
    if (rest_.empty()) return std::nullopt;
    const auto length = static_cast<std::size_t>(rest_[0]);
    if (1 + length > rest_.size()) return std::nullopt;
    std::string_view out = as_text(rest_.subspan(1, length));
    rest_ = rest_.subspan(1 + length);
    return out;
  }

 private:
  template <typename T>
  std::optional<T> read_int() noexcept {
    if (sizeof(T) > rest_.size()) return std::nullopt;
    T value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      value = static_cast<T>(value << 8 | static_cast<T>(rest_[i]));
    }
    rest_ = rest_.subspan(sizeof(T));
    return value;
  }

  std::span<const std::byte> rest_;
};

/// Writes big-endian fields either at the end of a std::vector (which grows) or into a fixed
/// span (which does not).
///
/// Failure is sticky: a write that would overflow the span, or a str8 longer than 255 bytes,
/// writes nothing, marks the writer failed, and every later write is ignored. Check ok() once
/// at the end. The vector or span must outlive the writer.
class ByteWriter {
 public:
  /// Appends to `out` (existing contents are kept).
  explicit ByteWriter(std::vector<std::byte>& out) noexcept : vector_(&out) {}
  /// Writes into `out` from its start; never past its end.
  explicit ByteWriter(std::span<std::byte> out) noexcept : span_(out) {}

  /// False once any write failed.
  bool ok() const noexcept { return ok_; }
  /// Bytes written through this writer.
  std::size_t size() const noexcept { return written_; }

  bool u8(uint8_t value) noexcept { return write_int(value); }
  bool u16(uint16_t value) noexcept { return write_int(value); }
  bool u32(uint32_t value) noexcept { return write_int(value); }
  bool u64(uint64_t value) noexcept { return write_int(value); }

  bool bytes(std::span<const std::byte> data) noexcept {
    std::byte* out = reserve(data.size());
    if (out == nullptr) return false;
    if (!data.empty()) std::memcpy(out, data.data(), data.size());
    return true;
  }

  /// A u8 length then the text; fails if the text is longer than 255 bytes.
  bool str8(std::string_view text) noexcept {
    if (text.size() > 255) {
      ok_ = false;
      return false;
    }
    return u8(static_cast<uint8_t>(text.size())) && bytes(as_bytes(text));
  }

 private:
  template <typename T>
  bool write_int(T value) noexcept {
    std::byte* out = reserve(sizeof(T));
    if (out == nullptr) return false;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      out[i] = static_cast<std::byte>(static_cast<uint8_t>(value >> (8 * (sizeof(T) - 1 - i))));
    }
    return true;
  }

  // Room for `count` more bytes, or nullptr (and failed) if there is none.
  std::byte* reserve(std::size_t count) noexcept {
    if (!ok_) return nullptr;
    if (vector_ != nullptr) {
      vector_->resize(vector_->size() + count);
      written_ += count;
      return vector_->data() + vector_->size() - count;
    }
    if (count > span_.size() - written_) {
      ok_ = false;
      return nullptr;
    }
    std::byte* out = span_.data() + written_;
    written_ += count;
    return out;
  }

  std::vector<std::byte>* vector_ = nullptr;  // borrowed; outlives the writer
  std::span<std::byte> span_;
  std::size_t written_ = 0;
  bool ok_ = true;
};

}  // namespace ringtunnel::protocol
