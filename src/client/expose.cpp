// SPDX-License-Identifier: MIT
// -R on the client: asking the server for each exposed port, and connecting the streams it
// opens for visitors to the local service (with a PROXY v2 header when asked).
#include <sys/socket.h>

#include <cerrno>

#include "client/client_core.hpp"
#include "net/proxy_header.hpp"
#include "net/socket.hpp"
#include "observe/log.hpp"
#include "protocol/payload.hpp"
#include "tunnel/visitor_address.hpp"

namespace ringtunnel::client {
namespace {

using protocol::Reason;
using runtime::Task;

// Writes the PROXY v2 header to a socket that has just connected: 52 bytes at most always
// fit its empty send buffer, so a short write means the connection is already gone.
Result<void> send_proxy_header(int fd, const net::SocketAddress& visitor,
                               const net::SocketAddress& public_address, bool datagram) {
  std::array<std::byte, net::kMaxProxyV2Header> header{};
  const std::size_t size = net::encode_proxy_v2(visitor, public_address, datagram, header);
  const ssize_t sent = ::send(fd, header.data(), size, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent < 0) return errno_code(errno);
  if (static_cast<std::size_t>(sent) != size) return errno_code(EPIPE);
  return {};
}

}  // namespace

const ExposeSpec* Client::exposure_named(std::string_view tunnel, bool udp,
                                         std::uint16_t port) const noexcept {
  const TransportProtocol protocol = udp ? TransportProtocol::udp : TransportProtocol::tcp;
  for (const ExposeSpec& spec : options_.exposes) {
    if (spec.protocol == protocol && spec.public_port == port && spec.name() == tunnel) {
      return &spec;
    }
  }
  return nullptr;
}

const IngressSpec* Client::ingress_named(std::string_view tunnel) const noexcept {
  for (const IngressSpec& spec : options_.ingress) {
    const std::string_view prefix = spec.kind == IngressKind::http ? "http:" : "tls:";
    if (tunnel.size() == prefix.size() + spec.name.size() && tunnel.starts_with(prefix) &&
        tunnel.substr(prefix.size()) == spec.name) {
      return &spec;
    }
  }
  return nullptr;
}

Task<void> Client::expose_all(ClientCore& core0, tunnel::Session* const& session) {
  for (const ExposeSpec& spec : options_.exposes) {
    if (core0.stopping || session == nullptr) break;
    std::string message;
    const std::uint8_t kind = spec.protocol == TransportProtocol::udp
                                  ? protocol::kOpenKindUdpExpose
                                  : protocol::kOpenKindTcpExpose;
    tunnel::OpenTarget target{spec.bind_host, spec.public_port, spec.name()};
    auto granted = co_await session->request(kind, std::move(target), &message);
    if (granted) {
      observe::log_info("expose {}: the server listens on {} port {}; visitors reach {}:{} here",
                        spec.name(), spec.bind_host.empty() ? "its" : spec.bind_host,
                        spec.public_port, spec.local_host, spec.local_port);
    } else if (granted.error() == std::errc::operation_canceled) {
      break;  // the session ended meanwhile: its end is reported, and the next one asks again
    } else {
      observe::log_warn("expose {}: the server refuses it: {}: {}", spec.name(),
                        protocol::to_string(protocol::reason_of(granted.error())), message);
    }
  }
  for (const IngressSpec& spec : options_.ingress) {
    if (core0.stopping || session == nullptr) break;
    std::string message;
    const std::uint8_t kind = spec.kind == IngressKind::http ? protocol::kOpenKindHttpExpose
                                                             : protocol::kOpenKindTlsExpose;
    // A named target, as above: g++ 12 destroys a temporary argument of a co_await'ed call twice.
    tunnel::OpenTarget target{"", 0, spec.name};
    auto granted = co_await session->request(kind, std::move(target), &message);
    if (granted) {
      observe::log_info("{} {}: the server routes requests for it to {}:{}", to_string(spec.kind),
                        spec.name, spec.local_host, spec.local_port);
    } else if (granted.error() == std::errc::operation_canceled) {
      break;
    } else {
      observe::log_warn("{} {}: the server refuses it: {}: {}", to_string(spec.kind), spec.name,
                        protocol::to_string(protocol::reason_of(granted.error())), message);
    }
  }
}

void ClientCore::on_open_request(tunnel::Session& session, tunnel::Stream& stream,
                                 const protocol::Open& request) {
  const bool udp = request.kind == protocol::kOpenKindUdp;
  const bool tcp = request.kind == protocol::kOpenKindTcp;
  const ExposeSpec* spec =
      tcp || udp ? client.exposure_named(request.tunnel, udp, request.port) : nullptr;
  const IngressSpec* name = tcp && spec == nullptr ? client.ingress_named(request.tunnel) : nullptr;
  if (name != nullptr) {
    ++tasks;
    runtime::spawn(connect_local(session, stream,
                                 LocalService{stream.target().tunnel, name->local_host,
                                              name->local_port}));
    return;
  }
  if (spec == nullptr) {
    // Only what -R names is reachable: the server cannot make this client connect elsewhere.
    observe::log_warn(
        "{}: the server asked to open a stream for '{}' (port {}), which this "
        "client does not expose; refused",
        session.name(), stream.target().tunnel, request.port);
    session.refuse(stream, Reason::port_not_allowed, "this client does not expose that");
    return;
  }
  ++tasks;
  runtime::spawn(connect_local(session, stream,
                               LocalService{stream.target().tunnel, spec->local_host,
                                            spec->local_port,
                                            spec->protocol == TransportProtocol::udp,
                                            spec->proxy}));
}

Task<void> ClientCore::connect_local(tunnel::Session& session, tunnel::Stream& stream,
                                     LocalService spec) {
  // Both stay valid until answered: a stream waiting for its answer holds its session open.
  net::SocketAddress visitor;
  net::SocketAddress public_address;
  const bool named = tunnel::parse_visitor_host(stream.target().host, visitor, public_address);
  const bool udp = spec.udp;
  runtime::OpOptions options{.timeout = client.options().connect_timeout,
                             .cancellation = &stream.connect_cancellation()};
  Reason reason = Reason::ok;
  std::string message;
  net::UniqueFd local;
  if (!named) {
    reason = Reason::protocol_error;
    message = "the visitor's address is malformed";
  } else if (auto addresses =
                 co_await client.resolver().resolve(spec.host, spec.port, options);
             !addresses) {
    reason = Reason::connect_failed;
    message = net::resolve_error_text(spec.host, addresses.error());
  } else if (udp) {
    auto flow = net::connect_udp(addresses->front());
    if (flow) {
      local = std::move(*flow);
    } else {
      reason = Reason::connect_failed;
      message = "UDP to " + addresses->front().to_string() + " failed: " + flow.error().message();
    }
  } else {
    auto connected = co_await net::connect_first(std::move(*addresses), options);
    if (!connected) {
      reason = connected.error() == std::errc::connection_refused ? Reason::connect_refused
                                                                  : Reason::connect_failed;
      message = "connect to " + spec.host + ":" + std::to_string(spec.port) +
                " failed: " + connected.error().message();
    } else if (spec.proxy == ProxyProtocol::v2) {
      if (auto sent = send_proxy_header(connected->first.get(), visitor, public_address, false);
          !sent) {
        reason = Reason::connect_failed;
        message = "writing the PROXY v2 header to " + connected->second.to_string() +
                  " failed: " + sent.error().message();
      } else {
        local = std::move(connected->first);
      }
    } else {
      local = std::move(connected->first);
    }
  }
  if (reason == Reason::ok) {
    if (observe::log_enabled(observe::LogLevel::debug)) {
      observe::log_debug("{}: {}: visitor {} connected to {}:{}", session.name(), spec.label,
                         visitor.to_string(), spec.host, spec.port);
    }
    session.accept(stream, std::move(local));
  } else {
    if (!stream.abandoned()) {
      observe::log_warn("{}: {}: visitor {}: {}", session.name(), spec.label,
                        named ? visitor.to_string() : stream.target().host, message);
    }
    session.refuse(stream, reason, message);
  }
  --tasks;
  maybe_stopped();
}

}  // namespace ringtunnel::client
