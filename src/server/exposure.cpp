// SPDX-License-Identifier: MIT
// ServerCore's exposures (-R): the claim on core 0, the public listener on the session's core,
// and a stream to the client for each visitor.
#include <sys/socket.h>

#include <cerrno>

#include "net/socket.hpp"
#include "observe/log.hpp"
#include "protocol/payload.hpp"
#include "runtime/cross_core.hpp"
#include "runtime/io.hpp"
#include "server/server_core.hpp"
#include "tunnel/visitor_address.hpp"

namespace ringtunnel::server {
namespace {

using namespace std::chrono_literals;
using protocol::Reason;
using runtime::Task;

// Refused visitors (the session takes no new streams) are logged at most this often.
constexpr auto kVisitorRefusalLogEvery = 1s;
// A UDP visitor's flow ends after this long without a datagram either way; an exposure holds
// at most this many flows (visitor source addresses) at once.
constexpr auto kVisitorFlowIdle = 60s;
constexpr std::uint32_t kVisitorFlowsPerExposure = 1024;
// Ports one session may hold exposed at once (each is a socket and a claim on core 0).
constexpr std::size_t kMaxExposuresPerSession = 64;

bool is_any_address(const net::SocketAddress& address) {
  net::SocketAddress any4 = net::SocketAddress::ipv4(0, address.port());
  auto any6 = net::SocketAddress::parse("[::]:" + std::to_string(address.port()));
  return address == any4 || (any6 && address == *any6);
}

// The address an exposure listens on: the server's --expose-bind, or the address the client
// names when that is no wider than what --expose-bind allows (the same address; any IPv4
// address under 0.0.0.0; any address at all under ::).
Result<net::SocketAddress> exposure_address(const net::SocketAddress& expose_bind,
                                            const std::string& requested, std::uint16_t port,
                                            std::string* message) {
  net::SocketAddress allowed = expose_bind;
  allowed.set_port(port);
  if (requested.empty()) return allowed;
  const bool v6 = requested.find(':') != std::string::npos;
  auto address = net::SocketAddress::parse((v6 ? "[" + requested + "]" : requested) + ":" +
                                           std::to_string(port));
  if (!address) {
    *message = "bind address '" + requested + "' is not an IP address";
    return errno_code(EINVAL);
  }
  const bool any = is_any_address(allowed);
  if (*address == allowed || (any && allowed.family() == AF_INET6) ||
      (any && address->family() == AF_INET)) {
    return *address;
  }
  allowed.set_port(0);
  *message = "this server exposes ports only on " + allowed.to_string() +
             " (--expose-bind), not on " + requested;
  return errno_code(EACCES);
}

// A bind failure as the client should read it.
Reason bind_refusal(std::error_code error, const net::SocketAddress& address,
                    TransportProtocol protocol, std::string* message) {
  const std::string where = address.to_string() + "/" + to_string(protocol);
  if (error == std::errc::address_in_use) {
    *message = where + " is in use on the server";
    return Reason::port_in_use;
  }
  if (error == std::errc::permission_denied) {
    *message = where + ": the server may not listen there (a privileged port?)";
    return Reason::port_not_allowed;
  }
  if (error == std::errc::address_not_available) {
    *message = "the server has no address " + address.to_string();
    return Reason::host_not_allowed;
  }
  *message = "cannot listen on " + where + ": " + error.message();
  return Reason::internal_error;
}

void deliver_release(runtime::Reactor&, runtime::CoreMessage& message) {
  // bytes: protocol, port (big-endian); arg: the exposure's id.
  auto* server = static_cast<Server*>(message.context);
  const auto protocol = static_cast<TransportProtocol>(message.bytes[0]);
  const auto port = static_cast<std::uint16_t>((std::to_integer<unsigned>(message.bytes[1]) << 8) |
                                               std::to_integer<unsigned>(message.bytes[2]));
  server->exposures().release(protocol, port, message.arg);
}

}  // namespace

Task<void> ServerCore::expose(tunnel::Session& session, tunnel::Stream& stream, std::uint8_t kind) {
  if (protocol::is_ingress_kind(kind)) {
    co_await expose_name(session, stream, kind);
    co_return;
  }
  // The session stays valid until the stream is answered (a stream waiting for its answer
  // holds its session open).
  const tunnel::OpenTarget request = stream.target();
  const TransportProtocol protocol =
      kind == protocol::kOpenKindUdpExpose ? TransportProtocol::udp : TransportProtocol::tcp;
  const std::string what = "exposure '" + request.tunnel + "' (" + std::to_string(request.port) +
                           "/" + to_string(protocol) + ")";
  Reason reason = Reason::ok;
  std::string message;
  std::uint64_t claimed_id = 0;  // set once core 0 has given us the port
  net::UniqueFd fd;
  net::SocketAddress address;
  auto live = sessions.find(&session);
  if (live == sessions.end() || stopping) {
    reason = Reason::shutting_down;
    message = "the server is shutting down";
  } else if (exposures_of(session) >= kMaxExposuresPerSession) {
    reason = Reason::too_many_streams;
    message = "this session already exposes " + std::to_string(kMaxExposuresPerSession) +
              " ports, the most one session may";
  } else if (!policy->ports.contains(request.port)) {
    reason = Reason::port_not_allowed;
    message = "port " + std::to_string(request.port) +
              " is not allowed by this server (allowed: " + policy->ports.to_string() + ")";
  } else if (auto where = exposure_address(server.options().expose_bind, request.host, request.port,
                                           &message);
             !where) {
    reason = Reason::host_not_allowed;
  } else {
    address = *where;
    const ExposureHolder me{live->second.key, reactor.id(),
                            (static_cast<std::uint64_t>(reactor.id()) << 48) | ++exposures_made};
    auto claim = co_await runtime::call_on(kAdmissionCore, [this, &protocol, &request, &me] {
      return server.exposures().claim(protocol, request.port, me);
    });
    if (claim.outcome == ExposureRegistry::Outcome::claimed) {
      reason = Reason::port_claimed;
      message = "port " + std::to_string(request.port) + "/" + to_string(protocol) +
                " is exposed by another client";
    } else {
      claimed_id = me.exposure;
      if (claim.outcome == ExposureRegistry::Outcome::taken_over) {
        // The old listener must be gone before ours binds: that core shuts it down now.
        const ExposureHolder previous = claim.previous;
        co_await runtime::call_on(previous.core, [this, previous] {
          if (ServerCore* there = server.core(previous.core)) {
            there->drop_exposure(previous.exposure, "taken over by a new session of its client");
          }
          return true;
        });
      }
      auto bound = protocol == TransportProtocol::udp
                       ? net::bind_udp(address, net::ReusePort::no)
                       : net::listen_tcp(address, net::ReusePort::no);
      if (!bound) {
        reason = bind_refusal(bound.error(), address, protocol, &message);
      } else {
        fd = std::move(*bound);
      }
    }
  }
  // The session may have ended (or this core started stopping) while core 0 answered.
  if (reason == Reason::ok && (stream.abandoned() || stopping)) reason = Reason::shutting_down;
  if (reason != Reason::ok) {
    if (claimed_id != 0) release_claim(protocol, request.port, claimed_id);
    ++totals.exposures_refused;
    if (!stream.abandoned()) {
      observe::log_with(observe::LogLevel::warn, fields_of(session, &stream),
                        "{}: {} refused: {}: {}", session.name(), what, protocol::to_string(reason),
                        message);
    }
    session.refuse(stream, reason, message);
    co_return;
  }
  auto exposure = std::make_unique<Exposure>();
  exposure->id = claimed_id;
  exposure->session = &session;
  exposure->tunnel = request.tunnel;
  exposure->protocol = protocol;
  exposure->port = request.port;
  exposure->bound = address;
  exposure->fd = std::move(fd);
  Exposure& ref = *exposure;
  exposures.emplace(ref.id, std::move(exposure));
  ++totals.exposures;
  observe::log_with(observe::LogLevel::info, fields_of(session, &stream), "{}: {}: listening on {}",
                    session.name(), what, address.to_string());
  session.accept(stream, {});
  if (protocol == TransportProtocol::tcp) {
    ref.acceptor = std::make_unique<runtime::Acceptor>(ref.fd.get());
    ++tasks;
    runtime::spawn(serve_visitors(ref));
  } else {
    tunnel::UdpRelaySettings settings;
    settings.label = session.name() + ": exposure '" + ref.tunnel + "'";
    settings.target = {"", ref.port, ref.tunnel};
    settings.name_visitor = true;
    settings.idle_timeout = kVisitorFlowIdle;
    settings.max_flows = kVisitorFlowsPerExposure;
    settings.cap_reached = "the exposure has " + std::to_string(kVisitorFlowsPerExposure) +
                           " visitor flows already";
    settings.flows = &ref.udp_flows;
    ref.relay = std::make_unique<tunnel::UdpRelay>(*this, std::move(settings), ref.fd.get(), &ref);
    ref.relay->start();
  }
}

tunnel::Session* ServerCore::session_for_flow(tunnel::UdpRelay& relay) {
  auto* exposure = static_cast<Exposure*>(const_cast<void*>(relay.tag()));
  if (exposure->session == nullptr) return nullptr;
  ++exposure->visitors;
  ++totals.visitors;
  return exposure->session;
}

void ServerCore::relay_started(tunnel::UdpRelay&) { ++tasks; }

void ServerCore::relay_ended(tunnel::UdpRelay& relay) {
  const std::uint64_t id = static_cast<const Exposure*>(relay.tag())->id;
  // The relay is still unwinding its loop: the exposure that owns it goes on the next turn.
  runtime::spawn([](ServerCore& core, std::uint64_t ended) -> Task<void> {
    co_await runtime::next_turn();
    core.exposures.erase(ended);
    --core.tasks;  // the relay's loop
    core.maybe_stopped();
  }(*this, id));
}

Task<void> ServerCore::serve_visitors(Exposure& exposure) {
  while (exposure.session != nullptr) {
    auto visitor = co_await exposure.acceptor->accept();
    if (exposure.session == nullptr) break;  // dropped meanwhile: `visitor` closes
    if (visitor) {
      carry_visitor(exposure, std::move(*visitor));
    } else if (visitor.error() != std::errc::operation_canceled) {
      observe::log_warn("exposure '{}': accept on {}: {}", exposure.tunnel,
                        exposure.bound.to_string(), visitor.error().message());
      co_await runtime::sleep(50ms);
    }
  }
  const std::uint64_t id = exposure.id;
  exposure.acceptor.reset();
  exposures.erase(id);
  --tasks;
  maybe_stopped();
}

void ServerCore::carry_visitor(Exposure& exposure, net::UniqueFd visitor) {
  ++exposure.visitors;
  ++totals.visitors;
  // The client reads who came and where (for a PROXY header): "VISITOR PUBLIC_ADDRESS".
  auto from = net::peer_address(visitor.get());
  auto to = net::local_address(visitor.get());
  if (!from || !to) return;  // gone already (reset before we looked): nothing to carry
  const tunnel::OpenTarget target{tunnel::visitor_host(*from, *to), exposure.port,
                                  exposure.tunnel};
  if (exposure.session->open_stream(visitor, target)) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - exposure.last_refusal_log >= kVisitorRefusalLogEvery) {
    exposure.last_refusal_log = now;
    observe::log_warn(
        "{}: exposure '{}': visitor {} turned away: the session takes no new "
        "streams now (closing, or at its stream limit)",
        exposure.session->name(), exposure.tunnel, from->to_string());
  }
}

void ServerCore::drop_exposure(std::uint64_t id, std::string_view why) {
  auto it = exposures.find(id);
  if (it == exposures.end() || it->second->session == nullptr) return;
  Exposure& exposure = *it->second;
  if (exposure.ingress) {
    observe::log_info("{}: {} name '{}' released: {} ({} visitor(s))", exposure.session->name(),
                      *exposure.ingress == IngressKind::http ? "http" : "tls", exposure.tunnel,
                      why, exposure.visitors);
    release_name(*exposure.ingress, exposure.tunnel, id);
    exposures.erase(it);  // visitors already carried go on: they hold the session, not this
    return;
  }
  observe::log_info("{}: exposure '{}' on {} closed: {} ({} visitor(s))", exposure.session->name(),
                    exposure.tunnel, exposure.bound.to_string(), why, exposure.visitors);
  exposure.session = nullptr;
  // Linux: shutdown ends a listening socket at once, so the port is free for a new session
  // even while the kernel still holds the accept we cancel.
  ::shutdown(exposure.fd.get(), SHUT_RDWR);
  release_claim(exposure.protocol, exposure.port, id);
  if (exposure.acceptor) {
    exposure.acceptor->stop();  // its loop ends and erases it
  } else if (exposure.relay && exposure.relay->running()) {
    exposure.relay->stop(Reason::going_away);  // resets its flows; relay_ended erases it
  } else {
    exposures.erase(it);
  }
}

std::size_t ServerCore::exposures_of(const tunnel::Session& session) const {
  std::size_t count = 0;
  for (const auto& [id, exposure] : exposures) count += exposure->session == &session;
  return count;
}

void ServerCore::drop_exposures_of(const tunnel::Session& session, std::string_view why) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, exposure] : exposures) {
    if (exposure->session == &session) ids.push_back(id);
  }
  for (std::uint64_t id : ids) drop_exposure(id, why);
}

void ServerCore::release_claim(TransportProtocol protocol, std::uint16_t port, std::uint64_t id) {
  // Fire and forget, as release_client: a stopping core 0 must not hold this core up.
  runtime::CoreMessage release;
  release.handler = &deliver_release;
  release.context = &server;
  release.arg = id;
  release.bytes = {static_cast<std::byte>(protocol), static_cast<std::byte>(port >> 8),
                   static_cast<std::byte>(port)};
  if (reactor.id() == kAdmissionCore) {
    deliver_release(reactor, release);
  } else {
    reactor.post(kAdmissionCore, std::move(release));
  }
}

}  // namespace ringtunnel::server
