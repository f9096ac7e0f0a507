// SPDX-License-Identifier: MIT
// ServerCore: what the server keeps on one reactor: its listener, handshakes and sessions.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>
#include <unordered_map>
#include <unordered_set>

#include "net/unique_fd.hpp"
#include "observe/log.hpp"
#include "runtime/acceptor.hpp"
#include "runtime/task.hpp"
#include "server/request_log.hpp"
#include "server/server.hpp"
#include "tunnel/channel.hpp"
#include "tunnel/handshake.hpp"
#include "tunnel/handshake_reader.hpp"
#include "tunnel/session.hpp"
#include "tunnel/udp_relay.hpp"

namespace ringtunnel::server {

/// The core that holds the Admission state; the others reach it with runtime::call_on.
inline constexpr unsigned kAdmissionCore = 0;

/// One reactor's share of the server. Only that reactor's thread touches it. It is the
/// SessionHandler of every session on the core: policy checks and upstream connects.
struct ServerCore final : tunnel::SessionHandler, tunnel::UdpRelayOwner {
  struct Live {
    std::unique_ptr<tunnel::Session> session;
    crypto::PublicKey key{};
    std::string fingerprint;  // of `key`, for log fields
    std::chrono::steady_clock::time_point since;
  };

  ServerCore(Server& owner, runtime::Reactor& core);
  ~ServerCore() override;

  runtime::Task<void> accept_loop();
  runtime::Task<void> serve(net::UniqueFd connection);
  runtime::Task<void> refuse_at_accept(net::UniqueFd connection, const net::SocketAddress& from,
                                       protocol::Reason reason);
  /// A handshake's outcome on either transport: the channel and who the client is.
  struct Admitted {
    std::unique_ptr<tunnel::Channel> channel;
    tunnel::ClientClaim claim;
    tunnel::Leftover leftover;
  };
  runtime::Task<Result<Admitted>> handshake(int fd, const net::SocketAddress& peer,
                                            tunnel::ClientClaim* claim, std::string* detail);
  void start_session(net::UniqueFd connection, Admitted admitted, const net::SocketAddress& from);
  runtime::Task<void> connect_target(tunnel::Session& session, tunnel::Stream& stream);
  void release_client(const crypto::PublicKey& key);
  /// Stop accepting; GOAWAY to every session, which closes once its streams are done or when
  /// the drain timeout passes.
  void stop();
  void maybe_stopped();
  static void drain_deadline_passed(runtime::Timer& timer);
  /// Closes the sessions of `key` (removed from authorized_keys).
  void revoke(const crypto::PublicKey& key);

  // ---- exposures (-R), exposure.cpp --------------------------------------------------
  /// One exposed port on this core: its listener (or UDP socket), held for `session`.
  struct Exposure {
    std::uint64_t id = 0;
    tunnel::Session* session = nullptr;  // null once dropped
    std::string tunnel;                  // the client's name for it, in its OPENs and logs
    TransportProtocol protocol = TransportProtocol::tcp;
    std::uint16_t port = 0;
    net::SocketAddress bound;
    net::UniqueFd fd;
    std::unique_ptr<runtime::Acceptor> acceptor;  // TCP
    std::atomic<std::uint32_t> udp_flows{0};
    std::unique_ptr<tunnel::UdpRelay> relay;  // UDP: each visitor source is a flow
    /// Set for an ingress name (no socket of its own: the ingress listeners route to it).
    std::optional<IngressKind> ingress;
    std::uint64_t visitors = 0;
    std::chrono::steady_clock::time_point last_refusal_log{};
  };
  /// Answers an exposure request (OPEN kind 5 or 6): policy, the claim on core 0, the bind.
  runtime::Task<void> expose(tunnel::Session& session, tunnel::Stream& stream, std::uint8_t kind);
  /// Accepts visitors on `exposure` and opens a stream to its client for each.
  runtime::Task<void> serve_visitors(Exposure& exposure);
  void carry_visitor(Exposure& exposure, net::UniqueFd visitor);
  /// Stops exposure `id` (if it is still here): no more visitors, the port freed at once, the
  /// claim released on core 0. Streams already open go on.
  void drop_exposure(std::uint64_t id, std::string_view why);
  void drop_exposures_of(const tunnel::Session& session, std::string_view why);
  std::size_t exposures_of(const tunnel::Session& session) const;
  void release_claim(TransportProtocol protocol, std::uint16_t port, std::uint64_t id);
  /// UDP exposures' relays (tunnel::UdpRelayOwner); a relay's tag is its Exposure.
  runtime::Reactor& relay_reactor() noexcept override { return reactor; }
  tunnel::Session* session_for_flow(tunnel::UdpRelay& relay) override;
  void relay_started(tunnel::UdpRelay& relay) override;
  void relay_ended(tunnel::UdpRelay& relay) override;

  // ---- the ingress (ingress.cpp, http_relay.cpp) --------------------------------------
  struct IngressListener {
    IngressKind kind = IngressKind::http;
    net::SocketAddress address;
    net::UniqueFd fd;
    std::unique_ptr<runtime::Acceptor> acceptor;
  };
  /// Opens this core's --http-bind / --https-bind listeners (SO_REUSEPORT) and accepts.
  Result<void> start_ingress();
  runtime::Task<void> serve_ingress(IngressListener& ingress);
  /// Reads a visitor's first request head (or peeks its ClientHello), finds who holds the
  /// name on core 0, and hands the connection to that core (carry_ingress_visitor).
  runtime::Task<void> route_http_visitor(net::UniqueFd visitor);
  runtime::Task<void> route_tls_visitor(net::UniqueFd visitor);
  /// On the core of exposure `id`: a stream to its client for the visitor; for HTTP through
  /// relay_http, which starts with `first` (the bytes read while routing).
  void carry_ingress_visitor(std::uint64_t id, IngressKind kind, net::UniqueFd visitor,
                             std::vector<std::byte> first);
  /// The ingress's own answer (an error page), then a short linger and the close.
  runtime::Task<void> answer_visitor(net::UniqueFd visitor, int status, std::string detail);
  /// Answers an ingress name claim (OPEN kind 7 or 8).
  runtime::Task<void> expose_name(tunnel::Session& session, tunnel::Stream& stream,
                                  std::uint8_t kind);
  void release_name(IngressKind kind, std::string_view name, std::uint64_t id);

  void on_open_request(tunnel::Session& session, tunnel::Stream& stream,
                       const protocol::Open& request) override;
  void on_session_end(tunnel::Session& session, std::error_code reason) override;
  /// The log fields of `session` (and of `stream` in it, when given).
  observe::LogFields fields_of(tunnel::Session& session, const tunnel::Stream* stream = nullptr) const;

  Server& server;
  runtime::Reactor& reactor;
  /// The policy OPENs are checked against on this core: the start-up one, replaced by a
  /// reload (SIGHUP) through a message from core 0. A connect in progress keeps the one it
  /// started with.
  std::shared_ptr<const Policy> policy;
  net::UniqueFd listener;
  std::unique_ptr<runtime::Acceptor> acceptor;
  std::unordered_map<tunnel::Session*, Live> sessions;
  std::unordered_set<int> handshaking;  // fds of handshakes in progress (cut at stop)
  unsigned tasks = 0;                   // accept loop, handshakes and reaps still running
  bool stopping = false;
  bool stopped = false;
  runtime::Timer drain_deadline;
  std::unordered_map<std::uint64_t, std::unique_ptr<Exposure>> exposures;  // by id
  std::uint64_t exposures_made = 0;  // for ids: (core << 48) | count
  ServerTotals totals;
  std::vector<std::unique_ptr<IngressListener>> ingress_listeners;
  /// Visitor sockets being routed or relayed here: stop() shuts their reading side, so each
  /// finishes the requests it has and closes.
  std::unordered_set<int> ingress_visitors;
  RequestLog request_log;  ///< the last HTTP requests through the ingress on this core
  // Refusals at accept are logged at most once a second per core (a flood must not flood logs).
  std::chrono::steady_clock::time_point last_accept_refusal_log{};
  std::uint64_t suppressed_accept_refusals = 0;
};

}  // namespace ringtunnel::server
