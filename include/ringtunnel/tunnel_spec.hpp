// SPDX-License-Identifier: MIT
// ForwardSpec: one `-L [BIND:]LOCAL_PORT:[HOST:]REMOTE_PORT[:tcp|:udp]` tunnel; ExposeSpec: one
// `-R [BIND:]PUBLIC_PORT:[LOCAL_HOST:]LOCAL_PORT[:tcp|:udp][,proxy_protocol=v2]`; the host grammar.
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

/// The host grammar shared by `-L`, `-R` and the server's policy, so that the server accepts
/// exactly the hosts a client can name. Accepted, without brackets and without an interface
/// scope:
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

/// How a `-R` tunnel's visitor address reaches the local service.
enum class ProxyProtocol : std::uint8_t { none, v2 };

/// The longest `-R` text parse_expose_spec reads.
inline constexpr std::size_t kMaxExposeSpecText = kMaxForwardSpecText;

/// One exposed service: the server listens on bind_host:public_port and carries each visitor
/// connection (or UDP flow) to the client, which connects to local_host:local_port.
/// Plain data; copy freely.
struct ExposeSpec {
  /// Empty: the server's --expose-bind. Else an IP address (no brackets; `*` is "0.0.0.0")
  /// or "localhost", never with an interface scope: it names an address on the server.
  std::string bind_host;
  /// 1-65535 (0 is refused: the client must know its port).
  std::uint16_t public_port = 0;
  /// As ForwardSpec::target_host: no brackets, no scope, never the unspecified address.
  std::string local_host = "localhost";
  /// 1-65535.
  std::uint16_t local_port = 0;
  TransportProtocol protocol = TransportProtocol::tcp;
  /// ",proxy_protocol=v2": a PROXY v2 header first on each connection to the local service
  /// (TCP only).
  ProxyProtocol proxy = ProxyProtocol::none;

  /// Canonical text: "8080:localhost:3000", "0.0.0.0:8080:localhost:3000",
  /// "[::1]:8080:[::1]:3000", "5353:localhost:53:udp", "8080:localhost:3000,proxy_protocol=v2"
  /// (BIND only when set, ":udp" only for udp, the option only for v2).
  /// For a spec parse_expose_spec produced, parsing name() gives back an equal spec.
  std::string name() const;

  friend bool operator==(const ExposeSpec&, const ExposeSpec&) = default;
};

/// Parses `-R` text: `[BIND:]PUBLIC_PORT:[LOCAL_HOST:]LOCAL_PORT[:tcp|:udp][,OPTION...]`.
///  - The parts are split as for `-L`: a trailing `:tcp` or `:udp` (any case) is the protocol
///    (tcp when absent); then 2 parts are PUBLIC:LOCAL, 4 parts BIND:PUBLIC:HOST:LOCAL, and
///    3 parts PUBLIC:HOST:LOCAL when the first part is all digits, else BIND:PUBLIC:LOCAL.
///  - Hosts follow classify_host; IPv6 addresses only in brackets. `*` as BIND means every
///    IPv4 interface ("0.0.0.0"); BIND names an address on the server, so it is an IP
///    address, `localhost` or `*`, never another host name and never with an interface
///    scope (the server binds it without resolving names). LOCAL_HOST defaults to "localhost" and must not be the unspecified
///    address; BIND defaults to empty (the server's --expose-bind).
///  - Ports are decimal digits only: PUBLIC and LOCAL 1-65535.
///  - Options follow the spec after a ',', as NAME=VALUE separated by ',', each at most once;
///    the only one is `proxy_protocol=v2|none` (any case; none is the default). v2 with udp
///    is refused: PROXY v2 for UDP is not supported.
/// At most kMaxExposeSpecText bytes of printable ASCII without spaces.
/// Errors: nullopt, and `*error` (when not null) gets one sentence that quotes the text and
/// names the part, e.g. "-R '70000:3000': public port 70000 is out of range (1-65535)".
/// Quoted user text is cut as by parse_forward_spec.
/// Pure function: any thread; never throws except std::bad_alloc.
std::optional<ExposeSpec> parse_expose_spec(std::string_view text, std::string* error);

}  // namespace ringtunnel
