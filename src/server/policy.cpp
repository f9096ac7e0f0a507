// SPDX-License-Identifier: MIT
// Server policy: port and host lists, parsed with precise errors, checked before and after DNS.
#include "server/policy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <iterator>

#include "observe/quote_untrusted.hpp"
#include "protocol/limits.hpp"
#include "ringtunnel/tunnel_spec.hpp"

namespace ringtunnel::server {
namespace {

constexpr std::size_t kMaxQuoted = 64;  // bytes of untrusted text a sentence repeats
constexpr std::size_t kMaxReason = protocol::kMaxStr8;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_blank(char c) {
  return c == ' ' || c == '\t';
}
char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c;
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_digit);
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

// Quoted, cut to kMaxQuoted bytes of output, non-printable bytes (and '\') as \xNN: what a
// client sends must not put NULs, terminal escapes or invalid UTF-8 into a str8 or a log.
std::string quote(std::string_view text) {
  return observe::quote_untrusted(text, kMaxQuoted);
}

// "intro" + list + ")" in at most kMaxReason bytes, cutting the list after a whole entry.
std::string sentence_with_list(const std::string& intro, const std::string& list) {
  const std::size_t budget = kMaxReason - intro.size() - 1;
  if (list.size() <= budget) return intro + list + ")";
  std::string cut = list.substr(0, budget - 4);
  cut.resize(std::min(cut.rfind(','), cut.size()));
  return intro + cut + ",...)";
}

// Calls `each(entry, index)` for every comma-separated entry, trimmed; stops at false.
template <typename Each>
bool for_each_entry(std::string_view list, Each each) {
  std::size_t index = 1;
  for (std::size_t start = 0;; ++index) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    if (!each(trim(list.substr(start, comma - start)), index)) return false;
    if (comma == list.size()) return true;
    start = comma + 1;
  }
}

// ---- addresses ----------------------------------------------------------------------------

std::size_t full_prefix(const AddressBlock& block) {
  return block.v6 ? 128 : 32;
}

// ::ffff:a.b.c.d reaches a.b.c.d: treat it (and blocks inside ::ffff:0:0/96) as IPv4.
void unmap(AddressBlock& block) {
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!block.v6 || block.prefix < 96 || std::memcmp(block.bytes.data(), kMapped, 12) != 0) return;
  std::memmove(block.bytes.data(), block.bytes.data() + 12, 4);
  std::fill(block.bytes.begin() + 4, block.bytes.end(), std::uint8_t{0});
  block.prefix = static_cast<std::uint8_t>(block.prefix - 96);
  block.v6 = false;
}

// A literal classify_host accepted (so it holds no NUL and fits the buffers).
AddressBlock literal_block(std::string_view host, HostKind kind) {
  AddressBlock block;
  block.v6 = kind == HostKind::ipv6;
  block.prefix = static_cast<std::uint8_t>(full_prefix(block));
  char text[INET6_ADDRSTRLEN] = {};
  std::memcpy(text, host.data(), std::min(host.size(), sizeof(text) - 1));
  static_cast<void>(::inet_pton(block.v6 ? AF_INET6 : AF_INET, text, block.bytes.data()));
  return block;
}

std::optional<AddressBlock> block_of(const net::SocketAddress& address) {
  AddressBlock block;
  if (address.family() == AF_INET && address.length() >= sizeof(sockaddr_in)) {
    sockaddr_in raw{};
    std::memcpy(&raw, address.sockaddr(), sizeof(raw));
    std::memcpy(block.bytes.data(), &raw.sin_addr, 4);
    block.prefix = 32;
  } else if (address.family() == AF_INET6 && address.length() >= sizeof(sockaddr_in6)) {
    sockaddr_in6 raw{};
    std::memcpy(&raw, address.sockaddr(), sizeof(raw));
    std::memcpy(block.bytes.data(), &raw.sin6_addr, 16);
    block.prefix = 128;
    block.v6 = true;
  } else {
    return std::nullopt;
  }
  unmap(block);
  return block;
}

// Whether `block` contains the single address `address` (same family).
bool block_contains(const AddressBlock& block, const AddressBlock& address) {
  if (block.v6 != address.v6) return false;
  const std::size_t whole = block.prefix / 8;
  if (std::memcmp(block.bytes.data(), address.bytes.data(), whole) != 0) return false;
  const unsigned rest = block.prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (block.bytes[whole] & mask) == (address.bytes[whole] & mask);
}

AddressBlock masked(AddressBlock block) {
  for (std::size_t bit = block.prefix; bit < full_prefix(block); ++bit) {
    block.bytes[bit / 8] = static_cast<std::uint8_t>(block.bytes[bit / 8] & ~(0x80u >> (bit % 8)));
  }
  return block;
}

bool is_loopback(const AddressBlock& address) {
  static constexpr AddressBlock kLoopbackV4{{127}, 8, false};
  static constexpr AddressBlock kLoopbackV6{
      {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, true};
  return block_contains(kLoopbackV4, address) || block_contains(kLoopbackV6, address);
}

std::string format_block(const AddressBlock& block) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(block.v6 ? AF_INET6 : AF_INET, block.bytes.data(), text, sizeof(text));
  std::string out = text;
  if (block.prefix != full_prefix(block)) out += "/" + std::to_string(block.prefix);
  return out;
}

// ---- names --------------------------------------------------------------------------------

std::string_view without_trailing_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

bool is_localhost(std::string_view name) {
  const std::string_view bare = without_trailing_dot(name);
  return std::equal(bare.begin(), bare.end(), std::begin("localhost"), std::end("localhost") - 1,
                    [](char a, char b) { return to_lower(a) == b; });
}

// Orders lower-case `stored` against `key` as if `key` were lower-cased, without copying it.
bool less_lowered(std::string_view stored, std::string_view key) {
  return std::lexicographical_compare(stored.begin(), stored.end(), key.begin(), key.end(),
                                      [](char a, char b) { return a < to_lower(b); });
}

bool equals_lowered(std::string_view stored, std::string_view key) {
  return std::equal(stored.begin(), stored.end(), key.begin(), key.end(),
                    [](char a, char b) { return a == to_lower(b); });
}

// ---- list parsing -------------------------------------------------------------------------

std::optional<std::uint16_t> read_list_port(std::string_view digits, std::string_view entry,
                                            std::string_view list, std::string& problem) {
  if (!all_digits(digits)) {
    problem = "entry " + quote(entry) + " in port list " + quote(list) +
              " is not a port or a range like '8000-8100'";
    return std::nullopt;
  }
  unsigned long value = 0;
  for (const char c : digits) {
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 65535) break;  // before it could wrap
  }
  if (value < 1 || value > 65535) {
    const std::string shown = digits.size() <= 10 ? std::string(digits) : quote(digits);
    problem = "port " + shown + " in port list " + quote(list) + " is out of range (1-65535)";
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// The prefix length after '/', 0..full.
std::optional<std::uint8_t> read_prefix(std::string_view digits, std::string_view entry,
                                        std::string_view list, std::size_t full,
                                        std::string& problem) {
  const std::string where = " of " + quote(entry) + " in host list " + quote(list);
  if (!all_digits(digits)) {
    problem = "prefix length " + quote(digits) + where + " is not a number";
    return std::nullopt;
  }
  std::size_t value = 0;
  for (const char c : digits) {
    value = value * 10 + static_cast<std::size_t>(c - '0');
    if (value > full) break;  // before it could wrap
  }
  if (value > full) {
    problem = "prefix length /" + std::string(digits.substr(0, 10)) + where +
              " is out of range for " + (full == 32 ? "IPv4 (0-32)" : "IPv6 (0-128)");
    return std::nullopt;
  }
  return static_cast<std::uint8_t>(value);
}

}  // namespace

// ---- PortSet ------------------------------------------------------------------------------

std::optional<PortSet> PortSet::parse(std::string_view text, std::string* error) {
  std::string problem;
  PortSet set;
  const bool ok =
      !trim(text).empty() && for_each_entry(text, [&](std::string_view entry, std::size_t index) {
        if (entry.empty()) {
          problem = "entry " + std::to_string(index) + " of port list " + quote(text) + " is empty";
          return false;
        }
        const std::size_t dash = std::min(entry.find('-'), entry.size());
        const auto first = read_list_port(trim(entry.substr(0, dash)), entry, text, problem);
        if (!first) return false;
        auto last = first;
        if (dash != entry.size())
          last = read_list_port(trim(entry.substr(dash + 1)), entry, text, problem);
        if (!last) return false;
        if (*first > *last) {
          problem = "range " + quote(entry) + " in port list " + quote(text) +
                    " runs backwards (did you mean '" + std::to_string(*last) + "-" +
                    std::to_string(*first) + "'?)";
          return false;
        }
        set.ranges_.push_back({*first, *last});
        return true;
      });
  if (!ok) {
    if (problem.empty()) {
      problem = "port list " + quote(text) +
                " is empty (list ports like '5432,6379' or ranges like '8000-8100'; leave the "
                "option out to allow every port)";
    }
    if (error != nullptr) *error = problem;
    return std::nullopt;
  }
  std::sort(set.ranges_.begin(), set.ranges_.end(),
            [](const Range& a, const Range& b) { return a.first < b.first; });
  std::vector<Range> merged;
  for (const Range& range : set.ranges_) {
    if (!merged.empty() && range.first <= merged.back().last + 1) {
      merged.back().last = std::max(merged.back().last, range.last);
    } else {
      merged.push_back(range);
    }
  }
  set.ranges_ = std::move(merged);
  return set;
}

bool PortSet::contains(std::uint16_t port) const noexcept {
  if (port == 0) return false;
  if (ranges_.empty()) return true;
  const auto after = std::upper_bound(ranges_.begin(), ranges_.end(), port,
                                      [](std::uint16_t p, const Range& r) { return p < r.first; });
  return after != ranges_.begin() && std::prev(after)->last >= port;
}

std::string PortSet::to_string() const {
  if (ranges_.empty()) return "every port";
  std::string text;
  for (const Range& range : ranges_) {
    if (!text.empty()) text += ',';
    text += std::to_string(range.first);
    if (range.last != range.first) text += "-" + std::to_string(range.last);
  }
  return text;
}

// ---- HostSet ------------------------------------------------------------------------------

namespace {

// One --allowed-hosts entry into `names` or `blocks`.
bool add_host_entry(std::string_view entry, std::string_view list, std::vector<std::string>& names,
                    std::vector<AddressBlock>& blocks, std::string& problem) {
  const std::string where = " in host list " + quote(list);
  if (entry == "*") {
    problem = "entry '*'" + where +
              " is not supported: there is no wildcard (list names, or '0.0.0.0/0,::/0' for "
              "every address)";
    return false;
  }
  const std::size_t slash = std::min(entry.find('/'), entry.size());
  std::string_view host = entry.substr(0, slash);
  const bool bracketed = !host.empty() && host.front() == '[';
  if (bracketed) {
    if (host.size() < 2 || host.back() != ']') {
      problem = "entry " + quote(entry) + where + " has a '[' without a matching ']'";
      return false;
    }
    host = host.substr(1, host.size() - 2);
  }
  std::string_view why;
  const HostKind kind = classify_host(host, &why);
  if (kind == HostKind::invalid) {
    problem = "entry " + quote(entry) + where + (host == entry ? "" : ": " + quote(host)) + " " +
              std::string(why);
    return false;
  }
  if (bracketed && kind != HostKind::ipv6) {
    problem = "entry " + quote(entry) + where + " has brackets, which are only for IPv6";
    return false;
  }
  if (kind == HostKind::name) {
    if (slash != entry.size()) {
      problem = "entry " + quote(entry) + where + " puts a prefix length after a host name";
      return false;
    }
    std::string name(without_trailing_dot(host));
    std::transform(name.begin(), name.end(), name.begin(), to_lower);
    if (name != "localhost") names.push_back(std::move(name));
    return true;
  }
  AddressBlock block = literal_block(host, kind);
  if (slash != entry.size()) {
    const auto prefix =
        read_prefix(entry.substr(slash + 1), entry, list, full_prefix(block), problem);
    if (!prefix) return false;
    block.prefix = *prefix;
    if (masked(block) != block) {
      problem = "block " + quote(entry) + where + " has host bits set (did you mean '" +
                format_block(masked(block)) + "'?)";
      return false;
    }
  }
  unmap(block);
  if (std::find(blocks.begin(), blocks.end(), block) == blocks.end()) blocks.push_back(block);
  return true;
}

}  // namespace

std::optional<HostSet> HostSet::parse(std::string_view text, std::string* error) {
  std::string problem;
  HostSet set;
  const bool ok =
      !trim(text).empty() && for_each_entry(text, [&](std::string_view entry, std::size_t index) {
        if (entry.empty()) {
          problem = "entry " + std::to_string(index) + " of host list " + quote(text) + " is empty";
          return false;
        }
        return add_host_entry(entry, text, set.names_, set.blocks_, problem);
      });
  if (!ok) {
    if (problem.empty()) {
      problem = "host list " + quote(text) +
                " is empty (list host names, addresses or CIDR blocks, e.g. "
                "'db.internal,10.0.0.0/8'; localhost is always allowed)";
    }
    if (error != nullptr) *error = problem;
    return std::nullopt;
  }
  std::sort(set.names_.begin(), set.names_.end());
  set.names_.erase(std::unique(set.names_.begin(), set.names_.end()), set.names_.end());
  return set;
}

bool HostSet::has_name(std::string_view host) const noexcept {
  const std::string_view key = without_trailing_dot(host);
  const auto found = std::lower_bound(names_.begin(), names_.end(), key, less_lowered);
  return found != names_.end() && equals_lowered(*found, key);
}

bool HostSet::in_blocks(const AddressBlock& address) const noexcept {
  return std::any_of(blocks_.begin(), blocks_.end(),
                     [&](const AddressBlock& block) { return block_contains(block, address); });
}

Decision HostSet::check_host(std::string_view host) const {
  const HostKind kind = classify_host(host);
  if (kind == HostKind::invalid) {
    return {Decision::Refusal::host_not_allowed,
            "host " + quote(host) + " is not a valid host name or address"};
  }
  bool allowed = false;
  if (kind == HostKind::name) {
    allowed = is_localhost(host) || has_name(host);
  } else {
    AddressBlock address = literal_block(host, kind);
    unmap(address);
    allowed = is_loopback(address) || in_blocks(address);
  }
  if (allowed) return {};
  return {Decision::Refusal::host_not_allowed,
          sentence_with_list("host " + quote(host) + " is not allowed by this server (allowed: ",
                             to_string())};
}

bool HostSet::allows_address(std::string_view host, const net::SocketAddress& resolved) const {
  const auto address = block_of(resolved);
  const HostKind kind = classify_host(host);
  if (!address || kind == HostKind::invalid) return false;
  if (kind == HostKind::name) return is_localhost(host) ? is_loopback(*address) : has_name(host);
  AddressBlock literal = literal_block(host, kind);
  unmap(literal);
  return literal == *address && (is_loopback(literal) || in_blocks(literal));
}

std::string HostSet::to_string() const {
  std::string text = "localhost";
  for (const std::string& name : names_) text += ", " + name;
  for (const AddressBlock& block : blocks_) text += ", " + format_block(block);
  return text;
}

// ---- Policy -------------------------------------------------------------------------------

Decision Policy::check(std::string_view host, std::uint16_t port) const {
  Decision decision = hosts.check_host(host);
  if (!decision.allowed()) return decision;
  if (port == 0) {
    return {Decision::Refusal::port_not_allowed, "port 0 is not a port a server can connect to"};
  }
  if (!ports.contains(port)) {
    return {Decision::Refusal::port_not_allowed,
            sentence_with_list(
                "port " + std::to_string(port) + " is not allowed by this server (allowed: ",
                ports.to_string())};
  }
  return decision;
}

std::string Policy::to_string() const {
  return "ports: " + ports.to_string() + "; hosts: " + hosts.to_string();
}

}  // namespace ringtunnel::server
