// SPDX-License-Identifier: MIT
// peek_sni: a bounds-checked walk of record header, ClientHello and extensions.
#include "http/sni.hpp"

#include <optional>
#include <string_view>

namespace ringtunnel::http {
namespace {

// Reads big-endian fields from a span; every read checks what is left.
class Cursor {
 public:
  explicit Cursor(std::span<const std::byte> bytes) : bytes_(bytes) {}
  std::size_t left() const noexcept { return bytes_.size(); }
  std::optional<unsigned> u8() { return number(1); }
  std::optional<unsigned> u16() { return number(2); }
  std::optional<unsigned> u24() { return number(3); }
  std::optional<std::span<const std::byte>> take(std::size_t n) {
    if (n > bytes_.size()) return std::nullopt;
    auto out = bytes_.first(n);
    bytes_ = bytes_.subspan(n);
    return out;
  }

 private:
  std::optional<unsigned> number(std::size_t n) {
    if (n > bytes_.size()) return std::nullopt;
    unsigned value = 0;
    for (std::size_t i = 0; i < n; ++i) value = (value << 8) | std::to_integer<unsigned>(bytes_[i]);
    bytes_ = bytes_.subspan(n);
    return value;
  }
  std::span<const std::byte> bytes_;
};

SniPeek fail(SniStatus status, std::string message) {
  return {status, {}, std::move(message)};
}

SniPeek malformed(std::string_view what) {
  return fail(SniStatus::malformed, "malformed ClientHello: " + std::string(what));
}

// The host_name of a server_name extension body.
SniPeek read_server_name(std::span<const std::byte> body) {
  Cursor c(body);
  auto list_size = c.u16();
  if (!list_size || *list_size != c.left()) return malformed("server_name list length");
  while (c.left() > 0) {
    auto type = c.u8();
    auto size = c.u16();
    if (!type || !size) return malformed("server_name entry");
    auto name = c.take(*size);
    if (!name) return malformed("server_name entry length");
    if (*type != 0) continue;  // only host_name (0) is defined
    if (name->empty() || name->size() > 254) return malformed("host_name length");
    std::string text;
    for (std::byte b : *name) {
      char ch = static_cast<char>(b);
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      const bool ok =
          (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
      if (!ok) return malformed("host_name has a byte that is not a letter, digit, '-' or '.'");
      text += ch;
    }
    if (text.ends_with('.')) text.pop_back();
    if (text.empty() || text.size() > 253) return malformed("host_name length");
    return {SniStatus::found, std::move(text), {}};
  }
  return fail(SniStatus::no_sni, "the ClientHello's server_name has no host_name");
}

}  // namespace

SniPeek peek_sni(std::span<const std::byte> input) {
  Cursor record(input);
  auto type = record.u8();
  if (!type) return {};
  if (*type != 22) {
    const bool http = *type >= 'A' && *type <= 'Z';
    return fail(SniStatus::not_tls, http ? "this looks like plain HTTP, not TLS"
                                         : "the first byte is not a TLS handshake record");
  }
  auto major = record.u8();
  if (!major) return {};
  if (*major != 3) return fail(SniStatus::not_tls, "not a TLS record version (3.x)");
  auto minor = record.u8();
  if (!minor) return {};
  if (*minor < 1 || *minor > 4)
    return fail(SniStatus::not_tls, "not a TLS record version (3.1-3.4)");
  auto length = record.u16();
  if (!length) return {};
  if (*length == 0 || *length > 16384) return malformed("record length");
  auto body = record.take(*length);
  if (!body) return {};  // the record is not all here yet
  Cursor hello(*body);
  auto handshake = hello.u8();
  auto size = hello.u24();
  if (!handshake || *handshake != 1)
    return malformed("the first handshake message is not a ClientHello");
  if (!size) return malformed("handshake header");
  if (*size > hello.left()) {
    return malformed("the ClientHello does not fit its record (split ClientHellos are not read)");
  }
  auto message = hello.take(*size);
  Cursor c(*message);
  if (!c.take(2) || !c.take(32)) return malformed("version and random");
  auto session = c.u8();
  if (!session || *session > 32 || !c.take(*session)) return malformed("session_id");
  auto suites = c.u16();
  if (!suites || *suites < 2 || *suites % 2 != 0 || !c.take(*suites))
    return malformed("cipher_suites");
  auto compression = c.u8();
  if (!compression || *compression < 1 || !c.take(*compression)) {
    return malformed("compression_methods");
  }
  if (c.left() == 0) return fail(SniStatus::no_sni, "the ClientHello has no extensions");
  auto extensions_size = c.u16();
  if (!extensions_size || *extensions_size != c.left()) return malformed("extensions length");
  std::optional<SniPeek> found;
  while (c.left() > 0) {
    auto ext_type = c.u16();
    auto ext_size = c.u16();
    if (!ext_type || !ext_size) return malformed("extension header");
    auto ext = c.take(*ext_size);
    if (!ext) return malformed("extension length");
    if (*ext_type != 0) continue;
    if (found) return malformed("two server_name extensions");
    found = read_server_name(*ext);
    if (found->status == SniStatus::malformed) return *found;
  }
  if (found) return *found;
  return fail(SniStatus::no_sni, "the ClientHello names no server (no server_name extension)");
}

}  // namespace ringtunnel::http
