// SPDX-License-Identifier: MIT
// ClientCore: what the client keeps on one reactor: its sessions and its share of listeners.
#pragma once

#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "client/client.hpp"
#include "runtime/acceptor.hpp"
#include "tunnel/session.hpp"

namespace ringtunnel::client {

/// One reactor's share of the client. Only that reactor's thread touches it. It is the
/// SessionHandler of its sessions (the server opening streams is refused: nothing is exposed).
struct ClientCore final : tunnel::SessionHandler {
  struct Listening {
    const OpenForward* forward;
    int fd;
    std::unique_ptr<runtime::Acceptor> acceptor;
  };

  ClientCore(Client& owner, runtime::Reactor& core) : client(owner), reactor(core) {}

  /// Connects, authenticates and starts session `index` on this core. False on failure (the
  /// client has been told: fatal).
  runtime::Task<bool> connect_session(unsigned index);
  runtime::Task<void> run_session(unsigned index);
  void start_accepting();
  runtime::Task<void> accept_loop(Listening& listening);
  tunnel::Session* pick_session() noexcept;
  void stop();
  void maybe_stopped();

  void on_open_request(tunnel::Session& session, tunnel::Stream& stream,
                       const protocol::Open& request) override;
  void on_session_end(tunnel::Session& session, std::error_code reason) override;

  Client& client;
  runtime::Reactor& reactor;
  std::vector<Listening> listeners;
  std::unordered_map<tunnel::Session*, std::unique_ptr<tunnel::Session>> sessions;
  std::unordered_set<runtime::Cancellation*> setups;  // session set-ups in progress (cut at stop)
  std::unordered_set<int> handshaking;                // their sockets once connected
  ClientTotals totals;  // of the sessions that have ended here
  unsigned tasks = 0;
  bool accepting = false;
  bool stopping = false;
  bool stopped = false;
};

/// One sentence for a failed session set-up: what went wrong and what to do about it.
std::string describe_setup_failure(const std::string& server, std::error_code error,
                                   const std::string& server_message,
                                   const std::string& client_fingerprint);

}  // namespace ringtunnel::client
