// SPDX-License-Identifier: MIT
// The HTTP ingress's routing: which tunnel name a Host header asks for.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ringtunnel::http {

/// The tunnel name a request's Host value routes to, under the ingress domain `domain`
/// (`--domain example.com`), or nullopt when it names no tunnel. The rules, in order:
///  1. A value starting with '[' is an IPv6 literal: nullopt.
///  2. A ":port" suffix is dropped. The port must be digits only (RFC 3986: port = *DIGIT, so
///     it may be empty) and is otherwise ignored; a host part with another ':' (an IPv6
///     address without brackets) gives nullopt.
///  3. ASCII letters are lower-cased, in the value and in `domain` alike.
///  4. One trailing dot (the DNS root) is dropped, from the value and from `domain` alike.
///  5. "NAME.<domain>" gives NAME when NAME is a single label; the domain itself ("apex"),
///     deeper names ("a.b.<domain>") and other domains give nullopt.
///  6. Otherwise a value without any dot is taken as NAME itself ("Host: NAME"), whatever
///     `domain` is; an empty `domain` allows only this form.
///  7. NAME must be a DNS label: 1 to 63 bytes of [a-z0-9-], not starting or ending with '-'.
///     Anything else (an empty value, whitespace, '_', non-ASCII, an IPv4 address under no
///     domain) gives nullopt.
/// The result is lower-case. Pure; any thread.
std::optional<std::string> tunnel_name_for_host(std::string_view host_header,
                                                std::string_view domain);

/// True when `label` is a DNS label as rule 7 above has it (lower-case only).
bool is_tunnel_name(std::string_view label) noexcept;

}  // namespace ringtunnel::http
