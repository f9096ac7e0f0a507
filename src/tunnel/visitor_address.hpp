// SPDX-License-Identifier: MIT
// The OPEN host text of a stream the server opens for a visitor of an exposed port.
#pragma once

#include <string>
#include <string_view>

#include "net/socket_address.hpp"

namespace ringtunnel::tunnel {

/// "VISITOR PUBLIC_ADDRESS" (docs/protocol.md §3): who came, and the address it reached, each
/// as SocketAddress::to_string writes it, one space between.
std::string visitor_host(const net::SocketAddress& visitor, const net::SocketAddress& reached);

/// Reads what visitor_host wrote; false (outputs untouched) for anything else.
bool parse_visitor_host(std::string_view text, net::SocketAddress& visitor,
                        net::SocketAddress& reached);

}  // namespace ringtunnel::tunnel
