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
}

void ClientCore::on_open_request(tunnel::Session& session, tunnel::Stream& stream,
                                 const protocol::Open& request) {
  const bool udp = request.kind == protocol::kOpenKindUdp;
  const ExposeSpec* spec = request.kind == protocol::kOpenKindTcp || udp
                               ? client.exposure_named(request.tunnel, udp, request.port)
                               : nullptr;
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
  runtime::spawn(connect_local(session, stream, *spec));
}

Task<void> ClientCore::connect_local(tunnel::Session& session, tunnel::Stream& stream,
                                     const ExposeSpec& spec) {
  // Both stay valid until answered: a stream waiting for its answer holds its session open.
  net::SocketAddress visitor;
  net::SocketAddress public_address;
  const bool named = tunnel::parse_visitor_host(stream.target().host, visitor, public_address);
  const bool udp = spec.protocol == TransportProtocol::udp;
  runtime::OpOptions options{.timeout = client.options().connect_timeout,
                             .cancellation = &stream.connect_cancellation()};
  Reason reason = Reason::ok;
  std::string message;
  net::UniqueFd local;
  if (!named) {
    reason = Reason::protocol_error;
    message = "the visitor's address is malformed";
  } else if (auto addresses =
                 co_await client.resolver().resolve(spec.local_host, spec.local_port, options);
             !addresses) {
    reason = Reason::connect_failed;
    message = net::resolve_error_text(spec.local_host, addresses.error());
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
      message = "connect to " + spec.local_host + ":" + std::to_string(spec.local_port) +
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
      observe::log_debug("{}: expose {}: visitor {} connected to {}:{}", session.name(),
                         spec.name(), visitor.to_string(), spec.local_host, spec.local_port);
    }
    session.accept(stream, std::move(local));
  } else {
    if (!stream.abandoned()) {
      observe::log_warn("{}: expose {}: visitor {}: {}", session.name(), spec.name(),
                        named ? visitor.to_string() : stream.target().host, message);
    }
    session.refuse(stream, reason, message);
  }
  --tasks;
  maybe_stopped();
}

}  // namespace ringtunnel::client
