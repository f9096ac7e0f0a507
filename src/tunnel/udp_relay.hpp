// SPDX-License-Identifier: MIT
// UdpRelay: one UDP tunnel's socket on one core; each local source address is a flow.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "protocol/reason.hpp"
#include "runtime/cancellation.hpp"
#include "runtime/task.hpp"
#include "runtime/timer_heap.hpp"
#include "tunnel/stream.hpp"

namespace ringtunnel::tunnel {

class Session;
class UdpRelay;

/// What the UDP relays of one core have counted (summed into the owner's totals at the end).
struct UdpRelayStats {
  std::uint64_t flows = 0;            ///< flows opened
  std::uint64_t flows_expired = 0;    ///< ended after the idle timeout without a datagram
  std::uint64_t flows_refused = 0;    ///< not opened: the tunnel already had its most flows
  std::uint64_t dropped_no_flow = 0;  ///< datagrams with no flow to carry them (no session up,
                                      ///< the flow limit, the peer refusing the tunnel)
};

/// What one UDP tunnel's relays share, on every core: how they are named, what each flow's
/// OPEN asks for, and the flow limits. Each relay keeps a copy; `flows` points to the one
/// count they share.
struct UdpRelaySettings {
  std::string label;       ///< how log lines name the tunnel: "tunnel 5353:localhost:53:udp"
  OpenTarget target;       ///< what each flow's OPEN names
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  std::uint32_t max_flows = 1024;  ///< the tunnel's flows on all cores together
  std::string cap_reached;         ///< why a source past max_flows is dropped, for the log
  /// The tunnel's flows on all cores (shared by its relays, counted against max_flows).
  std::atomic<std::uint32_t>* flows = nullptr;
  /// Each flow's OPEN names its source in `host` as "VISITOR PUBLIC_ADDRESS" (a server's
  /// exposure) instead of target.host (a client's forward).
  bool name_visitor = false;
};

/// Who runs a relay: the client for `-L ...:udp` (local applications send), the server for
/// `-R ...:udp` (visitors send). Called on the relay's reactor only.
class UdpRelayOwner {
 public:
  virtual ~UdpRelayOwner() = default;
  virtual runtime::Reactor& relay_reactor() noexcept = 0;
  /// The session a new flow of `relay` goes on, or null when none takes flows now.
  virtual Session* session_for_flow(UdpRelay& relay) = 0;
  /// `relay`'s loop starts: the owner counts it among what runs on the core.
  virtual void relay_started(UdpRelay& relay) = 0;
  /// `relay`'s loop has ended (stopped): the last call the relay makes. The owner may
  /// destroy it from the next turn on.
  virtual void relay_ended(UdpRelay& relay) = 0;
};

class UdpRelay {
 public:
  /// `tag` is the owner's, for telling its relays apart; `fd` (not owned) outlives the relay.
  UdpRelay(UdpRelayOwner& owner, UdpRelaySettings settings, int fd, const void* tag = nullptr);
  ~UdpRelay();
  UdpRelay(const UdpRelay&) = delete;
  UdpRelay& operator=(const UdpRelay&) = delete;

  void start();
  /// Stops reading and resets every flow (reason).
  void stop(protocol::Reason reason);
  std::size_t flow_count() const noexcept { return flows_.size(); }
  const UdpRelaySettings& settings() const noexcept { return settings_; }
  const void* tag() const noexcept { return tag_; }
  bool running() const noexcept { return running_ && !loop_ended_; }
  const UdpRelayStats& stats() const noexcept { return stats_; }

 private:
  // A source address as the kernel gave it (sockaddr_in or sockaddr_in6 bytes), followed by
  // the local address it was sent to (4 or 16 bytes): one flow per pair.
  struct FlowKey {
    std::array<std::byte, sizeof(::sockaddr_in6) + 16> bytes{};
    std::uint8_t length = 0;
    std::string_view view() const noexcept {
      return {reinterpret_cast<const char*>(bytes.data()), length};
    }
    friend bool operator==(const FlowKey& a, const FlowKey& b) noexcept {
      return a.view() == b.view();
    }
  };
  struct FlowKeyHash {
    std::size_t operator()(const FlowKey& key) const noexcept {
      return std::hash<std::string_view>{}(key.view());
    }
  };
  struct Flow {
    UdpRelay* relay;
    FlowKey key;
    Stream* stream;
  };

  runtime::Task<void> run();
  static void describe_source(const ::msghdr& message, FlowKey& key, DatagramPath& reply);
  void on_datagram(const FlowKey& from, const DatagramPath& reply,
                   std::span<const std::byte> datagram);
  Flow* open_flow(const FlowKey& from, const DatagramPath& reply);
  OpenTarget target_of(const DatagramPath& reply) const;
  void drop_no_flow(const char* why);
  static void flow_released(void* owner, Stream& stream, protocol::Reason why);
  static void sweep(runtime::Timer& timer);
  void arm_sweep();

  UdpRelayOwner& owner_;
  const UdpRelaySettings settings_;
  int fd_;
  const void* tag_;
  std::unordered_map<FlowKey, std::unique_ptr<Flow>, FlowKeyHash> flows_;
  runtime::Cancellation stop_;
  runtime::Timer sweep_timer_;
  runtime::Clock::time_point refused_until_{};  // no new flows before this (server refusal)
  runtime::Clock::time_point next_drop_log_{};  // drops are logged at most every few seconds
  UdpRelayStats stats_;
  bool running_ = false;
  bool stopping_ = false;
  bool loop_ended_ = false;
};

}  // namespace ringtunnel::tunnel
