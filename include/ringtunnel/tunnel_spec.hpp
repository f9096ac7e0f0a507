// SPDX-License-Identifier: MIT
// ForwardSpec: one `-L [BIND:]LOCAL_PORT:[HOST:]REMOTE_PORT[:tcp|:udp]` tunnel; the host grammar.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringtunnel {

/// What a tunnel carries.
enum class TransportProtocol : std::uint8_t { tcp, udp };

/// "tcp" or "udp".
std::string to_string(TransportProtocol protocol);

/// What kind of host text `classify_host` found.
enum class HostKind : std::uint8_t { invalid, name, ipv4, ipv6 };

/// The host grammar shared by `-L` and the server's policy, so that the server accepts exactly
/// the hosts a client can name. Accepted, without brackets and without an interface scope:
///  - an IPv4 address as a strict dotted quad of decimal numbers without leading zeros
///    (`10.0.0.5`; inet_pton's rules);
///  - an IPv6 address (`::1`, `fd00::5`, `::ffff:10.0.0.5`; inet_pton's rules);
///  - a host name: 1-253 bytes (plus one optional trailing dot) of labels of 1-63 letters,
///    digits and '-', not starting or ending with '-', separated by '.'. The last label must
///    contain a letter and must not be `0x` followed by hex digits. getaddrinfo reads text like
///    `127.1`, `0x7f.1` or `2130706433` as a shorthand IPv4 address, so text that ends in a
///    number (those, `1.2.3.4.5`, `010.0.0.1`) is neither a name nor an address: `invalid`.
/// Anything else is `invalid`: empty text, spaces, control characters, NUL bytes, '%', '[',
/// non-ASCII bytes (international names must be written in their `xn--` form).
/// On `invalid`, `*problem` (when not null) gets a phrase saying why, written to follow the
/// quoted text, e.g. "has a label that starts or ends with '-'"; it points at a string literal.
/// Pure function: any thread, no allocation.
HostKind classify_host(std::string_view host, std::string_view* problem = nullptr) noexcept;

/// The longest `-L` text parse_forward_spec reads.
inline constexpr std::size_t kMaxForwardSpecText = 512;

/// One local forward: the client listens on bind_host:local_port, and the server connects each
/// connection to target_host:target_port on its side. Plain data; copy freely.
struct ForwardSpec {
  /// Without brackets: "localhost", "127.0.0.1", "0.0.0.0" (from `*`), "::1", "fe80::1%eth0".
  /// Host names are lower-cased; IPv6 addresses are in inet_ntop's canonical form.
  std::string bind_host = "localhost";
  /// 0 lets the OS pick (the client reports the port it got).
  std::uint16_t local_port = 0;
  /// Without brackets, never with a scope, never the unspecified address (0.0.0.0, ::).
  std::string target_host = "localhost";
  /// 1-65535.
  std::uint16_t target_port = 0;
  TransportProtocol protocol = TransportProtocol::tcp;

  /// The canonical four-part text, e.g. "localhost:15432:localhost:5432",
  /// "[::1]:15432:[fd00::5]:5432", "localhost:5353:localhost:53:udp" (":udp" only for udp).
  /// For a spec parse_forward_spec produced, parsing name() gives back an equal spec.
  std::string name() const;

  friend bool operator==(const ForwardSpec&, const ForwardSpec&) = default;
};

/// Parses `-L` text: `[BIND:]LOCAL_PORT:[HOST:]REMOTE_PORT[:tcp|:udp]`.
///  - A trailing `:tcp` or `:udp` (any case) is the protocol; tcp when absent.
///  - Then 2 parts are LOCAL:REMOTE, 4 parts BIND:LOCAL:HOST:REMOTE, and 3 parts
///    LOCAL:HOST:REMOTE when the first part is all digits, else BIND:LOCAL:REMOTE.
///  - Hosts follow classify_host; IPv6 addresses only in brackets (`[::1]`). `*` as BIND means
///    every IPv4 interface ("0.0.0.0"). Only BIND may carry an interface scope
///    (`[fe80::1%eth0]`); whether the interface exists is found out when binding.
///  - Ports are decimal digits only (no sign): LOCAL 0-65535, REMOTE 1-65535.
///  - HOST defaults to "localhost"; BIND to `default_bind` (the `--bind` value, normally
///    "localhost"), which is checked like a BIND part and may also be a bare IPv6 address.
/// At most kMaxForwardSpecText bytes of printable ASCII without spaces.
/// Errors: nullopt, and `*error` (when not null) gets one sentence that quotes the text and
/// names the part, e.g. "-L '15432:db:70000': remote port 70000 is out of range (1-65535)".
/// Quoted user text is cut to a few dozen bytes and non-printable bytes are shown as \xNN.
/// Pure function: any thread; never throws except std::bad_alloc.
std::optional<ForwardSpec> parse_forward_spec(std::string_view text, std::string_view default_bind,
                                              std::string* error);

}  // namespace ringtunnel
