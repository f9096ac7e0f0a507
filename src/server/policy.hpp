// SPDX-License-Identifier: MIT
// Server policy: which target ports and hosts a client may ask the server to connect to.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/socket_address.hpp"

namespace ringtunnel::server {

/// The answer to "may this client connect there?", with a sentence the server sends back in
/// OPEN_REFUSED. `reason` is empty when allowed; otherwise it is printable ASCII of at most
/// 255 bytes (it fits a `str8`), and quotes client text only cut short and escaped.
struct Decision {
  /// Which check failed, for mapping to protocol::Reason::port_not_allowed / host_not_allowed.
  /// A malformed host is `host_not_allowed`; port 0 is `port_not_allowed`.
  enum class Refusal : std::uint8_t { none, port_not_allowed, host_not_allowed };

  Refusal refusal = Refusal::none;
  std::string reason;

  bool allowed() const noexcept { return refusal == Refusal::none; }
  explicit operator bool() const noexcept { return allowed(); }
};

/// Target ports the server connects to (`--allowed-ports 5432,6379,8000-8100`).
/// A default-constructed set allows every port, 1-65535 (the flag is absent). Port 0 is never
/// contained: nothing can be connected to there. Plain data; any thread may read a shared one.
class PortSet {
 public:
  PortSet() = default;

  /// Parses a comma list of ports (1-65535) and LOW-HIGH ranges (LOW <= HIGH), with spaces
  /// or tabs around entries and around '-'; duplicates and overlaps are fine. Text that is
  /// empty or only blanks is an error: leaving the flag out is how to allow every port.
  /// Errors: nullopt, and `*error` (when not null) gets one sentence quoting the list, e.g.
  /// "port 70000 in port list '5432,70000' is out of range (1-65535)".
  static std::optional<PortSet> parse(std::string_view text, std::string* error);

  bool allows_all() const noexcept { return ranges_.empty(); }
  /// Binary search over the merged ranges; no allocation.
  bool contains(std::uint16_t port) const noexcept;
  /// Sorted, merged: "80,5432,6379,8000-8100", or "every port".
  std::string to_string() const;

 private:
  struct Range {
    std::uint16_t first;
    std::uint16_t last;
  };
  std::vector<Range> ranges_;  // sorted, disjoint, not adjacent; empty = every port
};

/// An IPv4 or IPv6 CIDR block; one address is a /32 or /128. IPv4-mapped IPv6 is stored as
/// IPv4. Plain data.
struct AddressBlock {
  std::array<std::uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4
  std::uint8_t prefix = 0;               // bits: 0-32 for IPv4, 0-128 for IPv6
  bool v6 = false;
  bool operator==(const AddressBlock&) const = default;
};

/// Target hosts the server connects to (`--allowed-hosts db.internal,10.0.0.0/8,fd00::/8`).
/// `localhost` and the loopback addresses (127.0.0.0/8, ::1) are always allowed; a
/// default-constructed set allows only those. Plain data; any thread may read a shared one.
///
/// The target host is free text from the client (authenticated, not trusted), so it is
/// checked twice: check_host() before resolution (only text that passes may reach
/// getaddrinfo, which is handed exactly that text), allows_address() on each resolved address.
///
/// Matching rules:
///  - Hosts follow ringtunnel::classify_host (include/ringtunnel/tunnel_spec.hpp), the grammar
///    `-L` uses: a name's last label needs a letter, so getaddrinfo shorthand like `127.1` or
///    `0x7f.1` is malformed rather than a name, and can never be listed. IPv6 hosts come
///    without brackets and without a `%scope`.
///  - Names match case-insensitively and exactly (no suffix or wildcard match); one trailing
///    dot is ignored on either side. A listed name may resolve to any address: the operator
///    chose the name. `localhost` may only resolve to a loopback address (a DNS answer for
///    `localhost.` cannot send the server elsewhere).
///  - CIDR blocks and addresses match only hosts written as IP literals; an unlisted name is
///    refused even if it would resolve inside a listed block.
///  - IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is IPv4, in the list and in what is checked: it
///    matches IPv4 entries only. So `::/0` allows every IPv6 address but no IPv4 address.
///  - There is no wildcard: `0.0.0.0/0,::/0` allows every literal address.
class HostSet {
 public:
  HostSet() = default;

  /// Parses a comma list (blanks around entries tolerated) of host names, IPv4 and IPv6
  /// addresses (IPv6 with or without brackets) and CIDR blocks (`10.0.0.0/8`, `fd00::/8`,
  /// `[fd00::]/8`). A block with host bits set (`10.0.0.1/8`) is an error, not silently
  /// masked: it is usually a typo, and the message suggests the block (`10.0.0.0/8`). Empty
  /// or blank text is an error.
  /// Errors: nullopt, and `*error` (when not null) gets one sentence quoting the entry.
  static std::optional<HostSet> parse(std::string_view text, std::string* error);

  /// Before resolution: is `host` well-formed, and a listed name, `localhost`, or an IP
  /// literal inside the loopback range or a listed block? Refusals are host_not_allowed:
  /// "host 'db.internal' is not allowed by this server (allowed: localhost, 10.0.0.0/8)" or
  /// "host '127.1' is not a valid host name or address". No allocation when allowed.
  Decision check_host(std::string_view host) const;

  /// After resolving `host` (which passed check_host) to `resolved`: may the server connect
  /// there? The port and IPv6 scope of `resolved` are ignored. False for an empty address.
  bool allows_address(std::string_view host, const net::SocketAddress& resolved) const;

  /// "localhost, db.internal, 10.0.0.0/8, fd00::/8" (single addresses without a prefix).
  std::string to_string() const;

 private:
  bool has_name(std::string_view host) const noexcept;
  bool in_blocks(const AddressBlock& address) const noexcept;

  std::vector<std::string> names_;    // lower-case, no trailing dot, sorted, unique, no localhost
  std::vector<AddressBlock> blocks_;  // in list order, duplicates removed, host bits clear
};

/// Both sets, as the server applies them to each OPEN.
struct Policy {
  PortSet ports;
  HostSet hosts;

  /// The host first (HostSet::check_host), then the port: "port 22 is not allowed by this
  /// server (allowed: 5432,6379)". Port 0 is refused.
  Decision check(std::string_view host, std::uint16_t port) const;

  /// "ports: every port; hosts: localhost, 10.0.0.0/8", for the start-up log.
  std::string to_string() const;
};

}  // namespace ringtunnel::server
