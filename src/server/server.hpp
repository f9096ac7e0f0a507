// SPDX-License-Identifier: MIT
// Server: accepts clients on every core, runs their handshakes and sessions, connects targets.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <vector>

#include "crypto/authorized_keys.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/tls/tls.hpp"
#include "net/resolver.hpp"
#include "net/socket_address.hpp"
#include "observe/live_status.hpp"
#include "protocol/limits.hpp"
#include "runtime/core_message.hpp"
#include "runtime/reactor.hpp"
#include "runtime/result.hpp"
#include "runtime/task.hpp"
#include "server/admission.hpp"
#include "server/exposure_registry.hpp"
#include "server/name_registry.hpp"
#include "server/policy.hpp"
#include "server/policy_settings.hpp"
#include "tunnel/heartbeat.hpp"

namespace ringtunnel::server {

struct ServerOptions {
  net::SocketAddress listen;  ///< the tunnel port (every reactor listens, SO_REUSEPORT)
  Policy policy;              ///< which targets clients may reach (at start)
  /// What the flags fixed and where config.yaml is: a reload recomputes the policy and the
  /// client limit from these and the file (effective_policy).
  PolicyFlags policy_flags;
  AdmissionOptions admission;  ///< keys, token, max clients; admission.params go to clients
  std::chrono::milliseconds handshake_timeout{protocol::kHandshakeTimeout};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  /// Each session's PINGs and dead-peer timeout (the interval also goes to clients, in
  /// AuthResult.heartbeat_ms).
  tunnel::HeartbeatConfig heartbeat;
  /// On SIGINT/SIGTERM open streams get this long to finish (GOAWAY first); then the sessions
  /// still open are closed.
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(10)};
  /// Set: the TLS transport (protocol.md §6) with these certificates, instead of the native
  /// handshake. Immutable, shared by every core.
  std::shared_ptr<const crypto::tls::TlsContext> tls;
  /// Where exposed ports (-R) listen unless a client names an address this allows: 0.0.0.0
  /// (every IPv4 interface) by default; `::` allows any address.
  net::SocketAddress expose_bind = net::SocketAddress::ipv4(0, 0);
  /// The ingress (docs/architecture.md "Ingress"): where each listens (every core, with
  /// SO_REUSEPORT), the domain names live under (lower-case, no trailing dot), how long a
  /// client's service has to start its response, and the names reserved for one key (by its
  /// fingerprint).
  std::optional<net::SocketAddress> http_bind;
  std::optional<net::SocketAddress> https_bind;
  std::string domain;
  std::chrono::milliseconds http_timeout{std::chrono::seconds(60)};
  std::map<std::string, std::string, std::less<>> reserved_names;
};

/// Counters summed over every core (read after the engine has stopped).
struct ServerTotals {
  std::uint64_t connections = 0;       ///< accepted on the tunnel port
  std::uint64_t sessions = 0;          ///< handshakes that ended in a session
  std::uint64_t handshake_failures = 0;
  std::uint64_t refused_at_accept = 0;  ///< server_busy / rate_limited
  std::uint64_t streams = 0;           ///< streams connected to a target
  std::uint64_t streams_refused = 0;   ///< by policy or a failed connect
  std::uint64_t bytes_in = 0;          ///< from clients
  std::uint64_t bytes_out = 0;         ///< to clients
  std::uint64_t flows = 0;             ///< UDP flows connected to a target (also in streams)
  std::uint64_t datagrams_in = 0;      ///< UDP datagrams from clients
  std::uint64_t datagrams_out = 0;     ///< UDP datagrams to clients
  std::uint64_t datagrams_dropped = 0;  ///< on this end (see tunnel::DatagramDrops)
  std::uint64_t exposures = 0;          ///< exposure requests granted (-R)
  std::uint64_t exposures_refused = 0;
  std::uint64_t visitors = 0;           ///< connections accepted on exposed ports
  std::uint64_t ingress_connections = 0;  ///< accepted on --http-bind / --https-bind
  std::uint64_t ingress_requests = 0;     ///< HTTP requests answered through the ingress
  std::uint64_t ingress_errors = 0;       ///< answered by the ingress itself (4xx/5xx pages)
};

struct ServerCore;

/// The server role. Each reactor listens on the tunnel port with SO_REUSEPORT; a client's
/// session, its streams and their upstream sockets live on the core that accepted it.
/// Admission state (authorized keys, max clients, the failure limit) lives on core 0 and is
/// reached from the other cores with runtime::call_on, so no lock is taken anywhere.
///
/// Use: construct on the launching thread with the engine's reactor count, call start_on()
/// from Engine::start's on_start on every reactor, stop_on() from the signal handler on every
/// reactor; each reactor then stops by itself once its sessions are gone, core 0 last.
class Server {
 public:
  Server(ServerOptions options, crypto::Ed25519PrivateKey identity, crypto::AuthorizedKeys keys,
         unsigned reactors, net::Resolver& resolver);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// On reactor `reactor`'s thread: opens its listener and starts accepting.
  /// Errors: the listener's (EADDRINUSE...).
  Result<void> start_on(runtime::Reactor& reactor);
  /// On reactor `reactor`'s thread: stops accepting and closes every session with
  /// CLOSE(shutting_down); the reactor's loop ends when nothing is left on it.
  void stop_on(runtime::Reactor& reactor);
  /// SIGHUP, on every reactor (only core 0 acts): re-reads authorized_keys and config.yaml off
  /// the reactor. New keys are admitted from the next handshake, and the sessions of keys no
  /// longer listed are closed (unknown_key) on whichever core holds them. The allowed ports and
  /// hosts and the client limit are recomputed (flags still win) and apply from the next OPEN
  /// and handshake; no session is dropped for them. A file with an error changes nothing.
  void reload_on(runtime::Reactor& reactor);

  ServerTotals totals() const;
  /// On `reactor`'s own thread (runtime::visit_every_core): this core's live sessions and its
  /// share of the totals, ended and live sessions together.
  observe::LiveStatus snapshot_core(runtime::Reactor& reactor) const;
  const ServerOptions& options() const noexcept { return options_; }
  const crypto::Ed25519PrivateKey& identity() const noexcept { return identity_; }
  net::Resolver& resolver() noexcept { return resolver_; }
  /// Core 0 only.
  Admission& admission() noexcept { return admission_; }
  /// Core 0 only: who holds each exposed port.
  ExposureRegistry& exposures() noexcept { return exposures_; }
  /// Core 0 only: who holds each ingress name.
  NameRegistry& names() noexcept { return names_; }
  unsigned reactors() const noexcept { return static_cast<unsigned>(cores_.size()); }
  /// Reactor `id`'s share (null if it never started); touched only on that reactor.
  ServerCore* core(unsigned id) noexcept { return cores_[id].get(); }
  /// Core 0 only: another core has finished stopping.
  void core_stopped(runtime::Reactor& core0);
  /// After a start_on failed: the address it could not listen on (the tunnel port's, or an
  /// ingress's).
  std::string failed_address() const;
  /// Core 0 only: every other core has stopped.
  bool others_stopped() const noexcept { return cores_stopped_ + 1 >= cores_.size(); }

 private:
  ServerOptions options_;
  crypto::Ed25519PrivateKey identity_;
  net::Resolver& resolver_;
  Admission admission_;  // touched on core 0 only
  ExposureRegistry exposures_;  // core 0 only
  NameRegistry names_;          // core 0 only
  std::atomic<int> failed_listener_{0};  // 0 the tunnel port, 1 --http-bind, 2 --https-bind
  std::vector<std::unique_ptr<ServerCore>> cores_;
  unsigned cores_stopped_ = 0;  // core 0 only
  bool reloading_ = false;      // core 0 only
  runtime::Task<void> reload();
  void reload_policy(const std::optional<config::ServerSettings>& settings,
                     const std::string& settings_error);
};

}  // namespace ringtunnel::server
