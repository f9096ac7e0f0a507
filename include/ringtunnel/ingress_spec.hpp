// SPDX-License-Identifier: MIT
// IngressSpec: one name published through the server's HTTP or TLS ingress:
// `--http NAME=[HOST:]PORT`, `--https NAME=[HOST:]PORT`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringtunnel {

/// Which of the server's ingresses a name is published on.
enum class IngressKind : std::uint8_t {
  http,  ///< --http-bind: requests routed by Host, forwarded as HTTP/1.1
  tls,   ///< --https-bind: TLS connections routed by SNI, their bytes passed through untouched
};

/// "http" or "https" (the client flag's name, in log lines).
std::string_view to_string(IngressKind kind) noexcept;

/// The longest text parse_ingress_spec reads.
inline constexpr std::size_t kMaxIngressSpecText = 320;

/// One published name: requests for NAME (Host `NAME` or `NAME.<domain>`; for TLS the SNI)
/// reach local_host:local_port on the client. Plain data; copy freely.
struct IngressSpec {
  IngressKind kind = IngressKind::http;
  /// A DNS label, lower-case: 1-63 bytes of [a-z0-9-], not starting or ending with '-'.
  std::string name;
  /// As ExposeSpec::local_host: no brackets, no scope, never the unspecified address.
  std::string local_host = "localhost";
  std::uint16_t local_port = 0;  ///< 1-65535

  /// Canonical text: "app=localhost:8080", "app=[::1]:8443". Parsing it gives back an equal
  /// spec (of the same kind).
  std::string text() const;
  /// How the client and server name it in OPENs and logs: "http:app", "tls:app".
  std::string tunnel() const;

  friend bool operator==(const IngressSpec&, const IngressSpec&) = default;
};

/// Parses `NAME=[HOST:]PORT` for `kind` (`--http`, `--https`; the short form `--local-addr
/// [HOST:]PORT` is this with the name from `--tunnel-id`). NAME is lower-cased, then must be a
/// DNS label; HOST follows classify_host (an IPv6 address in brackets) and defaults to
/// localhost; PORT is decimal, 1-65535. At most kMaxIngressSpecText bytes.
/// Errors: nullopt, and `*error` (when not null) gets one sentence quoting the text and naming
/// the part, e.g. "--http 'App_1=8080': name 'app_1' is not a DNS label (1-63 letters, digits
/// and '-', not starting or ending with '-')". Pure: any thread.
std::optional<IngressSpec> parse_ingress_spec(std::string_view text, IngressKind kind,
                                              std::string* error);

}  // namespace ringtunnel
