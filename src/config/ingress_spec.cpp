// SPDX-License-Identifier: MIT
// parse_ingress_spec: `NAME=[HOST:]PORT` for --http / --https.
#include "ringtunnel/ingress_spec.hpp"

#include <charconv>

#include "http/route.hpp"
#include "observe/quote_untrusted.hpp"
#include "ringtunnel/tunnel_spec.hpp"

namespace ringtunnel {
namespace {

constexpr std::string_view kNameRule =
    "a DNS label (1-63 letters, digits and '-', not starting or ending with '-')";

std::string flag_of(IngressKind kind) {
  return kind == IngressKind::http ? "--http" : "--https";
}

bool fail(std::string* error, IngressKind kind, std::string_view text, const std::string& problem) {
  if (error != nullptr) {
    *error = flag_of(kind) + " " + observe::quote_untrusted(text, 80) + ": " + problem;
  }
  return false;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "[HOST:]PORT" into host and port; false with `problem` set.
bool read_address(std::string_view address, std::string& host, std::uint16_t& port,
                  std::string& problem) {
  std::string_view port_text = address;
  std::string_view host_text;
  if (const auto colon = address.rfind(':'); colon != std::string_view::npos) {
    host_text = address.substr(0, colon);
    port_text = address.substr(colon + 1);
    if (host_text.starts_with('[')) {
      if (!host_text.ends_with(']')) {
        problem = "an IPv6 address must be written in brackets: [::1]:8080";
        return false;
      }
      host_text = host_text.substr(1, host_text.size() - 2);
      if (classify_host(host_text) != HostKind::ipv6) {
        problem = "'" + std::string(host_text) + "' in brackets is not an IPv6 address";
        return false;
      }
    } else if (host_text.find(':') != std::string_view::npos) {
      problem = "an IPv6 address must be written in brackets: [::1]:8080";
      return false;
    }
  }
  unsigned value = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      value == 0 || value > 65535 || port_text.front() == '+') {
    problem = "port '" + std::string(port_text) + "' is not a number in 1-65535";
    return false;
  }
  port = static_cast<std::uint16_t>(value);
  if (host_text.empty()) {
    if (address.find(':') != std::string_view::npos) {
      problem = "the host before ':' is empty";
      return false;
    }
    host = "localhost";
    return true;
  }
  std::string_view why;
  const HostKind kind = classify_host(host_text, &why);
  if (kind == HostKind::invalid) {
    problem = "host '" + std::string(host_text) + "' " + std::string(why);
    return false;
  }
  host = kind == HostKind::name ? lowercase(host_text) : std::string(host_text);
  if (host == "0.0.0.0" || host == "::") {
    problem = "the local service's address must not be the unspecified address " + host;
    return false;
  }
  return true;
}

}  // namespace

std::string_view to_string(IngressKind kind) noexcept {
  return kind == IngressKind::http ? "http" : "https";
}

std::string IngressSpec::text() const {
  const bool v6 = local_host.find(':') != std::string::npos;
  return name + "=" + (v6 ? "[" + local_host + "]" : local_host) + ":" + std::to_string(local_port);
}

std::string IngressSpec::tunnel() const {
  return (kind == IngressKind::http ? "http:" : "tls:") + name;
}

std::optional<IngressSpec> parse_ingress_spec(std::string_view text, IngressKind kind,
                                              std::string* error) {
  if (text.size() > kMaxIngressSpecText) {
    fail(error, kind, text, "longer than " + std::to_string(kMaxIngressSpecText) + " bytes");
    return std::nullopt;
  }
  const auto equals = text.find('=');
  if (equals == std::string_view::npos) {
    fail(error, kind, text, "expected NAME=[HOST:]PORT, e.g. app=localhost:8080");
    return std::nullopt;
  }
  IngressSpec spec;
  spec.kind = kind;
  spec.name = lowercase(text.substr(0, equals));
  if (!http::is_tunnel_name(spec.name)) {
    fail(error, kind, text, "name '" + spec.name + "' is not " + std::string(kNameRule));
    return std::nullopt;
  }
  std::string problem;
  if (!read_address(text.substr(equals + 1), spec.local_host, spec.local_port, problem)) {
    fail(error, kind, text, problem);
    return std::nullopt;
  }
  return spec;
}

}  // namespace ringtunnel
