// SPDX-License-Identifier: MIT
// Tunnel specs: the host grammar, `-L` and `-R` parsing with one precise error sentence,
// canonical names.
#include "ringtunnel/tunnel_spec.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "observe/quote_untrusted.hpp"

namespace ringtunnel {
namespace {

constexpr std::size_t kMaxHostName = 253;  // without the optional trailing dot
constexpr std::size_t kMaxLabel = 63;
constexpr std::size_t kMaxIpv6Text = INET6_ADDRSTRLEN - 1;
constexpr std::size_t kMaxQuoted = 80;  // bytes of user text a message repeats

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_alnum(char c) {
  return is_digit(c) || is_alpha(c);
}
bool is_hex(char c) {
  return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_digit);
}

char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return to_lower(x) == to_lower(y); });
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  return out;
}

// User text in quotes, cut to kMaxQuoted bytes of output, with every byte that is not
// printable ASCII (and the backslash) written as \xNN: a message never carries a NUL, a
// terminal escape or invalid UTF-8, whatever was typed.
std::string quote(std::string_view text) {
  return observe::quote_untrusted(text, kMaxQuoted);
}

// Copies checked text into a C string for inet_pton, which would otherwise stop at a NUL the
// caller's string_view carries and accept `127.0.0.1\0junk`.
template <std::size_t N>
bool to_c_string(std::string_view text, std::array<char, N>& buffer) {
  if (text.size() >= N || text.find('\0') != std::string_view::npos) return false;
  std::memcpy(buffer.data(), text.data(), text.size());
  buffer[text.size()] = '\0';
  return true;
}

bool read_ipv6(std::string_view text, in6_addr& addr) {
  const bool charset_ok = std::all_of(text.begin(), text.end(),
                                      [](char c) { return is_hex(c) || c == ':' || c == '.'; });
  std::array<char, kMaxIpv6Text + 1> buffer{};
  return charset_ok && to_c_string(text, buffer) &&
         ::inet_pton(AF_INET6, buffer.data(), &addr) == 1;
}

bool read_ipv4(std::string_view text, in_addr& addr) {
  std::array<char, INET_ADDRSTRLEN> buffer{};
  return to_c_string(text, buffer) && ::inet_pton(AF_INET, buffer.data(), &addr) == 1;
}

// A label that getaddrinfo's inet_aton step would read as a number: decimal or octal digits,
// or 0x and hex digits (even none).
bool is_numeric_label(std::string_view label) {
  if (label.size() >= 2 && label[0] == '0' && to_lower(label[1]) == 'x') {
    return std::all_of(label.begin() + 2, label.end(), is_hex);
  }
  return std::none_of(label.begin(), label.end(), is_alpha);
}

// Why `host` is not a host name, or nullptr. The phrases follow the quoted text.
const char* host_name_problem(std::string_view host) {
  if (host.empty()) return "is empty";
  if (host.back() == '.') host.remove_suffix(1);
  if (host.size() > kMaxHostName) return "is longer than 253 bytes";
  std::string_view last;
  for (std::size_t start = 0;;) {
    const std::size_t dot = std::min(host.find('.', start), host.size());
    const std::string_view label = host.substr(start, dot - start);
    if (label.empty()) return "has an empty label (two dots in a row, or a leading dot)";
    if (label.size() > kMaxLabel) return "has a label longer than 63 bytes";
    if (!std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; })) {
      return "has a character other than letters, digits, '-' and '.'";
    }
    if (label.front() == '-' || label.back() == '-') {
      return "has a label that starts or ends with '-'";
    }
    last = label;
    if (dot == host.size()) break;
    start = dot + 1;
  }
  if (is_numeric_label(last)) {
    return "ends in a number but is not an IPv4 address (write four decimal numbers, e.g. "
           "'127.0.0.1'; a name's last label needs a letter)";
  }
  return nullptr;
}

std::string format_host(std::string_view host) {
  if (host.find(':') == std::string_view::npos) return std::string(host);
  return "[" + std::string(host) + "]";
}

// ---- the words of each flag ----------------------------------------------------------------

// -L and -R share one grammar, BIND:LISTEN_PORT:HOST:CONNECT_PORT:PROTOCOL (one side listens,
// the other connects), but name the parts for what they are; every message is built from these.
struct Grammar {
  std::string_view flag;
  std::string_view syntax;        // for "expected ..."
  std::string_view example;       // a short valid spec, for "e.g. ..."
  std::string_view ipv6_example;  // the example with an IPv6 BIND
  std::string_view listen_port;
  unsigned listen_port_minimum;
  std::string_view host;
  std::string_view connect_port;
  // What follows "has an interface scope, which "; empty when BIND may carry a scope.
  std::string_view bind_scope_refusal;
  std::string_view host_scope_refusal;
};

constexpr Grammar kForward = {
    .flag = "-L",
    .syntax = "[BIND:]LOCAL_PORT:[HOST:]REMOTE_PORT[:tcp|:udp]",
    .example = "15432:5432",
    .ipv6_example = "[::1]:15432:5432",
    .listen_port = "local port",
    .listen_port_minimum = 0,
    .host = "target host",
    .connect_port = "remote port",
    .bind_scope_refusal = "",
    .host_scope_refusal = "only the bind address may have",
};

constexpr Grammar kExpose = {
    .flag = "-R",
    .syntax = "[BIND:]PUBLIC_PORT:[LOCAL_HOST:]LOCAL_PORT[:tcp|:udp][,proxy_protocol=v2]",
    .example = "8080:3000",
    .ipv6_example = "[::1]:8080:3000",
    .listen_port = "public port",
    .listen_port_minimum = 1,  // the client must know the port it asked for
    .host = "local host",
    .connect_port = "local port",
    .bind_scope_refusal = "-R does not take (BIND names an address on the server)",
    .host_scope_refusal = "-R does not take",
};

// The one sentence a caller sees: the flag, the text and what is wrong with it.
std::string flag_error(const Grammar& grammar, std::string_view text, const std::string& problem) {
  return std::string(grammar.flag) + " " + quote(text) + ": " + problem;
}

constexpr std::string_view kBindRole = "bind address";
constexpr std::string_view kBindFlagRole = "bind address (from --bind)";

// ---- parts ---------------------------------------------------------------------------------

// One ':'-separated part: `written` as typed, `inner` without the brackets when bracketed.
struct Part {
  std::string_view written;
  std::string_view inner;
  bool bracketed = false;
};

// Room for BIND:LISTEN:HOST:CONNECT:PROTOCOL and one more, to tell "too many" apart.
constexpr std::size_t kMaxParts = 6;

struct Parts {
  std::array<Part, kMaxParts> items;
  std::size_t count = 0;
};

// " (expected SYNTAX, e.g. 'EXAMPLE')", for a spec that is missing parts.
std::string expected_syntax(const Grammar& grammar) {
  return " (expected " + std::string(grammar.syntax) + ", e.g. '" + std::string(grammar.example) +
         "')";
}

std::string too_many_parts(const Grammar& grammar) {
  return "the spec has too many ':'-separated parts (expected " + std::string(grammar.syntax) +
         "; write IPv6 addresses in brackets, e.g. '[::1]')";
}

// Splits at each ':' outside brackets. On failure, `problem` is the phrase after "-L '...': "
// (or "-R '...': ").
bool split_parts(std::string_view text, const Grammar& grammar, Parts& parts,
                 std::string& problem) {
  std::size_t pos = 0;
  while (true) {
    if (parts.count == kMaxParts) {
      problem = too_many_parts(grammar);
      return false;
    }
    Part part;
    std::size_t next = 0;
    if (pos < text.size() && text[pos] == '[') {
      const std::size_t close = text.find(']', pos);
      if (close == std::string_view::npos) {
        problem = "the '[' at byte " + std::to_string(pos + 1) + " has no matching ']'";
        return false;
      }
      part = {text.substr(pos, close + 1 - pos), text.substr(pos + 1, close - pos - 1), true};
      next = close + 1;
      if (next < text.size() && text[next] != ':') {
        problem =
            "expected ':' after " + quote(part.written) + " but found " + quote(text.substr(next));
        return false;
      }
    } else if (text.substr(pos == 0 ? 0 : pos - 1, 2) == "::") {
      problem = "the spec has '::' outside brackets (write IPv6 addresses in brackets, e.g. '" +
                std::string(grammar.ipv6_example) + "')";
      return false;
    } else {
      next = std::min(text.find(':', pos), text.size());
      const std::string_view written = text.substr(pos, next - pos);
      if (written.find_first_of("[]") != std::string_view::npos) {
        problem = "part " + quote(written) +
                  " has an unbalanced bracket ('[' may only open a part and must be closed "
                  "by ']')";
        return false;
      }
      part = {written, written, false};
    }
    parts.items[parts.count++] = part;
    if (next == text.size()) return true;
    pos = next + 1;  // a trailing ':' leaves one more, empty, part
  }
}

// The length, then the bytes: spaces, control characters and non-ASCII bytes are never part
// of a spec.
bool check_text(std::string_view text, std::size_t max_size, std::string& problem) {
  if (text.size() > max_size) {
    problem = "the spec is longer than " + std::to_string(max_size) + " bytes";
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte > 0x20 && byte < 0x7f) continue;
    const std::string where = " at byte " + std::to_string(i + 1);
    if (byte == ' ') {
      problem = "the spec contains a space" + where;
    } else if (byte >= 0x80) {
      problem = "the spec contains a non-ASCII byte" + where +
                " (write international host names in their 'xn--' form)";
    } else {
      problem = "the spec contains a control character" + where;
    }
    return false;
  }
  return true;
}

std::optional<std::uint16_t> read_port(const Part& part, std::string_view role, unsigned minimum,
                                       std::string& problem) {
  const std::string range = "(" + std::to_string(minimum) + "-65535)";
  if (part.written.empty()) {
    problem = std::string(role) + " is empty";
    return std::nullopt;
  }
  if (part.bracketed || !all_digits(part.written)) {
    problem = std::string(role) + " " + quote(part.written) + " is not a number";
    const bool letters = std::all_of(part.written.begin(), part.written.end(), is_alpha);
    if (letters) problem += " (a protocol is written last, as ':tcp' or ':udp')";
    return std::nullopt;
  }
  unsigned long value = 0;
  for (const char c : part.written) {
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 65535) break;  // stop before the number could wrap
  }
  if (value < minimum || value > 65535) {
    const std::string shown =
        part.written.size() <= 10 ? std::string(part.written) : quote(part.written);
    problem = std::string(role) + " " + shown + " is out of range " + range;
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// An interface name or index after '%': what Linux allows in practice, and under IF_NAMESIZE.
bool is_scope(std::string_view scope) {
  return !scope.empty() && scope.size() < IF_NAMESIZE &&
         std::all_of(scope.begin(), scope.end(),
                     [](char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.'; });
}

std::string canonical_ipv6(const in6_addr& addr) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  ::inet_ntop(AF_INET6, &addr, text.data(), text.size());
  return text.data();
}

// The inside of `[...]`. `role` names the part; a non-empty `scope_refusal` says why it may not
// carry an interface scope.
std::optional<std::string> read_bracketed_host(const Part& part, std::string_view role,
                                               std::string_view scope_refusal,
                                               std::string& problem) {
  const std::string subject = std::string(role) + " " + quote(part.written);
  std::string_view address = part.inner;
  std::string_view scope;
  if (const std::size_t percent = address.find('%'); percent != std::string_view::npos) {
    scope = address.substr(percent + 1);
    address = address.substr(0, percent);
    if (!scope_refusal.empty()) {
      problem = subject + " has an interface scope, which " + std::string(scope_refusal);
      return std::nullopt;
    }
    if (!is_scope(scope)) {
      problem = subject + " has an invalid interface name after '%'";
      return std::nullopt;
    }
  }
  in6_addr addr{};
  if (address.empty()) {
    problem = subject + " has no address between '[' and ']'";
    return std::nullopt;
  }
  if (!read_ipv6(address, addr)) {
    problem = subject + " is not a valid IPv6 address (brackets are only for IPv6)";
    return std::nullopt;
  }
  std::string host = canonical_ipv6(addr);
  if (!scope.empty()) host += "%" + std::string(scope);
  return host;
}

// An unbracketed host: an IPv4 address or a host name (lower-cased).
std::optional<std::string> read_plain_host(const Part& part, std::string_view role,
                                           std::string& problem) {
  if (part.written.empty()) {
    problem = std::string(role) + " is empty";
    return std::nullopt;
  }
  std::string_view why;
  switch (classify_host(part.written, &why)) {
    case HostKind::ipv4:
      return std::string(part.written);  // inet_pton's strict form is already canonical
    case HostKind::name:
      return lowercase(part.written);
    case HostKind::ipv6:  // unreachable: ':' splits parts, and --bind brackets bare IPv6
    case HostKind::invalid:
      break;
  }
  if (why.empty()) why = "must be written in brackets";
  problem = std::string(role) + " " + quote(part.written) + " " + std::string(why);
  return std::nullopt;
}

std::optional<std::string> read_bind(const Part& part, std::string_view role,
                                     std::string_view scope_refusal, std::string& problem) {
  if (part.bracketed) return read_bracketed_host(part, role, scope_refusal, problem);
  if (part.written == "*") return std::string("0.0.0.0");
  return read_plain_host(part, role, problem);
}

// HOST, the host the connecting side connects to: never `*` or the unspecified address.
std::optional<std::string> read_host(const Part& part, const Grammar& grammar,
                                     std::string& problem) {
  const std::string role(grammar.host);
  if (part.written == "*") {
    problem = role + " '*' is not a host ('*' means every interface, for the bind address)";
    return std::nullopt;
  }
  auto host = part.bracketed ? read_bracketed_host(part, role, grammar.host_scope_refusal, problem)
                             : read_plain_host(part, role, problem);
  if (host && (*host == "0.0.0.0" || *host == "::")) {
    problem = role + " " + quote(part.written) +
              " is the unspecified address, which names no host to connect to "
              "(use 'localhost' or the host's address)";
    return std::nullopt;
  }
  return host;
}

// --bind holds one host, so a bare IPv6 address is unambiguous there; brackets are optional.
Part part_from_bind_flag(std::string_view value) {
  if (value.size() >= 2 && value.front() == '[' && value.back() == ']') {
    return {value, value.substr(1, value.size() - 2), true};
  }
  if (value.find(':') != std::string_view::npos) return {value, value, true};
  return {value, value, false};
}

// Which part is which, by count; indexes into Parts, kNone for an absent part.
constexpr std::size_t kNone = kMaxParts;
struct Layout {
  std::size_t bind = kNone, listen = kNone, host = kNone, connect = kNone;
};

std::optional<Layout> layout_of(const Parts& parts, const Grammar& grammar, std::string& problem) {
  switch (parts.count) {
    case 2:
      return Layout{kNone, 0, kNone, 1};
    case 3:
      if (!parts.items[0].bracketed && all_digits(parts.items[0].written)) {
        return Layout{kNone, 0, 1, 2};
      }
      return Layout{0, 1, kNone, 2};
    case 4:
      return Layout{0, 1, 2, 3};
    default:
      break;
  }
  problem = parts.count > 4 ? too_many_parts(grammar)
                            : "the spec is missing the " + std::string(grammar.connect_port) +
                                  expected_syntax(grammar);
  return std::nullopt;
}

// Before reading any part: "15432:5432:" is better told "remote port is empty" than that
// '5432' is not a host name.
bool check_not_empty(const Parts& parts, const Layout& layout, const Grammar& grammar,
                     std::string& problem) {
  const std::pair<std::size_t, std::string_view> roles[] = {{layout.bind, kBindRole},
                                                            {layout.listen, grammar.listen_port},
                                                            {layout.host, grammar.host},
                                                            {layout.connect, grammar.connect_port}};
  for (const auto& [index, role] : roles) {
    if (index != kNone && parts.items[index].written.empty()) {
      problem = std::string(role) + " is empty";
      return false;
    }
  }
  return true;
}

// A trailing `:tcp` or `:udp` (any case), taken off the parts.
TransportProtocol take_protocol(Parts& parts) {
  const Part& last = parts.items[parts.count - 1];
  if (parts.count < 2 || last.bracketed) return TransportProtocol::tcp;
  const bool udp = equals_ignoring_case(last.written, "udp");
  if (!udp && !equals_ignoring_case(last.written, "tcp")) return TransportProtocol::tcp;
  --parts.count;
  return udp ? TransportProtocol::udp : TransportProtocol::tcp;
}

// What both flags' specs hold, in the order they are written.
struct Fields {
  std::string bind;  // empty when the text names none and there is no default
  std::uint16_t listen_port = 0;
  std::string host = "localhost";
  std::uint16_t connect_port = 0;
  TransportProtocol protocol = TransportProtocol::tcp;
};

// The spec's parts, checked in the order that names the real mistake. `default_bind` (-L's
// --bind) stands in for an absent BIND; without one the bind stays empty.
std::optional<Fields> read_fields(std::string_view text, const Grammar& grammar,
                                  std::optional<std::string_view> default_bind,
                                  std::string& problem) {
  if (text.empty()) {
    problem = "the spec is empty" + expected_syntax(grammar);
    return std::nullopt;
  }
  Parts parts;
  if (!split_parts(text, grammar, parts, problem)) return std::nullopt;
  Fields fields;
  fields.protocol = take_protocol(parts);
  const auto layout = layout_of(parts, grammar, problem);
  if (!layout || !check_not_empty(parts, *layout, grammar, problem)) return std::nullopt;
  // Ports first: in "5353:53:sctp" the mistake is the protocol, not a host named "53".
  const auto listen = read_port(parts.items[layout->listen], grammar.listen_port,
                                grammar.listen_port_minimum, problem);
  if (!listen) return std::nullopt;
  const auto connect = read_port(parts.items[layout->connect], grammar.connect_port, 1, problem);
  if (!connect) return std::nullopt;
  std::optional<std::string> bind = std::string();
  if (layout->bind != kNone) {
    bind = read_bind(parts.items[layout->bind], kBindRole, grammar.bind_scope_refusal, problem);
  } else if (default_bind) {
    bind = read_bind(part_from_bind_flag(*default_bind), kBindFlagRole, grammar.bind_scope_refusal,
                     problem);
  }
  if (!bind) return std::nullopt;
  if (layout->host != kNone) {
    auto host = read_host(parts.items[layout->host], grammar, problem);
    if (!host) return std::nullopt;
    fields.host = std::move(*host);
  }
  fields.bind = std::move(*bind);
  fields.listen_port = *listen;
  fields.connect_port = *connect;
  return fields;
}

std::optional<ForwardSpec> read_forward(std::string_view text, std::string_view default_bind,
                                        std::string& problem) {
  if (!check_text(text, kMaxForwardSpecText, problem)) return std::nullopt;
  auto fields = read_fields(text, kForward, default_bind, problem);
  if (!fields) return std::nullopt;
  return ForwardSpec{.bind_host = std::move(fields->bind),
                     .local_port = fields->listen_port,
                     .target_host = std::move(fields->host),
                     .target_port = fields->connect_port,
                     .protocol = fields->protocol};
}

// ---- -R options ----------------------------------------------------------------------------

constexpr std::string_view kProxyOption = "proxy_protocol";

bool read_proxy_protocol(std::string_view value, ProxyProtocol& proxy, std::string& problem) {
  if (equals_ignoring_case(value, "v2")) {
    proxy = ProxyProtocol::v2;
    return true;
  }
  if (equals_ignoring_case(value, "none")) {
    proxy = ProxyProtocol::none;
    return true;
  }
  problem = value.empty() ? "option proxy_protocol has no value"
                          : "proxy_protocol " + quote(value) + " is not a supported value";
  problem += " (expected proxy_protocol=v2 or proxy_protocol=none)";
  return false;
}

// The options after the spec's first ',': NAME=VALUE, separated by ',', each at most once.
bool read_options(std::string_view text, ProxyProtocol& proxy, std::string& problem) {
  bool proxy_given = false;
  for (std::size_t start = 0;;) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string_view option = text.substr(start, end - start);
    const std::size_t equals = std::min(option.find('='), option.size());
    if (!equals_ignoring_case(option.substr(0, equals), kProxyOption)) {
      problem = option.empty() ? "an option after ',' is empty" : "unknown option " + quote(option);
      problem += " (the only option is proxy_protocol=v2 or proxy_protocol=none)";
      return false;
    }
    if (proxy_given) {
      problem = "option proxy_protocol is given twice";
      return false;
    }
    const std::string_view value = option.substr(std::min(equals + 1, option.size()));
    if (!read_proxy_protocol(value, proxy, problem)) return false;
    proxy_given = true;
    if (end == text.size()) return true;
    start = end + 1;
  }
}

std::optional<ExposeSpec> read_expose(std::string_view text, std::string& problem) {
  if (!check_text(text, kMaxExposeSpecText, problem)) return std::nullopt;
  const std::size_t comma = text.find(',');
  if (comma == 0) {
    problem = "the spec before the options is empty" + expected_syntax(kExpose);
    return std::nullopt;
  }
  auto fields = read_fields(text.substr(0, comma), kExpose, std::nullopt, problem);
  if (!fields) return std::nullopt;
  ExposeSpec spec{.bind_host = std::move(fields->bind),
                  .public_port = fields->listen_port,
                  .local_host = std::move(fields->host),
                  .local_port = fields->connect_port,
                  .protocol = fields->protocol,
                  .proxy = ProxyProtocol::none};
  const bool has_options = comma != std::string_view::npos;
  if (has_options && !read_options(text.substr(comma + 1), spec.proxy, problem)) {
    return std::nullopt;
  }
  // The server binds what it is given without resolving names (it may not know ours).
  if (!spec.bind_host.empty() && spec.bind_host != "localhost" &&
      classify_host(spec.bind_host) == HostKind::name) {
    problem = "bind address '" + spec.bind_host +
              "' must be an IP address (it names an address on the server)";
    return std::nullopt;
  }
  if (spec.proxy == ProxyProtocol::v2 && spec.protocol == TransportProtocol::udp) {
    problem =
        "proxy_protocol=v2 is for TCP tunnels only (PROXY v2 for UDP is not supported; drop "
        "the option or the ':udp')";
    return std::nullopt;
  }
  return spec;
}

}  // namespace

std::string to_string(TransportProtocol protocol) {
  return protocol == TransportProtocol::udp ? "udp" : "tcp";
}

HostKind classify_host(std::string_view host, std::string_view* problem) noexcept {
  std::string_view why;
  HostKind kind = HostKind::invalid;
  in_addr v4{};
  in6_addr v6{};
  if (host.empty()) {
    why = "is empty";
  } else if (host.find(':') != std::string_view::npos) {
    if (read_ipv6(host, v6)) {
      kind = HostKind::ipv6;
    } else {
      why = host.find('%') != std::string_view::npos
                ? "is not a valid IPv6 address (an interface scope is not allowed here)"
                : "is not a valid IPv6 address";
    }
  } else if (read_ipv4(host, v4)) {
    kind = HostKind::ipv4;
  } else if (const char* name_problem = host_name_problem(host); name_problem != nullptr) {
    why = name_problem;
  } else {
    kind = HostKind::name;
  }
  if (problem != nullptr) *problem = why;
  return kind;
}

std::string ForwardSpec::name() const {
  std::string text = format_host(bind_host);
  text += ':' + std::to_string(local_port) + ':' + format_host(target_host) + ':' +
          std::to_string(target_port);
  if (protocol == TransportProtocol::udp) text += ":udp";
  return text;
}

std::optional<ForwardSpec> parse_forward_spec(std::string_view text, std::string_view default_bind,
                                              std::string* error) {
  std::string problem;
  auto spec = read_forward(text, default_bind, problem);
  if (!spec && error != nullptr) *error = flag_error(kForward, text, problem);
  return spec;
}

std::string ExposeSpec::name() const {
  std::string text = bind_host.empty() ? "" : format_host(bind_host) + ":";
  text += std::to_string(public_port) + ':' + format_host(local_host) + ':' +
          std::to_string(local_port);
  if (protocol == TransportProtocol::udp) text += ":udp";
  if (proxy == ProxyProtocol::v2) text += ",proxy_protocol=v2";
  return text;
}

std::optional<ExposeSpec> parse_expose_spec(std::string_view text, std::string* error) {
  std::string problem;
  auto spec = read_expose(text, problem);
  if (!spec && error != nullptr) *error = flag_error(kExpose, text, problem);
  return spec;
}

}  // namespace ringtunnel
