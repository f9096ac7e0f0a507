// SPDX-License-Identifier: MIT
// Client: local listeners for -L forwards, sessions to the server on every core, trust.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/host_trust.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/tls/tls.hpp"
#include "net/resolver.hpp"
#include "net/socket_address.hpp"
#include "net/unique_fd.hpp"
#include "observe/live_status.hpp"
#include "protocol/limits.hpp"
#include "ringtunnel/ingress_spec.hpp"
#include "ringtunnel/tunnel_spec.hpp"
#include "runtime/engine.hpp"
#include "runtime/result.hpp"
#include "runtime/task.hpp"
#include "tunnel/handshake.hpp"
#include "tunnel/heartbeat.hpp"

namespace ringtunnel::client {

struct ClientOptions {
  std::string server_host;  ///< as written (a name, an IPv4 or IPv6 address)
  std::uint16_t server_port = 9000;
  std::vector<ForwardSpec> forwards;
  /// `-R`: ports the server opens for this client; session 0 asks for them each time it is up.
  std::vector<ExposeSpec> exposes;
  /// `--http`, `--https`, `--local-addr`: names the server's ingress routes to this client;
  /// session 0 claims them each time it is up, as the -R ports.
  std::vector<IngressSpec> ingress;
  std::optional<std::string> token;  ///< the server's enrolment token
  TrustOptions trust;                ///< host_port is filled in by the client
  unsigned sessions = 0;             ///< 0: one per reactor
  std::string client_name;           ///< sent in ClientAuth, for the server's log (host name)
  std::string known_hosts_path;
  std::uint32_t receive_window = protocol::kDefaultWindow;
  std::chrono::milliseconds handshake_timeout{protocol::kHandshakeTimeout};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  /// How long a local connection waits for a session while the client reconnects.
  std::chrono::milliseconds connect_wait{std::chrono::seconds(10)};
  /// On stop, open streams get this long to finish before the sessions are closed.
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(10)};
  /// PINGs at this interval or the server's (AuthResult.heartbeat_ms), whichever is shorter;
  /// the server declared dead after `timeout` of silence.
  tunnel::HeartbeatConfig heartbeat;
  /// A UDP flow with no datagram either way for this long ends (RESET idle_timeout).
  std::chrono::milliseconds udp_idle_timeout{std::chrono::seconds(60)};
  /// Flows one UDP tunnel may have at once (all cores together); a new source past it is
  /// dropped.
  std::uint32_t udp_max_flows = 1024;
  /// Set: the TLS transport (protocol.md §6) instead of the native handshake, and how the
  /// server's certificate is checked (pin: known_hosts, as the native host key).
  std::shared_ptr<const crypto::tls::TlsContext> tls;
  crypto::tls::Verify tls_verify = crypto::tls::Verify::pin;
  /// Called once on core 0 when every session is up for the first time ("client ready").
  std::function<void()> on_ready;
  /// Called once, on whichever thread ends the client, with the message fatal() logged.
  std::function<void(const std::string&)> on_fatal;
  /// Called on the session's core each time a session set-up failed and will be retried, with
  /// why (for an embedder's start() that times out: the last reason).
  std::function<void(const std::string&)> on_retry;
};

/// One -L forward once its listeners are open (the port is the real one when 0 was asked).
struct OpenForward {
  ForwardSpec spec;
  /// Where it listens: one address, or for `localhost` 127.0.0.1 and ::1 (the same port).
  std::vector<net::SocketAddress> bound;
  /// [core][address]: one SO_REUSEPORT socket per address on each reactor that holds sessions
  /// (listening TCP sockets, or bound UDP sockets for a UDP tunnel).
  std::vector<std::vector<net::UniqueFd>> listeners;
  /// A UDP tunnel's flows on every core (its relays share the --udp-max-flows cap).
  std::unique_ptr<std::atomic<std::uint32_t>> udp_flows =
      std::make_unique<std::atomic<std::uint32_t>>(0);
  /// Set on core 0 when a reload removes it; the forward is freed once every core has let go.
  bool removing = false;
  unsigned cores_holding = 0;  ///< core 0, while removing: cores that have not let go yet
  /// "127.0.0.1:15432 and [::1]:15432", for log lines.
  std::string where() const;
};

/// Opens `spec`'s sockets: a probe without SO_REUSEPORT (a port someone else holds fails
/// here), then one SO_REUSEPORT socket per address on each of `cores`; `localhost` also listens
/// on ::1 when it can. Blocking (a bind name may be resolved): not on a reactor. Errors: one
/// sentence in `*error`.
Result<std::unique_ptr<OpenForward>> open_forward(const ForwardSpec& spec, unsigned cores,
                                                  std::string* error);

/// What a reload reads: the tunnels wanted now, or nullopt with `*error` (the file is broken).
using ForwardReader = std::function<std::optional<std::vector<ForwardSpec>>(std::string* error)>;

struct ClientCore;
}  // namespace ringtunnel::client
namespace ringtunnel::tunnel {
class Session;
}  // namespace ringtunnel::tunnel
namespace ringtunnel::client {

/// Counters summed over every core (read after the engine has stopped).
struct ClientTotals {
  std::uint64_t sessions = 0;
  std::uint64_t reconnects = 0;  ///< sessions set up again after one was lost (up again)
  std::uint64_t streams = 0;     ///< accepted by the server
  std::uint64_t streams_refused = 0;
  std::uint64_t visitors = 0;   ///< streams and UDP flows the server opened for -R ports
  std::uint64_t bytes_out = 0;  ///< from local applications to the server
  std::uint64_t bytes_in = 0;   ///< back to them
  std::uint64_t udp_flows = 0;
  std::uint64_t udp_flows_expired = 0;
  std::uint64_t datagrams_out = 0;      ///< UDP datagrams to the server
  std::uint64_t datagrams_in = 0;       ///< UDP datagrams back from it
  std::uint64_t datagrams_dropped = 0;  ///< on this end, for any reason (no flow, no room ...)
};

/// The client role. Listeners are opened on the launching thread (so a busy port fails at
/// start), one SO_REUSEPORT socket per core that holds sessions, so the kernel spreads local
/// connections across cores and each is carried by a session on its own core. Session 0 is
/// set up first on core 0 (settling trust in the server, possibly with a prompt, and checking
/// every tunnel against the server's policy); then the others, one per core by default.
///
/// A lost session is set up again after a pause (1 s, 2 s, 4 s ... 30 s, ±10 %); so is one
/// that cannot be set up now (the server down, full, busy, unreachable). Listeners stay open
/// meanwhile. Errors a retry cannot fix (identity changed, unknown key, bad token) end the
/// client: fatal() stops the engine and exit_code() becomes 1. Threads: start_on/stop_on on
/// each reactor's thread.
class Client {
 public:
  Client(ClientOptions options, crypto::Ed25519PrivateKey identity, runtime::Engine& engine,
         net::Resolver& resolver);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Launching thread, before Engine::start: opens every forward's listeners.
  /// Errors: one sentence in `*error` (EADDRINUSE, a bind name that does not resolve...).
  Result<void> open_listeners(std::string* error);
  /// Core 0's list (reloads change it there); from another thread only before Engine::start or
  /// when no reload can run.
  const std::vector<std::unique_ptr<OpenForward>>& forwards() const noexcept { return forwards_; }

  /// On core 0 (SIGHUP): reads the wanted tunnels with `read` off the reactor, opens the new
  /// ones' sockets there too, then adds them on every core and checks them with the server,
  /// and removes the ones no longer wanted (open TCP streams finish; UDP flows end). Tunnels in
  /// both lists are untouched. A read error or a tunnel that cannot listen is logged and
  /// changes nothing else. One reload at a time; ignored before "client ready".
  void reload_tunnels_on(runtime::Reactor& reactor, ForwardReader read);
  /// On the core `here` (its thread): it has let go of a removed forward; core 0 hears it.
  void let_go(runtime::Reactor& here, const OpenForward& forward);
  /// Core 0: one core has let go of a removed forward; the last frees it.
  void forward_dropped(const OpenForward& forward);

  /// On each reactor's thread (Engine::start's on_start, or earlier when core 0's message to
  /// start a session arrives first). Idempotent.
  void start_on(runtime::Reactor& reactor);
  /// On each reactor's thread (signal): close the sessions with CLOSE and stop.
  void stop_on(runtime::Reactor& reactor);

  ClientTotals totals() const;
  /// On `reactor`'s own thread (runtime::visit_every_core): this core's sessions and its share
  /// of the totals; core 0 also lists the tunnels.
  observe::LiveStatus snapshot_core(runtime::Reactor& reactor) const;

  /// 0 after a clean stop, 1 after fatal(). Read after the engine has joined.
  int exit_code() const noexcept { return exit_code_.load(); }

  // ---- for ClientCore ---------------------------------------------------------------
  const ClientOptions& options() const noexcept { return options_; }
  const crypto::Ed25519PrivateKey& identity() const noexcept { return identity_; }
  net::Resolver& resolver() noexcept { return resolver_; }
  unsigned session_count() const noexcept { return session_count_; }
  /// The server as log lines and known_hosts name it: host:port, IPv6 in brackets.
  const std::string& server_label() const noexcept { return server_label_; }
  unsigned core_of_session(unsigned session) const noexcept { return session % reactors_; }
  /// Is `fingerprint` the server identity this client trusts? Decides once (off the reactor,
  /// as it may prompt) and remembers the answer for later sessions.
  runtime::Task<Result<void>> trust(const tunnel::ServerIdentity& identity);
  /// Ends the client with exit code 1 after logging `message` once.
  void fatal(const std::string& message);
  /// Core 0: session `index` is up for the first time (counts towards "client ready").
  void session_up(unsigned index);
  /// Core 0, once: session 0 is up. Checks every tunnel with the server, then starts the
  /// other session slots.
  runtime::Task<void> first_session_up(ClientCore& core0);
  /// Core 0, each time session 0 is up: asks the server to open every -R port, and logs what
  /// it answers (expose.cpp). `session` is the slot's pointer, read before each request: it
  /// becomes null when the session ends.
  runtime::Task<void> expose_all(ClientCore& core0, tunnel::Session* const& session);
  /// The -R tunnel a server-opened stream names (its OPEN's tunnel, kind and port), or null.
  const ExposeSpec* exposure_named(std::string_view tunnel, bool udp,
                                   std::uint16_t port) const noexcept;
  /// The --http/--https name a server-opened stream names ("http:NAME", "tls:NAME"), or null.
  const IngressSpec* ingress_named(std::string_view tunnel) const noexcept;
  ClientCore* core(unsigned id) noexcept { return cores_[id].get(); }

 private:
  ClientOptions options_;
  crypto::Ed25519PrivateKey identity_;
  runtime::Engine& engine_;
  net::Resolver& resolver_;
  std::string server_label_;
  unsigned reactors_;
  unsigned session_count_;
  runtime::Task<void> reload_tunnels(ClientCore& core0, ForwardReader read);
  /// Core 0: asks the server about each of `forwards` and logs whether it accepts them.
  runtime::Task<void> check_tunnels(ClientCore& core0, std::vector<const OpenForward*> forwards);
  unsigned listening_cores() const noexcept { return std::min(reactors_, session_count_); }

  std::vector<std::unique_ptr<OpenForward>> forwards_;
  bool ready_ = false;      // core 0: "client ready" was logged
  bool reloading_ = false;  // core 0
  std::vector<std::unique_ptr<ClientCore>> cores_;
  HostTrust host_trust_;
  std::optional<std::string> trusted_fingerprint_;  // written on core 0 before other sessions start
  unsigned sessions_up_ = 0;                        // core 0 only
  std::atomic<int> exit_code_{0};
  std::atomic<bool> fatal_{false};
};

}  // namespace ringtunnel::client
