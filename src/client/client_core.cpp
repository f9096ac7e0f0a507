// SPDX-License-Identifier: MIT
// ClientCore: session set-up (resolve, connect, handshake), local accepts, stopping.
#include "client/client_core.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "crypto/fingerprint.hpp"
#include "observe/log.hpp"
#include "protocol/reason.hpp"
#include "runtime/cross_core.hpp"
#include "runtime/io.hpp"
#include "tunnel/aead_channel.hpp"
#include "tunnel/handshake_io.hpp"

namespace ringtunnel::client {
namespace {

using namespace std::chrono_literals;
using protocol::Reason;
using runtime::Task;

void deliver_session_up(runtime::Reactor&, runtime::CoreMessage& message) {
  static_cast<Client*>(message.context)->session_up(static_cast<unsigned>(message.arg));
}

std::string with_message(std::string text, const std::string& server_message) {
  if (!server_message.empty()) text += " (the server says: " + server_message + ")";
  return text;
}

}  // namespace

std::string describe_setup_failure(const std::string& server, std::error_code error,
                                   const std::string& server_message,
                                   const std::string& client_fingerprint) {
  const bool protocol_error = error.category() == protocol::protocol_category();
  switch (protocol_error ? protocol::reason_of(error) : Reason::ok) {
    case Reason::unknown_key:
      return with_message("the server " + server + " does not know this client's key " +
                              client_fingerprint +
                              "; enrol it once with --token TOKEN (the server prints its token "
                              "at its first start and keeps it in its data dir as server_token)",
                          server_message);
    case Reason::bad_token:
      return with_message("the server " + server + " refused the token given with --token",
                          server_message);
    case Reason::server_full:
      return with_message("the server " + server + " is full", server_message);
    case Reason::rate_limited:
      return "the server " + server +
             " refuses this address for now: too many failed authentications from it";
    case Reason::server_busy:
      return "the server " + server + " is busy with other handshakes; try again shortly";
    case Reason::version_unsupported:
    case Reason::aead_unsupported:
      return "the server " + server + " and this client have no protocol version or cipher in "
             "common (" + error.message() + ")";
    default:
      break;
  }
  if (error == std::errc::timed_out) {
    return "the server " + server + " did not complete the handshake in time";
  }
  if (error == std::errc::connection_reset) {
    return with_message("the server " + server + " closed the connection during the handshake",
                        server_message);
  }
  return with_message("the handshake with " + server + " failed: " + error.message(),
                      server_message);
}

Task<bool> ClientCore::connect_session(unsigned index) {
  const ClientOptions& options = client.options();
  const std::string server = options.trust.host_port.empty()
                                 ? options.server_host + ":" + std::to_string(options.server_port)
                                 : options.trust.host_port;
  // Stopping cancels the lookup and the connect, and cuts the handshake's socket.
  runtime::Cancellation cancel;
  setups.insert(&cancel);
  const runtime::OpOptions setup{.timeout = options.connect_timeout, .cancellation = &cancel};
  auto addresses = co_await client.resolver().resolve(options.server_host, options.server_port,
                                                      setup);
  Result<std::pair<net::UniqueFd, net::SocketAddress>> connected = errno_code(ECANCELED);
  if (addresses) connected = co_await net::connect_first(std::move(*addresses), setup);
  setups.erase(&cancel);
  if (stopping) co_return false;
  if (!addresses) {
    client.fatal(net::resolve_error_text(options.server_host, addresses.error()));
    co_return false;
  }
  if (!connected) {
    client.fatal("cannot connect to the server " + server + ": " + connected.error().message());
    co_return false;
  }
  net::UniqueFd socket = std::move(connected->first);
  handshaking.insert(socket.get());
  tunnel::ClientHandshake handshake(client.identity(), options.token, options.client_name);
  tunnel::TrustDecision trust = [this](const tunnel::ServerIdentity& identity) {
    return client.trust(identity);
  };
  std::string server_message;
  auto result = co_await tunnel::run_client_handshake(socket.get(), handshake, std::move(trust),
                                                      options.handshake_timeout, &server_message);
  handshaking.erase(socket.get());
  if (stopping) co_return false;
  if (!result) {
    // identity_changed is reported by trust() itself, with the full warning.
    if (result.error() != Reason::identity_changed) {
      client.fatal(describe_setup_failure(server, result.error(), server_message,
                                          crypto::fingerprint(client.identity().public_key())));
    }
    co_return false;
  }
  const tunnel::AuthParams& params = result->established.params;
  auto channel = tunnel::AeadChannel::create(result->established, protocol::Role::client,
                                             tunnel::Channel::Clock::now());
  auto ring = channel ? tunnel::Session::make_receive_ring(**channel)
                      : Result<runtime::MirroredBuffer>(channel.error());
  if (!ring) {
    client.fatal("cannot start a session: " + ring.error().message());
    co_return false;
  }
  tunnel::SessionConfig config;
  config.role = protocol::Role::client;
  config.receive_window = options.receive_window;
  config.max_peer_streams = 16;  // the server opens none yet; each would be refused anyway
  config.peer_max_frame = params.max_frame;
  config.peer_max_streams = params.max_streams;
  config.name = "session " + std::to_string(index) + " to " + server;
  auto session = std::make_unique<tunnel::Session>(std::move(*ring), std::move(socket),
                                                   std::move(*channel), std::move(config), *this,
                                                   std::move(result->leftover));
  tunnel::Session* raw = session.get();
  sessions.emplace(raw, std::move(session));
  raw->start();
  observe::log_info("{}: up (server identity {}{}{})", raw->name(),
                    result->established.peer.fingerprint, params.message.empty() ? "" : "; ",
                    params.message);
  start_accepting();
  co_return true;
}

Task<void> ClientCore::run_session(unsigned index) {
  if (co_await connect_session(index)) {
    runtime::CoreMessage up;
    up.handler = &deliver_session_up;
    up.context = &client;
    up.arg = index;
    if (reactor.id() == 0) {
      client.session_up(index);
    } else {
      reactor.post(0, std::move(up));
    }
  }
  --tasks;
  maybe_stopped();
}

void ClientCore::start_accepting() {
  if (accepting || stopping) return;
  accepting = true;
  for (Listening& listening : listeners) {
    listening.acceptor = std::make_unique<runtime::Acceptor>(listening.fd);
    ++tasks;
    runtime::spawn(accept_loop(listening));
  }
}

tunnel::Session* ClientCore::pick_session() noexcept {
  tunnel::Session* best = nullptr;
  for (auto& [raw, owned] : sessions) {
    if (!raw->accepting_streams()) continue;
    if (best == nullptr || raw->stream_count() < best->stream_count()) best = raw;
  }
  return best;
}

Task<void> ClientCore::accept_loop(Listening& listening) {
  const ForwardSpec& spec = listening.forward->spec;
  const tunnel::OpenTarget target{spec.target_host, spec.target_port, spec.name()};
  while (!stopping) {
    auto connection = co_await listening.acceptor->accept();
    if (!connection) {
      if (connection.error() == std::errc::operation_canceled) break;
      observe::log_warn("tunnel {}: accept: {}", spec.name(), connection.error().message());
      co_await runtime::sleep(50ms);
      continue;
    }
    tunnel::Session* session = pick_session();
    if (session == nullptr || !session->open_stream(*connection, target)) {
      observe::log_warn("tunnel {}: no session to the server can take a stream now; "
                        "connection closed",
                        spec.name());
    }
  }
  listening.acceptor.reset();
  --tasks;
  maybe_stopped();
}

void ClientCore::on_open_request(tunnel::Session& session, tunnel::Stream& stream,
                                 const protocol::Open&) {
  observe::log_warn("{}: the server asked to open a stream ('{}'); this client exposes nothing",
                    session.name(), stream.target().tunnel);
  session.refuse(stream, Reason::port_not_allowed, "this client exposes no services");
}

void ClientCore::on_session_end(tunnel::Session& session, std::error_code reason) {
  const auto& stats = session.stats();
  ++totals.sessions;
  totals.streams += stats.streams_opened;
  totals.streams_refused += stats.streams_refused;
  totals.bytes_out += stats.bytes_out;
  totals.bytes_in += stats.bytes_in;
  if (!stopping) {
    client.fatal(session.name() + " ended" + (reason ? ": " + reason.message() : std::string()));
  }
  ++tasks;
  runtime::spawn([](ClientCore& core, tunnel::Session* done) -> Task<void> {
    co_await runtime::next_turn();  // the session is still on the stack that called us
    core.sessions.erase(done);
    --core.tasks;
    core.maybe_stopped();
  }(*this, &session));
}

void ClientCore::stop() {
  if (stopping) return;
  stopping = true;
  for (Listening& listening : listeners) {
    if (listening.acceptor) listening.acceptor->stop();
  }
  for (runtime::Cancellation* cancel : setups) cancel->cancel();
  for (int fd : handshaking) ::shutdown(fd, SHUT_RDWR);
  for (auto& [raw, owned] : sessions) raw->close(Reason::ok, "the client is stopping");
  maybe_stopped();
}

void ClientCore::maybe_stopped() {
  if (!stopping || stopped || tasks > 0 || !sessions.empty()) return;
  stopped = true;
  reactor.request_stop();
}

}  // namespace ringtunnel::client
