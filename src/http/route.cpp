// SPDX-License-Identifier: MIT
// Host -> tunnel name for the HTTP ingress.
#include "http/route.hpp"

#include <algorithm>

namespace ringtunnel::http {
namespace {

constexpr std::size_t kMaxLabel = 63;

char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c;
}

// Lower-case, without one trailing dot.
std::string normalized(std::string_view name) {
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// The host part of a Host value without its ":port", or nullopt (rules 1 and 2).
std::optional<std::string_view> without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') return std::nullopt;
  const std::size_t colon = host.rfind(':');
  if (colon == std::string_view::npos) return host;
  const std::string_view port = host.substr(colon + 1);
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  host = host.substr(0, colon);
  if (host.find(':') != std::string_view::npos) return std::nullopt;
  return host;
}

}  // namespace

bool is_tunnel_name(std::string_view label) noexcept {
  if (label.empty() || label.size() > kMaxLabel) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::optional<std::string> tunnel_name_for_host(std::string_view host_header,
                                                std::string_view domain) {
  const std::optional<std::string_view> host_part = without_port(host_header);
  if (!host_part) return std::nullopt;
  std::string host = normalized(*host_part);
  const std::string zone = normalized(domain);
  if (host == zone) return std::nullopt;  // the apex names no tunnel (rule 5)
  std::string name;
  if (!zone.empty() && host.size() > zone.size() + 1 && host.ends_with(zone) &&
      host[host.size() - zone.size() - 1] == '.') {
    name = host.substr(0, host.size() - zone.size() - 1);  // rule 5 (a dot left: rule 7 fails)
  } else if (host.find('.') == std::string::npos) {
    name = std::move(host);  // rule 6
  } else {
    return std::nullopt;
  }
  if (!is_tunnel_name(name)) return std::nullopt;
  return name;
}

}  // namespace ringtunnel::http
