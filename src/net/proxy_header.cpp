// SPDX-License-Identifier: MIT
// PROXY protocol v2 header encoder: fixed part, then the IPv4 or IPv6 address block.
#include "net/proxy_header.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace ringtunnel::net {
namespace {

constexpr std::array<unsigned char, 12> kSignature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::size_t kFixedSize = 16;  // signature, ver/cmd, family, 2-byte length

// Byte 13: the version in the high nibble, the command in the low one.
constexpr unsigned char kVersion2Local = 0x20;
constexpr unsigned char kVersion2Proxy = 0x21;
// Byte 14: the address family in the high nibble, the transport in the low one.
constexpr unsigned char kFamilyUnspec = 0x00;
constexpr unsigned char kFamilyInet = 0x10;
constexpr unsigned char kFamilyInet6 = 0x20;
constexpr unsigned char kTransportStream = 0x01;
constexpr unsigned char kTransportDgram = 0x02;

// Address block sizes: both addresses, then both ports.
constexpr std::size_t kInetBlock = 4 + 4 + 2 + 2;
constexpr std::size_t kInet6Block = 16 + 16 + 2 + 2;
static_assert(kFixedSize + kInet6Block == kMaxProxyV2Header);

bool is_ip(const SocketAddress& address) noexcept {
  return address.family() == AF_INET || address.family() == AF_INET6;
}

// Appends to the front of `out`; every header form fits kMaxProxyV2Header (static_assert above).
class Writer {
 public:
  explicit Writer(std::span<std::byte, kMaxProxyV2Header> out) noexcept : out_(out) {}

  void bytes(const void* data, std::size_t size) noexcept {
    std::memcpy(out_.data() + at_, data, size);
    at_ += size;
  }
  void byte(unsigned char value) noexcept { out_[at_++] = std::byte{value}; }
  void big_endian16(std::uint16_t value) noexcept {
    byte(static_cast<unsigned char>(value >> 8));
    byte(static_cast<unsigned char>(value & 0xFF));
  }
  std::size_t written() const noexcept { return at_; }

 private:
  std::span<std::byte, kMaxProxyV2Header> out_;
  std::size_t at_ = 0;
};

// The 4 address bytes of an AF_INET address, already in network order in sin_addr.
std::array<unsigned char, 4> inet_bytes(const SocketAddress& address) noexcept {
  sockaddr_in raw{};
  std::memcpy(&raw, address.sockaddr(), sizeof(raw));  // sockaddr() views storage of that family
  std::array<unsigned char, 4> bytes{};
  std::memcpy(bytes.data(), &raw.sin_addr, bytes.size());
  return bytes;
}

// The 16 bytes an AF_INET6 block carries: an IPv6 address as is, an IPv4 one as ::ffff:a.b.c.d
// (RFC 4291 section 2.5.5.2), so that a mixed pair still fits one family.
std::array<unsigned char, 16> inet6_bytes(const SocketAddress& address) noexcept {
  std::array<unsigned char, 16> bytes{};
  if (address.family() == AF_INET) {
    bytes[10] = 0xFF;
    bytes[11] = 0xFF;
    const auto v4 = inet_bytes(address);
    std::memcpy(bytes.data() + 12, v4.data(), v4.size());
    return bytes;
  }
  sockaddr_in6 raw{};
  std::memcpy(&raw, address.sockaddr(), sizeof(raw));
  std::memcpy(bytes.data(), &raw.sin6_addr, bytes.size());
  return bytes;
}

// `family_transport` is the OR of a kFamily* and a kTransport* nibble.
void write_fixed_part(Writer& writer, unsigned char version_command, unsigned family_transport,
                      std::size_t block_size) noexcept {
  writer.bytes(kSignature.data(), kSignature.size());
  writer.byte(version_command);
  writer.byte(static_cast<unsigned char>(family_transport));
  writer.big_endian16(static_cast<std::uint16_t>(block_size));
}

}  // namespace

std::size_t encode_proxy_v2(const SocketAddress& source, const SocketAddress& destination,
                            bool datagram, std::span<std::byte, kMaxProxyV2Header> out) noexcept {
  Writer writer(out);
  if (!is_ip(source) || !is_ip(destination)) {
    // The spec's answer for endpoints it cannot describe: LOCAL with no address block.
    write_fixed_part(writer, kVersion2Local, kFamilyUnspec, 0);
    return writer.written();
  }
  const unsigned char transport = datagram ? kTransportDgram : kTransportStream;
  if (source.family() == AF_INET && destination.family() == AF_INET) {
    write_fixed_part(writer, kVersion2Proxy, kFamilyInet | transport, kInetBlock);
    const auto from = inet_bytes(source);
    const auto to = inet_bytes(destination);
    writer.bytes(from.data(), from.size());
    writer.bytes(to.data(), to.size());
  } else {
    write_fixed_part(writer, kVersion2Proxy, kFamilyInet6 | transport, kInet6Block);
    const auto from = inet6_bytes(source);
    const auto to = inet6_bytes(destination);
    writer.bytes(from.data(), from.size());
    writer.bytes(to.data(), to.size());
  }
  writer.big_endian16(source.port());
  writer.big_endian16(destination.port());
  return writer.written();
}

}  // namespace ringtunnel::net
