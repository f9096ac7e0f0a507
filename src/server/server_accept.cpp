// SPDX-License-Identifier: MIT
// ServerCore: accepting, the handshake on the server's transport (native or TLS), the session.
#include <cerrno>

#include "crypto/fingerprint.hpp"
#include "net/socket.hpp"
#include "observe/log.hpp"
#include "protocol/handshake.hpp"
#include "runtime/cross_core.hpp"
#include "runtime/io.hpp"
#include "server/server_core.hpp"
#include "tunnel/aead_channel.hpp"
#include "tunnel/handshake_io.hpp"
#include "tunnel/tls_channel.hpp"
#include "tunnel/tls_handshake_io.hpp"

namespace ringtunnel::server {
namespace {

using namespace std::chrono_literals;
using protocol::Reason;
using runtime::Task;
using Clock = std::chrono::steady_clock;

// "SHA256:abcd… (laptop) from 10.0.0.5:51234": how log lines name a client.
std::string client_label(const tunnel::ClientClaim& claim, const net::SocketAddress& from) {
  std::string label = claim.client_fingerprint;
  if (!claim.client_name.empty()) label += " (" + claim.client_name + ")";
  if (claim.certificate_verified) label += " [certificate " + claim.certificate_subject + "]";
  return label + " from " + from.to_string();
}

// Failures that count against the source address: anything the client could have got right.
bool counts_as_failure(std::error_code error) {
  const Reason reason = protocol::reason_of(error);
  return reason != Reason::server_full && reason != Reason::server_busy &&
         reason != Reason::internal_error && reason != Reason::shutting_down;
}

}  // namespace

Task<void> ServerCore::accept_loop() {
  while (!stopping) {
    auto connection = co_await acceptor->accept();
    if (connection) {
      ++totals.connections;
      ++tasks;
      runtime::spawn(serve(std::move(*connection)));
    } else if (connection.error() != std::errc::operation_canceled) {
      // EMFILE and friends: back off briefly instead of spinning on the error.
      observe::log_warn("accept on {}: {}", server.options().listen.to_string(),
                        connection.error().message());
      co_await runtime::sleep(50ms);
    }
  }
  acceptor.reset();
  listener.reset();  // from now on connects are refused, not left waiting in the backlog
  --tasks;
  maybe_stopped();
}

Task<void> ServerCore::refuse_at_accept(net::UniqueFd connection, const net::SocketAddress& from,
                                        Reason reason) {
  ++totals.refused_at_accept;
  const auto now = Clock::now();
  if (now - last_accept_refusal_log >= 1s) {
    observe::log_warn(
        "refused a connection from {}: {}{}", from.to_string(), protocol::to_string(reason),
        suppressed_accept_refusals == 0 ? std::string()
                                        : " (and " + std::to_string(suppressed_accept_refusals) +
                                              " more refusals in the last second)");
    last_accept_refusal_log = now;
    suppressed_accept_refusals = 0;
  } else {
    ++suppressed_accept_refusals;
  }
  // The native transport's unsigned refusal hello tells the client why, before reading
  // anything. A TLS client would read it as garbage: it only sees the connection close.
  if (server.options().tls) co_return;
  auto body = protocol::encode(protocol::make_refusal(reason));
  if (body) {
    auto framed = protocol::frame_handshake_message(*body);
    if (framed) (void)co_await runtime::send_all(connection.get(), *framed, {.timeout = 1s});
  }
}

Task<Result<ServerCore::Admitted>> ServerCore::handshake(int fd, const net::SocketAddress& peer,
                                                         tunnel::ClientClaim* claim,
                                                         std::string* detail) {
  Admission& admission = server.admission();  // reached only on the admission core
  tunnel::AdmissionDecision admit =
      [&admission, peer](const tunnel::ClientClaim& claimed) -> Task<tunnel::Admission> {
    co_return co_await runtime::call_on(kAdmissionCore,
                                        [&] { return admission.decide(claimed, peer); });
  };
  const ServerOptions& options = server.options();
  if (options.tls) {
    auto done = co_await tunnel::run_server_tls_handshake(fd, *options.tls, options.admission.token,
                                                          std::move(admit),
                                                          options.handshake_timeout, claim, detail);
    if (!done) co_return done.error();
    co_return Admitted{std::make_unique<tunnel::TlsChannel>(std::move(done->connection),
                                                            tunnel::Channel::Clock::now()),
                       std::move(done->claim), std::move(done->leftover)};
  }
  tunnel::ServerHandshake native(server.identity());
  auto done = co_await tunnel::run_server_handshake(
      fd, native, options.admission.token, std::move(admit), options.handshake_timeout, claim);
  if (!done) co_return done.error();
  auto channel = tunnel::AeadChannel::create(done->established, protocol::Role::server,
                                             tunnel::Channel::Clock::now());
  if (!channel) {
    release_client(done->claim.client_identity);  // admitted, but it will have no session
    co_return channel.error();
  }
  co_return Admitted{std::move(*channel), std::move(done->claim), std::move(done->leftover)};
}

Task<void> ServerCore::serve(net::UniqueFd connection) {
  auto from = net::peer_address(connection.get());
  Admission& admission = server.admission();  // reached only on the admission core
  if (from && !stopping) {
    const net::SocketAddress peer = *from;
    const Reason gate = co_await runtime::call_on(
        kAdmissionCore, [&] { return admission.begin_handshake(peer, Clock::now()); });
    if (gate != Reason::ok) {
      co_await refuse_at_accept(std::move(connection), peer, gate);
    } else {
      handshaking.insert(connection.get());
      tunnel::ClientClaim claim;
      std::string detail;
      auto result = co_await handshake(connection.get(), peer, &claim, &detail);
      handshaking.erase(connection.get());
      const bool failed = !result && counts_as_failure(result.error());
      (void)co_await runtime::call_on(kAdmissionCore, [&] {
        admission.end_handshake(peer, failed, Clock::now());
        return 0;
      });
      if (!result) {
        ++totals.handshake_failures;
        const std::string who = claim.client_fingerprint.empty()
                                    ? "a client from " + peer.to_string()
                                    : "client " + client_label(claim, peer);
        observe::log_warn("{}: handshake failed: {}{}", who, result.error().message(),
                          detail.empty() ? "" : " (" + detail + ")");
      } else {
        start_session(std::move(connection), std::move(result).value(), peer);
      }
    }
  }
  --tasks;
  maybe_stopped();
}

void ServerCore::start_session(net::UniqueFd connection, Admitted admitted,
                               const net::SocketAddress& from) {
  const crypto::PublicKey key = admitted.claim.client_identity;
  const std::string label = client_label(admitted.claim, from);
  auto ring = tunnel::Session::make_receive_ring(*admitted.channel);
  if (!ring) {
    observe::log_error("client {}: cannot start its session: {}", label, ring.error().message());
    release_client(key);
    return;
  }
  const auto& params = server.options().admission.params;
  tunnel::SessionConfig config;
  config.role = protocol::Role::server;
  config.receive_window = params.initial_window;
  config.max_peer_streams = params.max_streams;
  config.heartbeat = server.options().heartbeat;
  config.name = "client " + label;
  auto session = std::make_unique<tunnel::Session>(std::move(*ring), std::move(connection),
                                                   std::move(admitted.channel), std::move(config),
                                                   *this, std::move(admitted.leftover));
  tunnel::Session* raw = session.get();
  sessions.emplace(raw, Live{std::move(session), key, crypto::fingerprint(key), Clock::now()});
  ++totals.sessions;
  observe::log_with(observe::LogLevel::info, fields_of(*raw),
                    "client {} connected (core {}, {} session(s) here)", label, reactor.id(),
                    sessions.size());
  raw->start();
  if (stopping) raw->drain(Reason::shutting_down, "the server is shutting down");
}

}  // namespace ringtunnel::server
