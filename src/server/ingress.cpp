// SPDX-License-Identifier: MIT
// ServerCore's ingress: names claimed by clients (OPEN kinds 7 and 8), the HTTP and TLS
// listeners on every core, routing a visitor by Host or SNI, and the hand-off to the core that
// holds the name.
#include <sys/socket.h>

#include <cerrno>

#include "http/error_page.hpp"
#include "http/request_head.hpp"
#include "http/route.hpp"
#include "http/sni.hpp"
#include "net/socket.hpp"
#include "observe/log.hpp"
#include "observe/quote_untrusted.hpp"
#include "protocol/payload.hpp"
#include "runtime/cross_core.hpp"
#include "runtime/io.hpp"
#include "server/http_relay.hpp"
#include "server/server_core.hpp"
#include "tunnel/visitor_address.hpp"

namespace ringtunnel::server {
namespace {

using namespace std::chrono_literals;
using protocol::Reason;
using runtime::Task;

// A visitor has this long to send its first request head (or TLS ClientHello): a slow sender
// must not hold a socket for the whole --http-timeout.
constexpr auto kFirstBytesTimeout = 10s;
// While a ClientHello is incomplete, the peek waits this long before looking again (peeking
// leaves the bytes queued, so the socket stays readable and cannot be waited on).
constexpr auto kPeekRetry = 5ms;
// Read size while the first head arrives: a head is at most 16 KiB, so whatever else came
// with it (the body's start, pipelined requests) is in here too.
constexpr std::size_t kFirstRead = 32 * 1024;
// After an answer of its own the ingress reads (and drops) at most this long before closing.
constexpr auto kAnswerLinger = 1s;
// Ingress names one session may hold, counted with its exposed ports.
constexpr std::size_t kMaxExposuresPerSession = 64;

IngressKind kind_of(std::uint8_t open_kind) {
  return open_kind == protocol::kOpenKindTlsExpose ? IngressKind::tls : IngressKind::http;
}

std::string_view ingress_label(IngressKind kind) {
  return kind == IngressKind::http ? "http" : "tls";
}

// "203.0.113.9" or "2001:db8::1" from "203.0.113.9:5000" / "[2001:db8::1]:5000".
std::string ip_of(const net::SocketAddress& address) {
  std::string text = address.to_string();
  if (const auto colon = text.rfind(':'); colon != std::string::npos) text.resize(colon);
  if (text.size() >= 2 && text.front() == '[') text = text.substr(1, text.size() - 2);
  return text;
}

void deliver_name_release(runtime::Reactor&, runtime::CoreMessage& message) {
  // bytes: the kind, then the name; arg: the exposure's id.
  auto* server = static_cast<Server*>(message.context);
  const auto kind = static_cast<IngressKind>(message.bytes[0]);
  const std::string_view name(reinterpret_cast<const char*>(message.bytes.data() + 1),
                              message.bytes.size() - 1);
  server->names().release(kind, name, message.arg);
}

void deliver_visitor(runtime::Reactor& reactor, runtime::CoreMessage& message) {
  // bytes: the kind, then what was read from the visitor; arg: the exposure's id.
  auto* server = static_cast<Server*>(message.context);
  ServerCore* core = server->core(reactor.id());
  if (core == nullptr) return;  // the fd closes with the message
  const auto kind = static_cast<IngressKind>(message.bytes.front());
  message.bytes.erase(message.bytes.begin());
  core->carry_ingress_visitor(message.arg, kind, std::move(message.fd), std::move(message.bytes));
}

}  // namespace

// ---- names -------------------------------------------------------------------------------

Task<void> ServerCore::expose_name(tunnel::Session& session, tunnel::Stream& stream,
                                   std::uint8_t open_kind) {
  const IngressKind kind = kind_of(open_kind);
  std::string name = stream.target().tunnel;
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  const std::string what =
      std::string(ingress_label(kind)) + " name " + observe::quote_untrusted(name, 80);
  const bool configured = kind == IngressKind::http ? server.options().http_bind.has_value()
                                                    : server.options().https_bind.has_value();
  Reason reason = Reason::ok;
  std::string message;
  std::uint64_t claimed_id = 0;
  auto live = sessions.find(&session);
  if (live == sessions.end() || stopping) {
    reason = Reason::shutting_down;
    message = "the server is shutting down";
  } else if (!configured) {
    reason = Reason::no_ingress;
    message = kind == IngressKind::http
                  ? "this server runs no HTTP ingress (start it with --http-bind ADDR:PORT)"
                  : "this server runs no TLS ingress (start it with --https-bind ADDR:PORT)";
  } else if (!http::is_tunnel_name(name)) {
    reason = Reason::host_not_allowed;
    message = observe::quote_untrusted(name, 80) +
              " is not a DNS label (1-63 letters, digits and '-', not starting or ending with '-')";
  } else if (exposures_of(session) >= kMaxExposuresPerSession) {
    reason = Reason::too_many_streams;
    message = "this session already holds " + std::to_string(kMaxExposuresPerSession) +
              " ports and names, the most one session may";
  } else {
    const ExposureHolder me{live->second.key, reactor.id(),
                            (static_cast<std::uint64_t>(reactor.id()) << 48) | ++exposures_made};
    const std::string fingerprint = live->second.fingerprint;
    auto claim = co_await runtime::call_on(kAdmissionCore, [this, kind, &name, &me, &fingerprint] {
      return server.names().claim(kind, name, me, fingerprint);
    });
    if (claim.outcome == NameRegistry::Outcome::claimed) {
      reason = Reason::name_claimed;
      message = "the " + what + " is held by another client";
    } else if (claim.outcome == NameRegistry::Outcome::reserved) {
      reason = Reason::name_reserved;
      message = "the " + what + " is reserved for another client's key (reserved_names)";
    } else {
      claimed_id = me.exposure;
      if (claim.outcome == NameRegistry::Outcome::taken_over) {
        const ExposureHolder previous = claim.previous;
        co_await runtime::call_on(previous.core, [this, previous] {
          if (ServerCore* there = server.core(previous.core)) {
            there->drop_exposure(previous.exposure, "taken over by a new session of its client");
          }
          return true;
        });
      }
    }
  }
  if (reason == Reason::ok && (stream.abandoned() || stopping)) reason = Reason::shutting_down;
  if (reason != Reason::ok) {
    if (claimed_id != 0) release_name(kind, name, claimed_id);
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
  exposure->tunnel = name;
  exposure->ingress = kind;
  Exposure& ref = *exposure;
  exposures.emplace(ref.id, std::move(exposure));
  ++totals.exposures;
  const std::string& domain = server.options().domain;
  observe::log_with(observe::LogLevel::info, fields_of(session, &stream),
                    "{}: {}: routed to this client ({} {}{}{})", session.name(), what,
                    kind == IngressKind::http ? "Host" : "SNI", name, domain.empty() ? "" : ".",
                    domain);
  session.accept(stream, {});
}

void ServerCore::release_name(IngressKind kind, std::string_view name, std::uint64_t id) {
  runtime::CoreMessage release;
  release.handler = &deliver_name_release;
  release.context = &server;
  release.arg = id;
  release.bytes.reserve(1 + name.size());
  release.bytes.push_back(static_cast<std::byte>(kind));
  for (char c : name) release.bytes.push_back(static_cast<std::byte>(c));
  if (reactor.id() == kAdmissionCore) {
    deliver_name_release(reactor, release);
  } else {
    reactor.post(kAdmissionCore, std::move(release));
  }
}

// ---- listeners -----------------------------------------------------------------------------

Result<void> ServerCore::start_ingress() {
  const auto open = [this](IngressKind kind, const net::SocketAddress& address) -> Result<void> {
    auto fd = net::listen_tcp(address, net::ReusePort::yes);
    if (!fd) return fd.error();
    auto opened_listener = std::make_unique<IngressListener>();
    opened_listener->kind = kind;
    opened_listener->address = address;
    opened_listener->fd = std::move(*fd);
    opened_listener->acceptor = std::make_unique<runtime::Acceptor>(opened_listener->fd.get());
    IngressListener& ref = *opened_listener;
    ingress_listeners.push_back(std::move(opened_listener));
    ++tasks;
    runtime::spawn(serve_ingress(ref));
    return {};
  };
  if (const auto& bind = server.options().http_bind) {
    if (auto opened = open(IngressKind::http, *bind); !opened) return opened;
  }
  if (const auto& bind = server.options().https_bind) {
    if (auto opened = open(IngressKind::tls, *bind); !opened) return opened;
  }
  return {};
}

Task<void> ServerCore::serve_ingress(IngressListener& ingress) {
  while (!stopping) {
    auto visitor = co_await ingress.acceptor->accept();
    if (visitor) {
      // The relay writes heads and bodies in separate sends: without TCP_NODELAY, Nagle holds
      // the second behind the visitor's delayed ACK (40 ms a request).
      (void)net::set_tcp_nodelay(visitor->get());
      ++totals.ingress_connections;
      ++tasks;
      runtime::spawn(ingress.kind == IngressKind::http ? route_http_visitor(std::move(*visitor))
                                                       : route_tls_visitor(std::move(*visitor)));
    } else if (visitor.error() != std::errc::operation_canceled) {
      observe::log_warn("{} ingress: accept on {}: {}", ingress_label(ingress.kind),
                        ingress.address.to_string(), visitor.error().message());
      co_await runtime::sleep(50ms);
    }
  }
  ingress.acceptor.reset();
  ingress.fd.reset();
  --tasks;
  maybe_stopped();
}

// ---- routing -------------------------------------------------------------------------------

Task<void> ServerCore::answer_visitor(net::UniqueFd visitor, int status, std::string detail) {
  ++totals.ingress_errors;
  const std::string page = http::error_response(status, detail);
  if (co_await runtime::send_all(visitor.get(), std::as_bytes(std::span(page.data(), page.size())),
                                 {.timeout = kAnswerLinger})) {
    // Read what the visitor still sends for a moment: closing with unread bytes would reset
    // the connection, and the visitor might lose the answer.
    ::shutdown(visitor.get(), SHUT_WR);
    std::array<std::byte, 4096> sink{};
    const auto until = runtime::Clock::now() + kAnswerLinger;
    for (int reads = 0; reads < 64; ++reads) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - runtime::Clock::now());
      if (left <= 0ms) break;
      auto got = co_await runtime::recv(visitor.get(), sink, {.timeout = left});
      if (!got || *got == 0) break;
    }
  }
}

Task<void> ServerCore::route_http_visitor(net::UniqueFd visitor) {
  const int fd = visitor.get();
  ingress_visitors.insert(fd);
  std::vector<std::byte> bytes(kFirstRead);
  std::size_t have = 0;
  http::RequestHeadParser parser;
  const auto deadline = runtime::Clock::now() + kFirstBytesTimeout;
  int status = 0;
  std::string detail;
  while (parser.status() == http::HeadStatus::need_more) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - runtime::Clock::now());
    if (left <= 0ms) {
      status = have > 0 ? 408 : 0;  // nothing sent at all: just close
      detail = "the request head did not arrive in time";
      break;
    }
    auto got = co_await runtime::recv(fd, std::span(bytes).subspan(have), {.timeout = left});
    if (!got || *got == 0) {
      if (!got && got.error() == std::errc::timed_out && have > 0) {
        status = 408;
        detail = "the request head did not arrive in time";
      }
      break;
    }
    (void)parser.feed(std::span(bytes).subspan(have, *got));
    have += *got;
  }
  ingress_visitors.erase(fd);
  std::optional<ExposureHolder> holder;
  if (parser.status() == http::HeadStatus::failed) {
    status = parser.error().status;
    detail = parser.error().message;
  } else if (parser.status() == http::HeadStatus::complete) {
    const auto host = parser.head().host();
    const auto name =
        host ? http::tunnel_name_for_host(*host, server.options().domain) : std::nullopt;
    if (!name) {
      status = host ? 404 : 400;
      detail = host ? "no tunnel is named by the Host " + observe::quote_untrusted(*host, 80)
                    : "the request has no Host, so it names no tunnel";
    } else {
      holder = co_await runtime::call_on(
          kAdmissionCore, [this, &name] { return server.names().find(IngressKind::http, *name); });
      if (!holder) {
        status = 404;
        detail = "no tunnel named '" + *name + "' is connected";
      }
    }
  }
  if (holder && !stopping) {
    bytes.resize(have);
    if (holder->core == reactor.id()) {
      carry_ingress_visitor(holder->exposure, IngressKind::http, std::move(visitor),
                            std::move(bytes));
    } else {
      runtime::CoreMessage handoff;
      handoff.handler = &deliver_visitor;
      handoff.context = &server;
      handoff.arg = holder->exposure;
      handoff.fd = std::move(visitor);
      bytes.insert(bytes.begin(), static_cast<std::byte>(IngressKind::http));
      handoff.bytes = std::move(bytes);
      reactor.post(holder->core, std::move(handoff));
    }
  } else if (status != 0) {
    co_await answer_visitor(std::move(visitor), status, std::move(detail));
  } else if (holder) {
    co_await answer_visitor(std::move(visitor), 503, "the server is shutting down");
  }
  --tasks;
  maybe_stopped();
}

Task<void> ServerCore::route_tls_visitor(net::UniqueFd visitor) {
  const int fd = visitor.get();
  ingress_visitors.insert(fd);
  // The ClientHello is peeked, not read: the bytes stay queued in the socket, so the stream
  // that carries it later sends them first, untouched.
  std::vector<std::byte> peeked(http::kMaxClientHelloPeek);
  const auto deadline = runtime::Clock::now() + kFirstBytesTimeout;
  http::SniPeek sni;
  for (int looks = 0; sni.status == http::SniStatus::need_more; ++looks) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - runtime::Clock::now());
    if (left <= 0ms || stopping) break;
    if (looks > 0) co_await runtime::sleep(kPeekRetry);
    if (!co_await runtime::wait_readable(fd, {.timeout = left})) break;
    const ssize_t got = ::recv(fd, peeked.data(), peeked.size(), MSG_PEEK | MSG_DONTWAIT);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) break;
    if (got > 0) sni = http::peek_sni(std::span(peeked).first(static_cast<std::size_t>(got)));
    if (got == static_cast<ssize_t>(peeked.size()) && sni.status == http::SniStatus::need_more) {
      break;  // as much as a ClientHello may be, and still incomplete
    }
  }
  ingress_visitors.erase(fd);
  std::optional<ExposureHolder> holder;
  std::optional<std::string> name;
  if (sni.status == http::SniStatus::found) {
    name = http::tunnel_name_for_host(sni.name, server.options().domain);
    if (name) {
      holder = co_await runtime::call_on(
          kAdmissionCore, [this, &name] { return server.names().find(IngressKind::tls, *name); });
    }
  }
  if (holder && !stopping) {
    if (holder->core == reactor.id()) {
      carry_ingress_visitor(holder->exposure, IngressKind::tls, std::move(visitor), {});
    } else {
      runtime::CoreMessage handoff;
      handoff.handler = &deliver_visitor;
      handoff.context = &server;
      handoff.arg = holder->exposure;
      handoff.fd = std::move(visitor);
      handoff.bytes = {static_cast<std::byte>(IngressKind::tls)};
      reactor.post(holder->core, std::move(handoff));
    }
  } else if (observe::log_enabled(observe::LogLevel::debug)) {
    // No TLS alert is sent: the connection just closes (the ingress holds no certificate).
    observe::log_debug("tls ingress: closed a connection: {}",
                       sni.status == http::SniStatus::found
                           ? "no tunnel holds the name " + observe::quote_untrusted(sni.name, 80)
                       : sni.status == http::SniStatus::need_more
                           ? std::string("no ClientHello in time")
                           : sni.message);
  }
  --tasks;
  maybe_stopped();
}

void ServerCore::carry_ingress_visitor(std::uint64_t id, IngressKind kind, net::UniqueFd visitor,
                                       std::vector<std::byte> first) {
  auto it = exposures.find(id);
  if (it == exposures.end() || it->second->session == nullptr || stopping) {
    if (kind == IngressKind::http) {
      ++tasks;
      runtime::spawn([](ServerCore& core, net::UniqueFd fd) -> Task<void> {
        co_await core.answer_visitor(std::move(fd), 502, "the tunnel's client has just gone away");
        --core.tasks;
        core.maybe_stopped();
      }(*this, std::move(visitor)));
    }
    return;
  }
  Exposure& exposure = *it->second;
  ++exposure.visitors;
  ++totals.visitors;
  auto from = net::peer_address(visitor.get());
  auto to = net::local_address(visitor.get());
  if (!from || !to) return;  // reset already
  const tunnel::OpenTarget target{tunnel::visitor_host(*from, *to), to->port(),
                                  (kind == IngressKind::http ? "http:" : "tls:") + exposure.tunnel};
  if (kind == IngressKind::tls) {
    if (!exposure.session->open_stream(visitor, target)) {
      observe::log_warn(
          "{}: tls name '{}': visitor {} turned away: the session takes no new "
          "streams now",
          exposure.session->name(), exposure.tunnel, from->to_string());
    }
    return;
  }
  // HTTP: the relay sits between the visitor and the stream, which carries a socket pair's
  // other end (the stream pumps a socket; the relay rewrites heads on the way).
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) {
    observe::log_warn("http ingress: socketpair: {}", std::strerror(errno));
    return;
  }
  net::UniqueFd stream_end(pair[0]);
  net::UniqueFd relay_end(pair[1]);
  ++tasks;
  if (!exposure.session->open_stream(stream_end, target)) {
    runtime::spawn([](ServerCore& core, net::UniqueFd fd) -> Task<void> {
      co_await core.answer_visitor(std::move(fd), 503,
                                   "the tunnel's session takes no new streams now; try again");
      --core.tasks;
      core.maybe_stopped();
    }(*this, std::move(visitor)));
    return;
  }
  HttpRelaySettings settings;
  settings.tunnel = exposure.tunnel;
  settings.domain = server.options().domain;
  settings.label = exposure.session->name() + ": http '" + exposure.tunnel + "'";
  settings.visitor_ip = ip_of(*from);
  settings.visitor_address = from->to_string();
  settings.timeout = server.options().http_timeout;
  settings.log = &request_log;
  settings.totals = &totals;
  settings.live = &ingress_visitors;
  runtime::spawn([](ServerCore& core, net::UniqueFd fd, net::UniqueFd upstream,
                    std::vector<std::byte> bytes, HttpRelaySettings relay) -> Task<void> {
    co_await relay_http(std::move(fd), std::move(upstream), std::move(bytes), std::move(relay));
    --core.tasks;
    core.maybe_stopped();
  }(*this, std::move(visitor), std::move(relay_end), std::move(first), std::move(settings)));
}

}  // namespace ringtunnel::server
