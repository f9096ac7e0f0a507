// SPDX-License-Identifier: MIT
// Stream: one TCP connection carried over a session, both directions, with credit windows.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/unique_fd.hpp"
#include "protocol/frame.hpp"
#include "protocol/reason.hpp"
#include "runtime/buffer_ring.hpp"
#include "runtime/cancellation.hpp"
#include "runtime/receiver.hpp"
#include "runtime/task.hpp"
#include "runtime/timer_heap.hpp"

namespace ringtunnel::tunnel {

class Session;
class Stream;

/// Where a stream goes, as the opener names it in OPEN.
struct OpenTarget {
  std::string host;
  std::uint16_t port = 0;
  std::string tunnel;  ///< the tunnel's name, for both ends' log lines
};

/// Where a UDP stream's datagrams from the peer go, and who hears of the stream's end.
/// Server: `fd` is the stream's own connected socket (`to_len` 0). Client: `fd` is the
/// tunnel's socket, shared by its flows, and `to` the application's address.
struct DatagramPath {
  int fd = -1;
  ::sockaddr_storage to{};
  ::socklen_t to_len = 0;
  /// Client: the local address the application sent to, the source of the replies (IPv4
  /// `in_pktinfo`, IPv6 `in6_pktinfo`; family AF_UNSPEC: let the kernel pick).
  int local_family = AF_UNSPEC;
  ::in_pktinfo local4{};
  ::in6_pktinfo local6{};
  /// Called once, just before the stream is destroyed, with why it ended.
  void (*released)(void* owner, Stream& stream, protocol::Reason why) = nullptr;
  void* owner = nullptr;
};

/// Why datagrams were dropped on one end (each is a counter; nothing is ever split or cut).
struct DatagramDrops {
  std::uint64_t too_large = 0;   ///< larger than the peer's max_frame
  std::uint64_t no_room = 0;     ///< no credit left on the flow, or the session's queue is full
  std::uint64_t local_send = 0;  ///< the local socket refused it (full, unreachable, too big)
  std::uint64_t total() const noexcept { return too_large + no_room + local_send; }
};

/// A receive buffer any datagram fits in, one per thread: for synchronous recv calls whose
/// datagram is copied (Stream::send_datagram) before the buffer is used again.
std::span<std::byte> datagram_receive_buffer() noexcept;
/// Datagrams a UDP socket's reader takes per readiness wake-up before it yields to the reactor
/// (the server's flow pumps and the client's relays).
inline constexpr int kDatagramsPerWake = 64;

/// Bytes a stream has handed to the session writer and that are not sealed yet: up to
/// kMaxPending DATA frames (each a view into a provided receive buffer, which the entry may
/// own) and possibly a FIN after them. The writer reads these; the stream fills them.
struct PendingFrames {
  static constexpr std::size_t kMaxPending = 4;
  struct Entry {
    runtime::Buffer owner;              ///< the buffer `bytes` lies in, if this entry is its last
    std::span<const std::byte> bytes;   ///< the DATA payload
    std::array<std::byte, protocol::kFrameHeaderSize> header{};
  };
  std::array<Entry, kMaxPending> entries;
  std::uint8_t head = 0;
  std::uint8_t count = 0;
  bool fin = false;  ///< a FIN follows the entries
  std::array<std::byte, protocol::kFrameHeaderSize> fin_frame{};

  bool empty() const noexcept { return count == 0 && !fin; }
  bool full() const noexcept { return count == kMaxPending; }
  Entry& front() noexcept { return entries[head]; }
  Entry& at(std::size_t i) noexcept { return entries[(head + i) % kMaxPending]; }
  void push(runtime::Buffer owner, std::span<const std::byte> bytes) noexcept;
  void pop() noexcept;
  void clear() noexcept;
};

/// One proxied TCP connection (or UDP flow, kind udp) inside a session: the local socket (the application's
/// connection on the client, the upstream connection on the server) and the stream state of
/// docs/protocol.md §3.
///
/// Outbound (socket → peer): a pump coroutine receives into provided buffers and hands them
/// to the session writer as DATA frames within the peer's credit; EOF becomes FIN.
/// Inbound (peer → socket): DATA is written at once with a non-blocking send straight from
/// the session's receive buffer; what the socket cannot take yet is copied to a backlog
/// that a drain coroutine writes out. Credit goes back (WINDOW) as bytes reach the socket, so
/// a slow reader only ever stalls its own stream.
///
/// UDP (kind udp, stream_datagram.cpp): each DATA frame is one datagram. Outbound datagrams
/// are copied into the session writer's datagram queue, which goes ahead of TCP DATA; one
/// that does not fit the peer's credit or max_frame is dropped and counted, never split.
/// Inbound datagrams are sent at once (non-blocking) and their credit returned; the local
/// socket refusing one drops it. There is no FIN: a flow ends with RESET.
///
/// Lifetime: owned by its Session (created and destroyed only by it); destroyed once both
/// directions are finished or it was reset, and its coroutines have ended.
/// Threads: the session's reactor only.
class Stream {
 public:
  enum class State : std::uint8_t {
    opening,    ///< we sent OPEN, waiting for OPEN_OK / OPEN_REFUSED
    accepting,  ///< the peer sent OPEN; the session's handler is connecting
    open,       ///< bytes flow
    closed,     ///< finished or reset; waiting for its coroutines to end
  };
  enum class Kind : std::uint8_t { tcp, check, udp };

  Stream(Session& session, std::uint32_t id, Kind kind, OpenTarget target,
         std::uint32_t receive_window, std::uint32_t send_credit) noexcept;
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  std::uint32_t id() const noexcept { return id_; }
  State state() const noexcept { return state_; }
  Kind kind() const noexcept { return kind_; }
  const OpenTarget& target() const noexcept { return target_; }
  /// Cancels the handler's connect when the stream goes away meanwhile (accepting state).
  runtime::Cancellation& connect_cancellation() noexcept { return connect_cancel_; }
  /// The peer's credit left for our DATA (before start(): what its OPEN granted).
  std::uint32_t send_credit() const noexcept { return send_credit_; }
  /// True once the peer reset or the session closed while the handler was connecting.
  bool abandoned() const noexcept { return abandoned_; }

  // ---- used by Session ----------------------------------------------------------------

  /// The local socket this stream carries (kept until the stream starts or is refused).
  void attach(net::UniqueFd socket) noexcept { socket_ = std::move(socket); }
  /// Opener: starts sending early data (at most protocol::kEarlyDataLimit bytes) while the
  /// peer's OPEN_OK is on its way.
  void start_early();
  /// The connection is up (OPEN_OK sent or received): bytes flow both ways within the peer's
  /// window `send_credit`, from which early data already sent is deducted. False when that
  /// window is smaller than the early data (a peer fault: flow_control).
  [[nodiscard]] bool start(std::uint32_t send_credit);
  /// Accepter, before start(): early DATA from the opener, held until the upstream is up.
  /// False past kEarlyDataLimit or the window (flow_control).
  [[nodiscard]] bool on_early_data(std::span<const std::byte> payload);
  /// Accepter, before start(): the opener's FIN, acted on once the upstream is up.
  void on_early_fin() noexcept;
  /// Peer DATA (a view into the session's receive ring, valid until its next receive): queued
  /// with the session for one sendmsg per received batch (write_batch), or kept in the backlog
  /// behind bytes the socket has not taken yet. False when the peer overran our window (a
  /// session-level flow_control violation).
  [[nodiscard]] bool on_data(std::span<const std::byte> payload);
  /// Reads from the local socket this small mark the stream as interactive (see Session).
  static constexpr std::size_t kInteractiveRead = 1024;
  /// While another stream of the session is interactive, a stream keeps at least this much
  /// and at most Session::bulk_cap in flight (sent, not yet consumed by the peer's
  /// application), so the interactive stream's bytes queue behind that much of it, not behind
  /// its whole window.
  static constexpr std::uint32_t kInteractiveInflight = 64 * 1024;
  /// The receiver returns credit in pieces of at most this much (less than
  /// kInteractiveInflight, or a capped sender would wait for credit forever).
  static constexpr std::uint32_t kCreditBatch = 16 * 1024;
  /// The credit the pump may use now: send_credit(), or less while another stream is
  /// interactive (Session::bulk_cap).
  std::uint32_t usable_credit() const noexcept;

  // ---- UDP (stream_datagram.cpp) ------------------------------------------------------

  /// Where inbound datagrams go (before start or start_early).
  void attach_datagram_path(const DatagramPath& path);
  /// One datagram from the local side: queued as one DATA frame, or dropped and counted (no
  /// credit, larger than the peer's max_frame, the queue full). Before OPEN_OK it goes as
  /// early data when it fits the early allowance, or is held (a few) until OPEN_OK.
  void send_datagram(std::span<const std::byte> datagram);
  /// When a datagram last went either way (the client expires idle flows by it).
  runtime::Clock::time_point last_active() const noexcept;
  /// Called by the Session just before it destroys the stream: tells the path's owner.
  void released() noexcept;

  /// Writes a batch of this stream's queued DATA with one sendmsg; what the socket refuses
  /// goes to the backlog. Called by the session before it receives again.
  void write_batch(std::span<::iovec> batch);
  /// Where this stream's DATA sits in the session's delivery queue (the session's business).
  std::uint32_t delivery_first = UINT32_MAX;
  std::uint32_t delivery_last = UINT32_MAX;
  /// Peer WINDOW. False when the credit would pass 2^31 - 1 (flow_control).
  [[nodiscard]] bool on_window(std::uint32_t increment);
  /// Peer FIN: no more DATA; half-close the socket once the backlog is written.
  void on_fin();
  /// Ends both directions at once (peer RESET, our error, session end). `send_reset` queues
  /// RESET(reason) for the peer. Abortive close of the socket, so the application sees it.
  /// A stream still accepting (its upstream connect in flight) is abandoned instead.
  void abort(protocol::Reason reason, bool send_reset);
  /// The peer's reply to our OPEN never came because the session ended, or the handler's
  /// connect is to be abandoned.
  void abandon() noexcept;

  /// Bytes received from the peer and not yet written to the socket.
  std::size_t backlog_bytes() const noexcept { return backlog_size_; }
  /// Credit consumed by the application and not yet returned with WINDOW.
  std::uint32_t credit_to_return() noexcept;

  /// The writer's view of what this stream has queued.
  PendingFrames& pending() noexcept { return pending_; }
  /// The writer sealed `frames` entries (and the FIN if `fin`): release them, wake the pump.
  void on_sealed(std::size_t frames, bool fin) noexcept;

  // Intrusive links of the writer's lists (data to send, credit to return); only the
  // SessionWriter touches them.
  Stream* prev_data = nullptr;
  Stream* next_data = nullptr;
  bool in_data_list = false;
  Stream* prev_window = nullptr;
  Stream* next_window = nullptr;
  bool in_window_list = false;
  // The session's list of streams with DATA queued for flush_out; only the Session touches it.
  Stream* prev_delivery = nullptr;
  Stream* next_delivery = nullptr;
  bool in_delivery_list = false;

 private:
  runtime::Task<void> pump();
  void start_pump();
  // UDP
  struct DatagramState;
  void on_datagram(std::span<const std::byte> payload);           // credit already taken
  void hold_early_datagram(std::span<const std::byte> payload);  // credit already taken
  void start_datagrams(bool accepter);
  void write_datagram(std::span<const std::byte> datagram);    // to the peer
  void deliver_datagram(std::span<const std::byte> datagram);  // to the local socket
  runtime::Task<void> datagram_pump();
  runtime::Task<void> drain();
  void consumed(std::size_t bytes);
  void local_failed(std::error_code error, const char* what);
  void drop_backlog() noexcept;
  void half_close();
  void backlog_append(std::span<const std::byte> bytes);
  void maybe_finish();
  void wake_pump() noexcept;
  void task_ended();

  struct PumpWait;  // awaiter: credit and a free pending slot, or the stream closing

  Session& session_;
  std::uint32_t id_;
  Kind kind_;
  State state_;
  OpenTarget target_;
  net::UniqueFd socket_;
  std::optional<runtime::Receiver> receiver_;
  runtime::Cancellation connect_cancel_;

  // Outbound: the peer's credit, what waits for the writer, the pump waiting for room.
  std::uint32_t send_credit_;
  std::uint32_t peer_window_ = 0;  // the window the peer granted at the start (OPEN or OPEN_OK)
  PendingFrames pending_;
  std::coroutine_handle<> pump_waiter_;
  bool out_done_ = false;  // FIN sealed (or the direction aborted)

  // Inbound: the credit we granted, consumed bytes to return, the backlog.
  std::uint32_t receive_window_;
  std::uint32_t receive_left_;
  std::uint32_t unreturned_ = 0;
  std::vector<std::byte> backlog_;    // appended to by on_data
  std::vector<std::byte> draining_;   // being written by drain()
  std::size_t backlog_size_ = 0;
  bool draining_active_ = false;
  bool fin_received_ = false;
  bool in_done_ = false;   // FIN received and everything before it written (or aborted)
  std::size_t early_received_ = 0;  // accepter: DATA bytes that came before OPEN_OK

  unsigned tasks_ = 0;     // coroutines running on this stream (pump, drain)
  bool abandoned_ = false;

  std::unique_ptr<DatagramState> udp_;  // kind udp only: a TCP stream pays one pointer
};

}  // namespace ringtunnel::tunnel
