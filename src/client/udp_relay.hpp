// SPDX-License-Identifier: MIT
// UdpRelay: one UDP tunnel's socket on one core; each local source address is a flow.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>

#include "protocol/reason.hpp"
#include "runtime/cancellation.hpp"
#include "runtime/task.hpp"
#include "runtime/timer_heap.hpp"
#include "tunnel/stream.hpp"

namespace ringtunnel::client {

struct ClientCore;
struct OpenForward;

/// What the UDP relays of one core have counted (summed into ClientTotals at the end).
struct UdpRelayStats {
  std::uint64_t flows = 0;            ///< flows opened
  std::uint64_t flows_expired = 0;    ///< ended after --udp-idle-timeout without a datagram
  std::uint64_t flows_refused = 0;    ///< not opened: the tunnel already had --udp-max-flows
  std::uint64_t dropped_no_flow = 0;  ///< datagrams with no flow to carry them (no session up,
                                      ///< the flow limit, the server refusing the tunnel)
};

/// A `-L ...:udp` tunnel's socket on one core. Datagrams from a source address the relay has
/// not seen open a flow (a UDP stream, OPEN kind 3) on one of the core's sessions; later
/// datagrams from that address go on the same flow, and the server's replies go back to it
/// from this socket. A flow ends when it has carried nothing either way for the idle timeout
/// (RESET idle_timeout), when its session ends, or when the server resets it; its next
/// datagram opens a new one. The tunnel's flows on all cores together are capped
/// (OpenForward::udp_flows): a new source past the cap is dropped and counted.
///
/// While the server refuses the tunnel (policy, no route), new flows are not tried again for
/// a second, so a steady sender does not make an OPEN and a log line per datagram.
/// Threads: its core's reactor only. Lifetime: owned by its ClientCore; stop() ends its flows
/// and its loop (the core counts the loop among its tasks).
class UdpRelay {
 public:
  UdpRelay(ClientCore& core, const OpenForward& forward, int fd);
  ~UdpRelay();
  UdpRelay(const UdpRelay&) = delete;
  UdpRelay& operator=(const UdpRelay&) = delete;

  void start();
  /// Stops reading and resets every flow (reason).
  void stop(protocol::Reason reason);
  std::size_t flow_count() const noexcept { return flows_.size(); }
  const OpenForward& forward() const noexcept { return forward_; }
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
    tunnel::Stream* stream;
  };

  runtime::Task<void> run();
  static void describe_source(const ::msghdr& message, FlowKey& key, tunnel::DatagramPath& reply);
  void on_datagram(const FlowKey& from, const tunnel::DatagramPath& reply,
                   std::span<const std::byte> datagram);
  Flow* open_flow(const FlowKey& from, const tunnel::DatagramPath& reply);
  void drop_no_flow(const char* why);
  static void flow_released(void* owner, tunnel::Stream& stream, protocol::Reason why);
  static void sweep(runtime::Timer& timer);
  void arm_sweep();

  ClientCore& core_;
  const OpenForward& forward_;
  int fd_;
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

}  // namespace ringtunnel::client
