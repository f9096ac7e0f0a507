// SPDX-License-Identifier: MIT
// ClientCore: what the client keeps on one reactor: its session slots and its listeners.
#pragma once

#include <coroutine>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "client/backoff.hpp"
#include "client/client.hpp"
#include "tunnel/udp_relay.hpp"
#include "runtime/acceptor.hpp"
#include "runtime/timer_heap.hpp"
#include "tunnel/channel.hpp"
#include "tunnel/handshake_reader.hpp"
#include "tunnel/session.hpp"

namespace ringtunnel::client {

/// How one attempt to set up a session ended.
enum class Setup {
  up,       ///< the session runs
  retry,    ///< the server could not be reached or refused for now: try again after a pause
  fatal,    ///< a retry cannot fix it (identity, key, token): the client has been stopped
  stopped,  ///< the client is stopping
};

/// One reactor's share of the client. Only that reactor's thread touches it. It is the
/// SessionHandler of its sessions (the server opens streams only for visitors of -R ports).
///
/// Each session slot has a keeper coroutine: set up a session, wait for it to end, pause
/// (Backoff), set it up again, until the client stops or a setup fails for good. Listeners
/// accept from the start; a connection that finds no session waits (up to --connect-wait) for
/// one to come up on this core.
struct ClientCore final : tunnel::SessionHandler, tunnel::UdpRelayOwner {
  struct Listening {
    const OpenForward* forward;
    int fd;
    std::unique_ptr<runtime::Acceptor> acceptor;
  };
  struct Slot {
    explicit Slot(unsigned i) : index(i) {}
    unsigned index;
    tunnel::Session* session = nullptr;  // while it is up
    runtime::Clock::time_point up_since{};
    std::coroutine_handle<> keeper;  // waiting for `session` to end
    std::string ended_because;       // why the last session ended, for the reconnect line
    Backoff backoff;
    runtime::Cancellation pause;  // cuts the backoff pause when the client stops
    bool ever_up = false;
  };
  struct Waiting {  // a local connection with no session to carry it yet
    net::UniqueFd fd;
    const OpenForward* forward;
    runtime::Clock::time_point deadline;
  };

  ClientCore(Client& owner, runtime::Reactor& core);
  ~ClientCore() override;

  /// Starts the keeper of session slot `index` on this core.
  void keep(unsigned index);
  void start_accepting();
  void stop();

  /// A tunnel added by a reload: listen on this core's sockets of `forward` (accepting at
  /// once if this core already accepts).
  void add_forward(const OpenForward& forward);
  /// A tunnel removed by a reload: stop accepting on it and end its UDP flows (TCP streams
  /// already open go on), close its waiting connections; once its loops here have ended, core 0
  /// hears it (Client::forward_dropped) and frees the forward.
  void drop_forward(const OpenForward& forward);
  /// The UDP relays of -L ...:udp tunnels (tunnel::UdpRelayOwner); a relay's tag is its
  /// OpenForward.
  tunnel::UdpRelaySettings relay_settings(const OpenForward& forward) const;
  runtime::Reactor& relay_reactor() noexcept override { return reactor; }
  tunnel::Session* session_for_flow(tunnel::UdpRelay& relay) override;
  void relay_started(tunnel::UdpRelay& relay) override;
  void relay_ended(tunnel::UdpRelay& relay) override;

  tunnel::Session* pick_session() noexcept;

  /// A stream the server opens for a visitor of one of our -R ports (expose.cpp); anything
  /// else the server asks for is refused.
  void on_open_request(tunnel::Session& session, tunnel::Stream& stream,
                       const protocol::Open& request) override;
  /// What a visitor's stream connects to here: a -R port's or an ingress name's service.
  struct LocalService {
    std::string_view label;  // "expose 8080:localhost:3000", "http app", for log lines
    const std::string& host;
    std::uint16_t port;
    bool udp = false;
    ProxyProtocol proxy = ProxyProtocol::none;
  };
  runtime::Task<void> connect_local(tunnel::Session& session, tunnel::Stream& stream,
                                    LocalService service);
  void on_session_end(tunnel::Session& session, std::error_code reason) override;
  void on_peer_goaway(tunnel::Session& session, const protocol::GoAway& goaway) override;
  void on_stream_slot_free(tunnel::Session& session) override;

  /// Stops this core once it is stopping and nothing runs on it any more.
  void maybe_stopped();

  Client& client;
  runtime::Reactor& reactor;
  std::vector<std::unique_ptr<Listening>> listeners;  // stable: accept loops hold them
  std::vector<std::unique_ptr<tunnel::UdpRelay>> relays;  // UDP tunnels (outlive the sessions)
  std::vector<std::unique_ptr<Slot>> slots;
  std::unordered_map<tunnel::Session*, std::unique_ptr<tunnel::Session>> sessions;
  std::unordered_set<runtime::Cancellation*> setups;  // session set-ups in progress (cut at stop)
  std::unordered_set<int> handshaking;                // their sockets once connected
  std::deque<Waiting> waiting;
  runtime::Timer wait_timer;
  runtime::Timer drain_deadline;  // at stop: sessions still draining are closed then
  ClientTotals totals;            // of the sessions that have ended here
  unsigned tasks = 0;
  bool accepting = false;
  bool serve_scheduled = false;  // a serve_waiting is due next turn
  bool stopping = false;
  bool stopped = false;

 private:
  runtime::Task<void> keeper(Slot& slot);
  /// Connects, authenticates and starts a session for `slot` (session_setup.cpp). On `retry`,
  /// `*why` says what went wrong; on `fatal` the client has been told (Client::fatal).
  runtime::Task<Setup> connect_session(Slot& slot, std::string* why);
  /// A handshake's outcome on either transport.
  struct Handshaken {
    std::unique_ptr<tunnel::Channel> channel;
    tunnel::AuthParams params;
    std::string server_fingerprint;  ///< the identity key's, or the TLS certificate's pin
    tunnel::Leftover leftover;
  };
  /// The handshake on the client's transport over `fd`; the server's or the TLS library's
  /// words about a failure in `*detail`.
  runtime::Task<Result<Handshaken>> handshake(int fd, std::string* detail);
  /// Starts accepting on `listening` (its acceptor and loop).
  void accept_on(Listening& listening);
  runtime::Task<void> accept_loop(Listening& listening);
  void carry(net::UniqueFd connection, const OpenForward& forward);
  void serve_waiting();
  void arm_wait_timer();
  static void wait_expired(runtime::Timer& timer);
  static void drain_deadline_passed(runtime::Timer& timer);
  void detach(tunnel::Session& session, std::string why);
  /// One of `forward`'s loops here has ended; the last one reports the drop to core 0.
  void dropped_one(const OpenForward& forward);
  std::unordered_map<const OpenForward*, unsigned> dropping_;  // loops still to end
};

/// One sentence for a failed session set-up: what went wrong and what to do about it.
std::string describe_setup_failure(const std::string& server, std::error_code error,
                                   const std::string& server_message,
                                   const std::string& client_fingerprint);

/// Whether a failed set-up is worth retrying: everything but the verdicts a retry cannot
/// change (unknown key, bad token, no common version or cipher, identity changed).
bool retry_can_fix(std::error_code error) noexcept;

}  // namespace ringtunnel::client
