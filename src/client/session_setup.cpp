// SPDX-License-Identifier: MIT
// Session set-up for a client slot: resolve, connect, handshake, start; what a failure means.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "client/client_core.hpp"
#include "crypto/fingerprint.hpp"
#include "observe/log.hpp"
#include "protocol/reason.hpp"
#include "tunnel/aead_channel.hpp"
#include "tunnel/handshake_io.hpp"
#include "tunnel/tls_channel.hpp"
#include "tunnel/tls_handshake_io.hpp"

namespace ringtunnel::client {
namespace {

using protocol::Reason;
using runtime::Task;

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
      return "the server " + server +
             " and this client have no protocol version or cipher in "
             "common (" +
             error.message() + ")";
    case Reason::certificate_rejected:
      return "TLS with " + server + ": a certificate was refused: " + server_message +
             " (this client checks the server's with --tls-ca/--tls-server-name, or pins it in "
             "known_hosts; the server checks the client's against its --tls-client-ca)";
    case Reason::tls_failed:
      return "the TLS handshake with " + server + " failed: " + server_message +
             " (is the server started with --transport tls? It must speak TLS 1.3)";
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

bool retry_can_fix(std::error_code error) noexcept {
  if (error.category() != protocol::protocol_category()) return true;  // the network's
  switch (protocol::reason_of(error)) {
    case Reason::unknown_key:
    case Reason::bad_token:
    case Reason::version_unsupported:
    case Reason::aead_unsupported:
    case Reason::identity_changed:
    case Reason::bad_signature:
    case Reason::certificate_rejected:
    case Reason::tls_failed:
      return false;
    default:
      return true;  // server_full, server_busy, rate_limited, timeouts: they pass
  }
}

Task<Setup> ClientCore::connect_session(Slot& slot, std::string* why) {
  const ClientOptions& options = client.options();
  const std::string& server = client.server_label();
  // Stopping cancels the lookup and the connect, and cuts the handshake's socket.
  runtime::Cancellation cancel;
  setups.insert(&cancel);
  const runtime::OpOptions setup{.timeout = options.connect_timeout, .cancellation = &cancel};
  auto addresses =
      co_await client.resolver().resolve(options.server_host, options.server_port, setup);
  Result<std::pair<net::UniqueFd, net::SocketAddress>> connected = errno_code(ECANCELED);
  if (addresses) connected = co_await net::connect_first(std::move(*addresses), setup);
  setups.erase(&cancel);
  if (stopping) co_return Setup::stopped;
  if (!addresses) {  // a name that does not resolve now may once the network is back
    *why = net::resolve_error_text(options.server_host, addresses.error());
    co_return Setup::retry;
  }
  if (!connected) {
    *why = "cannot connect to the server " + server + ": " + connected.error().message();
    co_return Setup::retry;
  }
  net::UniqueFd socket = std::move(connected->first);
  handshaking.insert(socket.get());
  std::string detail;
  auto result = co_await handshake(socket.get(), &detail);
  handshaking.erase(socket.get());
  if (stopping) co_return Setup::stopped;
  if (!result) {
    // identity_changed is reported by trust() itself, with the full warning.
    if (result.error() == Reason::identity_changed) co_return Setup::fatal;
    std::string text = describe_setup_failure(server, result.error(), detail,
                                              crypto::fingerprint(client.identity().public_key()));
    if (!retry_can_fix(result.error())) {
      client.fatal(text);
      co_return Setup::fatal;
    }
    *why = std::move(text);
    co_return Setup::retry;
  }
  const tunnel::AuthParams& params = result->params;
  auto ring = tunnel::Session::make_receive_ring(*result->channel);
  if (!ring) {  // out of memory or address space: may pass
    *why = "cannot start a session: " + ring.error().message();
    co_return Setup::retry;
  }
  tunnel::SessionConfig config;
  config.role = protocol::Role::client;
  config.receive_window = options.receive_window;
  // The server opens streams only for visitors of -R ports; without any, each would be refused.
  config.max_peer_streams =
      options.exposes.empty() && options.ingress.empty() ? 16 : protocol::kMaxStreams;
  config.peer_max_frame = params.max_frame;
  config.peer_max_streams = params.max_streams;
  config.heartbeat = options.heartbeat;
  config.heartbeat.interval =
      std::min(config.heartbeat.interval, std::chrono::milliseconds(params.heartbeat_ms));
  config.name = "session " + std::to_string(slot.index) + " to " + server;
  auto session = std::make_unique<tunnel::Session>(std::move(*ring), std::move(socket),
                                                   std::move(result->channel), std::move(config),
                                                   *this, std::move(result->leftover));
  tunnel::Session* raw = session.get();
  sessions.emplace(raw, std::move(session));
  slot.session = raw;
  slot.up_since = runtime::Clock::now();
  raw->start();
  observe::log_with(observe::LogLevel::info, observe::LogFields{.session = raw->name()},
                    "{}: up (server {} {}{}{})", raw->name(),
                    options.tls ? "certificate" : "identity", result->server_fingerprint,
                    params.message.empty() ? "" : "; ", params.message);
  co_return Setup::up;
}

Task<Result<ClientCore::Handshaken>> ClientCore::handshake(int fd, std::string* detail) {
  const ClientOptions& options = client.options();
  tunnel::TrustDecision trust = [this](const tunnel::ServerIdentity& identity) {
    return client.trust(identity);
  };
  if (options.tls) {
    if (options.tls_verify == crypto::tls::Verify::insecure) {
      observe::log_warn(
          "{}: --tls-insecure-skip-verify: the server's certificate is NOT checked; "
          "anyone on the path can read and change this session",
          client.server_label());
    }
    if (options.tls_verify != crypto::tls::Verify::pin) trust = nullptr;
    tunnel::TlsClientCredentials credentials{&client.identity(), options.token,
                                             options.client_name};
    std::string server_message;
    auto done = co_await tunnel::run_client_tls_handshake(
        fd, *options.tls, std::move(credentials), std::move(trust), options.handshake_timeout,
        &server_message, detail);
    if (!server_message.empty()) *detail = server_message;
    if (!done) co_return done.error();
    Handshaken result;
    result.params = std::move(done->params);
    result.server_fingerprint =
        done->peer.fingerprint.empty() ? "(unpinned)" : done->peer.fingerprint;
    result.channel = std::make_unique<tunnel::TlsChannel>(std::move(done->connection),
                                                          tunnel::Channel::Clock::now());
    result.leftover = std::move(done->leftover);
    co_return result;
  }
  tunnel::ClientHandshake native(client.identity(), options.token, options.client_name);
  auto done = co_await tunnel::run_client_handshake(fd, native, std::move(trust),
                                                    options.handshake_timeout, detail);
  if (!done) co_return done.error();
  auto channel = tunnel::AeadChannel::create(done->established, protocol::Role::client,
                                             tunnel::Channel::Clock::now());
  if (!channel) co_return channel.error();
  Handshaken result;
  result.params = done->established.params;
  result.server_fingerprint = done->established.peer.fingerprint;
  result.channel = std::move(*channel);
  result.leftover = std::move(done->leftover);
  co_return result;
}

}  // namespace ringtunnel::client
