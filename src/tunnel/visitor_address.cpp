// SPDX-License-Identifier: MIT
// visitor_host and its parser: one place for the server's and the client's side of it.
#include "tunnel/visitor_address.hpp"

namespace ringtunnel::tunnel {

std::string visitor_host(const net::SocketAddress& visitor, const net::SocketAddress& reached) {
  return visitor.to_string() + " " + reached.to_string();
}

bool parse_visitor_host(std::string_view text, net::SocketAddress& visitor,
                        net::SocketAddress& reached) {
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return false;
  auto from = net::SocketAddress::parse(text.substr(0, space));
  auto to = net::SocketAddress::parse(text.substr(space + 1));
  if (!from || !to) return false;
  visitor = *from;
  reached = *to;
  return true;
}

}  // namespace ringtunnel::tunnel
