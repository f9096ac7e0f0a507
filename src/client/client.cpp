// SPDX-License-Identifier: MIT
// Client: listeners opened up front, session 0 first (trust, tunnel checks), then the rest.
#include "client/client.hpp"

#include <netdb.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "client/client_core.hpp"
#include "crypto/fingerprint.hpp"
#include "net/socket.hpp"
#include "observe/log.hpp"
#include "protocol/reason.hpp"
#include "runtime/cross_core.hpp"

namespace ringtunnel::client {
namespace {

using runtime::Task;

// The server as known_hosts and log lines name it: host:port, IPv6 in brackets.
std::string host_port(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// A bind address for a forward: numeric or localhost at once, other names through the system
// resolver (on the launching thread, before any reactor runs).
Result<net::SocketAddress> bind_address(const ForwardSpec& spec, std::string* error) {
  const bool v6 = spec.bind_host.find(':') != std::string::npos;
  const std::string text = (v6 ? "[" + spec.bind_host + "]" : spec.bind_host) + ":" +
                           std::to_string(spec.local_port);
  if (auto numeric = net::SocketAddress::parse(text)) return numeric;
  if (spec.bind_host == "localhost") {  // IPv4 first, whatever the resolver prefers; ::1 follows
    return net::SocketAddress::parse("127.0.0.1:" + std::to_string(spec.local_port));
  }
  ::addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  ::addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(spec.bind_host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    *error = "-L " + spec.name() + ": cannot resolve bind address '" + spec.bind_host +
             "': " + ::gai_strerror(rc);
    return errno_code(EADDRNOTAVAIL);
  }
  auto address = net::SocketAddress::from_sockaddr(found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  if (!address) return address.error();
  address->set_port(spec.local_port);
  return address;
}

void deliver_start_session(runtime::Reactor& target, runtime::CoreMessage& message) {
  auto* client = static_cast<Client*>(message.context);
  // The message may arrive before this reactor has run its own on_start: set the core up now.
  client->start_on(target);
  client->core(target.id())->keep(static_cast<unsigned>(message.arg));
}

void deliver_stop(runtime::Reactor& target, runtime::CoreMessage& message) {
  static_cast<Client*>(message.context)->stop_on(target);
}

}  // namespace

Client::Client(ClientOptions options, crypto::Ed25519PrivateKey identity,
               runtime::Engine& engine, net::Resolver& resolver)
    : options_(std::move(options)),
      identity_(std::move(identity)),
      engine_(engine),
      resolver_(resolver),
      server_label_(host_port(options_.server_host, options_.server_port)),
      reactors_(engine.size()),
      session_count_(options_.sessions == 0 ? engine.size() : options_.sessions),
      cores_(engine.size()),
      host_trust_(crypto::KnownHosts(options_.known_hosts_path),
                  [&] {
                    TrustOptions trust = options_.trust;
                    trust.host_port = server_label_;
                    return trust;
                  }()) {}

Client::~Client() = default;

std::string OpenForward::where() const {
  std::string text;
  for (const net::SocketAddress& address : bound) {
    if (!text.empty()) text += " and ";
    text += address.to_string();
  }
  return text;
}

Result<std::unique_ptr<OpenForward>> open_forward(const ForwardSpec& spec, unsigned cores,
                                                  std::string* error) {
  auto address = bind_address(spec, error);
  if (!address) return address.error();
  auto forward = std::make_unique<OpenForward>();
  forward->spec = spec;
  forward->bound.push_back(*address);
  const bool udp = spec.protocol == TransportProtocol::udp;
  const auto open_socket = [udp](const net::SocketAddress& where, net::ReusePort reuse,
                                 int backlog) {
    return udp ? net::bind_udp(where, reuse) : net::listen_tcp(where, reuse, backlog);
  };
  // A probe without SO_REUSEPORT first: a port that another program (or another ringtunnel
  // client) holds fails here instead of being silently shared; it also fixes the port when
  // 0 was asked. Then one SO_REUSEPORT socket per core.
  auto probe = open_socket(forward->bound[0], net::ReusePort::no, 1);
  if (!probe) {
    *error = "-L " + spec.name() + ": cannot listen on " + forward->bound[0].to_string() + ": " +
             probe.error().message();
    return probe.error();
  }
  forward->bound[0] = *net::local_address(probe->get());
  probe->reset();
  // `localhost` means both loopbacks, as with ssh -L: a program that tries ::1 first finds
  // the tunnel too. Where ::1 cannot be had (IPv6 off, the port taken there) IPv4 serves.
  if (spec.bind_host == "localhost" && forward->bound[0].family() == AF_INET) {
    auto v6 = *net::SocketAddress::parse("[::1]:" + std::to_string(forward->bound[0].port()));
    if (auto probe6 = open_socket(v6, net::ReusePort::no, 1)) {
      forward->bound.push_back(v6);
    } else {
      observe::log_warn("-L {}: listening on {} only: cannot also listen on {}: {}",
                        spec.name(), forward->bound[0].to_string(), v6.to_string(),
                        probe6.error().message());
    }
  }
  for (unsigned core = 0; core < cores; ++core) {
    std::vector<net::UniqueFd> here;
    for (const net::SocketAddress& where : forward->bound) {
      auto listener = open_socket(where, net::ReusePort::yes, 4096);
      if (!listener) {
        *error = "-L " + spec.name() + ": cannot listen on " + where.to_string() + ": " +
                 listener.error().message();
        return listener.error();
      }
      here.push_back(std::move(*listener));
    }
    forward->listeners.push_back(std::move(here));
  }
  return forward;
}

Result<void> Client::open_listeners(std::string* error) {
  // Cores that hold at least one session listen; the others would have nothing to carry with.
  for (const ForwardSpec& spec : options_.forwards) {
    auto forward = open_forward(spec, listening_cores(), error);
    if (!forward) return forward.error();
    forwards_.push_back(std::move(*forward));
  }
  return {};
}

void Client::start_on(runtime::Reactor& reactor) {
  if (cores_[reactor.id()]) return;  // already set up by an early message from core 0
  auto core = std::make_unique<ClientCore>(*this, reactor);
  for (const auto& forward : forwards_) core->add_forward(*forward);
  ClientCore& ref = *core;
  cores_[reactor.id()] = std::move(core);
  ref.start_accepting();  // connections made before a session is up wait for it
  if (reactor.id() == 0) ref.keep(0);  // session 0 settles trust, then starts the others
}

Task<void> Client::check_tunnels(ClientCore& core0, std::vector<const OpenForward*> forwards) {
  tunnel::Session* session = core0.pick_session();
  for (const OpenForward* forward : forwards) {
    if (session == nullptr || core0.stopping) break;
    std::string message;
    // A named target, not a braced temporary: g++ 12 destroys a temporary argument of a
    // coroutine call inside a co_await twice.
    tunnel::OpenTarget target{forward->spec.target_host, forward->spec.target_port,
                              forward->spec.name()};
    auto accepted = co_await session->check_stream(
        std::move(target), &message, forward->spec.protocol == TransportProtocol::udp);
    if (accepted) {
      observe::log_info("tunnel {}: listening on {}; the server accepts {}:{}",
                        forward->spec.name(), forward->where(), forward->spec.target_host,
                        forward->spec.target_port);
    } else if (accepted.error() == std::errc::operation_canceled) {
      break;  // the session ended meanwhile: its end is reported
    } else {
      observe::log_warn("tunnel {}: listening on {}, but the server refuses it: {}: {}",
                        forward->spec.name(), forward->where(),
                        protocol::to_string(protocol::reason_of(accepted.error())), message);
    }
    session = core0.pick_session();
  }
}

Task<void> Client::first_session_up(ClientCore& core0) {
  {
    // Ask the server about every tunnel now, so a refused one is reported at start.
    std::vector<const OpenForward*> all;
    for (const auto& forward : forwards_) all.push_back(forward.get());
    co_await check_tunnels(core0, std::move(all));
    if (!core0.stopping) {
      for (unsigned index = 1; index < session_count_; ++index) {
        const unsigned target = core_of_session(index);
        if (target == 0) {
          core0.keep(index);
          continue;
        }
        runtime::CoreMessage start;
        start.handler = &deliver_start_session;
        start.context = this;
        start.arg = index;
        core0.reactor.post(target, std::move(start));
      }
      session_up(0);
    }
  }
}

void Client::session_up(unsigned index) {
  (void)index;
  if (++sessions_up_ == session_count_) {
    ready_ = true;
    observe::log_info("client ready: {} tunnel(s) over {} session(s) to {}", forwards_.size(),
                      session_count_, server_label_);
    if (options_.on_ready) options_.on_ready();
  }
}

Task<Result<void>> Client::trust(const tunnel::ServerIdentity& identity) {
  struct Verdict {
    Result<void> result;
    std::string message;
  };
  if (trusted_fingerprint_) {
    if (*trusted_fingerprint_ == identity.fingerprint) co_return Result<void>{};
    // The server came back with another key (reinstalled, or someone in the middle). Asking
    // known_hosts again gives the full warning when it pins the old key; either way this run
    // keeps the key it started with, and a retry cannot change that: stop.
    Verdict again = co_await runtime::run_blocking([&] {
      Verdict v;
      bool pinned = false;
      v.result = host_trust_.decide(identity.fingerprint, &v.message, &pinned);
      return v;
    });
    fatal(!again.result ? again.message
                        : "server " + server_label_ +
                              " presented " + identity.fingerprint +
                              " on a later connection, not the " + *trusted_fingerprint_ +
                              " this client started with; refusing (restart the client to "
                              "trust the new key)");
    co_return protocol::make_error_code(protocol::Reason::identity_changed);
  }
  RT_ASSERT(runtime::Reactor::current()->id() == 0);  // only session 0 decides the first time
  Verdict verdict = co_await runtime::run_blocking([&] {
    Verdict v;
    bool pinned = false;
    v.result = host_trust_.decide(identity.fingerprint, &v.message, &pinned);
    return v;
  });
  if (!verdict.result) {
    fatal(verdict.message);
    co_return verdict.result;
  }
  trusted_fingerprint_ = identity.fingerprint;
  co_return Result<void>{};
}

void Client::fatal(const std::string& message) {
  if (fatal_.exchange(true)) return;
  observe::log_error("{}", message);
  exit_code_ = 1;
  if (options_.on_fatal) options_.on_fatal(message);
  // Stop every core gracefully (sessions closed, coroutines ended) from this one.
  runtime::Reactor* here = runtime::Reactor::current();
  for (unsigned id = 0; id < reactors_; ++id) {
    if (here != nullptr && id == here->id()) continue;
    runtime::CoreMessage stop;
    stop.handler = &deliver_stop;
    stop.context = this;
    if (here != nullptr) {
      here->post(id, std::move(stop));
    } else {
      engine_.reactor(id).post_from_any_thread(std::move(stop));
    }
  }
  if (here != nullptr) stop_on(*here);
}

ClientTotals Client::totals() const {
  ClientTotals sum;
  for (const auto& core : cores_) {
    if (!core) continue;
    sum.sessions += core->totals.sessions;
    sum.reconnects += core->totals.reconnects;
    sum.streams += core->totals.streams;
    sum.visitors += core->totals.visitors;
    sum.streams_refused += core->totals.streams_refused;
    sum.bytes_out += core->totals.bytes_out;
    sum.bytes_in += core->totals.bytes_in;
    sum.datagrams_out += core->totals.datagrams_out;
    sum.datagrams_in += core->totals.datagrams_in;
    sum.datagrams_dropped += core->totals.datagrams_dropped;
    for (const auto& relay : core->relays) {
      sum.udp_flows += relay->stats().flows;
      sum.udp_flows_expired += relay->stats().flows_expired;
      sum.datagrams_dropped += relay->stats().dropped_no_flow;
    }
  }
  return sum;
}

observe::LiveStatus Client::snapshot_core(runtime::Reactor& reactor) const {
  observe::LiveStatus part;
  const ClientCore* core = cores_[reactor.id()].get();
  if (core == nullptr) return part;
  if (reactor.id() == 0) {
    for (const auto& forward : forwards_) {
      if (!forward->removing) part.tunnels.push_back(forward->spec.name() + " listening on " + forward->where());
    }
  }
  part.state = core->stopping ? "draining" : "running";
  part.sessions_total = core->totals.sessions;
  part.streams_total = core->totals.streams;
  part.bytes_in = core->totals.bytes_in;
  part.bytes_out = core->totals.bytes_out;
  const auto now = runtime::Clock::now();
  for (const auto& slot : core->slots) {
    tunnel::Session* session = slot->session;
    if (session == nullptr) continue;
    const tunnel::SessionStats& stats = session->stats();
    observe::LiveSession entry;
    entry.name = session->name();
    entry.core = reactor.id();
    entry.uptime_seconds = std::chrono::duration<double>(now - slot->up_since).count();
    if (auto rtt = session->rtt()) entry.rtt_ms = std::chrono::duration<double, std::milli>(*rtt).count();
    entry.streams_open = session->stream_count();
    entry.bytes_in = stats.bytes_in;
    entry.bytes_out = stats.bytes_out;
    part.sessions_total += 1;
    part.streams_total += stats.streams_opened;
    part.bytes_in += stats.bytes_in;
    part.bytes_out += stats.bytes_out;
    part.sessions.push_back(std::move(entry));
  }
  return part;
}

void Client::stop_on(runtime::Reactor& reactor) {
  ClientCore* core = cores_[reactor.id()].get();
  if (core == nullptr) {
    reactor.request_stop();
    return;
  }
  core->stop();
}

}  // namespace ringtunnel::client
