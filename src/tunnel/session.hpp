// SPDX-License-Identifier: MIT
// Session: one authenticated connection between client and server, multiplexing streams.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "net/unique_fd.hpp"
#include "protocol/frame.hpp"
#include "protocol/limits.hpp"
#include "protocol/payload.hpp"
#include "runtime/mirrored_buffer.hpp"
#include "runtime/reactor.hpp"
#include "runtime/timer_heap.hpp"
#include "runtime/task.hpp"
#include "tunnel/channel.hpp"
#include "tunnel/heartbeat.hpp"
#include "tunnel/session_writer.hpp"
#include "tunnel/stream.hpp"

namespace ringtunnel::tunnel {

/// How one end runs a session. The peer's limits come from the handshake (AuthResult).
struct SessionConfig {
  protocol::Role role = protocol::Role::client;
  std::uint32_t receive_window = protocol::kDefaultWindow;  ///< credit we grant per stream
  std::uint32_t max_peer_streams = protocol::kMaxStreams;   ///< streams the peer may hold open
  std::uint32_t peer_max_frame = protocol::kMaxFramePayload;  ///< largest DATA the peer takes
  std::uint32_t peer_max_streams = protocol::kMaxStreams;    ///< streams we may hold open
  std::size_t max_buffered = protocol::kMaxBufferedBytesPerSession;
  HeartbeatConfig heartbeat;  ///< PING schedule and dead-peer timeout (idle_timeout)
  std::string name;  ///< how log lines name this session, e.g. "session to 127.0.0.1:9000"
};

/// Counters of one session (plain integers, this reactor only).
struct SessionStats {
  std::uint64_t streams_opened = 0;    ///< TCP, by us, accepted by the peer
  std::uint64_t streams_accepted = 0;  ///< TCP, by the peer, accepted by us
  std::uint64_t flows_opened = 0;      ///< UDP flows, by us, accepted by the peer
  std::uint64_t flows_accepted = 0;    ///< UDP flows, by the peer, accepted by us
  std::uint64_t streams_refused = 0;   ///< either way
  std::uint64_t streams_reset = 0;
  std::uint64_t bytes_in = 0;          ///< DATA payload received
  std::uint64_t early_bytes_in = 0;    ///< of which before our OPEN_OK (early data, §3)
  std::uint64_t bytes_out = 0;         ///< DATA payload sent
  std::uint64_t backlog_resets = 0;    ///< streams reset by the memory cap
  std::uint64_t pings_sent = 0;
  std::uint64_t pongs_matched = 0;     ///< answers to our PINGs (each gave an RTT)
  std::uint64_t datagrams_in = 0;      ///< UDP datagrams from the peer (bytes in bytes_in)
  std::uint64_t datagrams_out = 0;     ///< UDP datagrams to the peer (bytes in bytes_out)
  DatagramDrops datagram_drops;        ///< UDP datagrams dropped on this end, by cause
};

/// ", 2 UDP flows, 12 datagrams in, 12 out, 1 dropped (1 too large)" for a session that carried UDP, else
/// empty: the tail of a session's end-of-life log line.
std::string describe_datagrams(const SessionStats& stats);

class Session;

/// The role's part of a session (server: policy and upstream connects; client: refusals).
class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  /// The peer asks for `stream` (`request` points into the received record: copy what you
  /// keep). Answer exactly once, now or later, with Session::accept or Session::refuse; the
  /// stream lives until then. If it is abandoned meanwhile (peer RESET, session end) its
  /// connect_cancellation() fires and the answer only frees it.
  virtual void on_open_request(Session& session, Stream& stream,
                               const protocol::Open& request) = 0;
  /// The session has ended and holds nothing any more: its owner may destroy it now (not
  /// from inside this call).
  virtual void on_session_end(Session& session, std::error_code reason) = 0;
  /// The peer sent GOAWAY: this session takes no new streams (those open go on). A client
  /// sets up a replacement.
  virtual void on_peer_goaway(Session& /*session*/, const protocol::GoAway& /*goaway*/) {}
  /// One of our streams ended while we had as many open as the peer allows: this session
  /// can take a new one again (a client serves connections that waited for room). Called
  /// from inside the release: do not open a stream from this call; defer it.
  virtual void on_stream_slot_free(Session& /*session*/) {}
};

/// Both ends of a session run one of these over their socket and Channel. It owns the
/// streams, reads and dispatches the peer's frames, and writes through its SessionWriter.
///
/// Errors the peer causes (bad frames, a window overrun, a failed record) close this session
/// only, with CLOSE(reason) and one log line; streams are reset; nothing else is affected.
/// Threads: created, used and destroyed on one reactor. Lifetime: after start(), destroy it
/// only once the handler's on_session_end has run.
class Session {
 public:
  /// `leftover`: bytes that arrived behind the handshake (the first records). `in` is the
  /// receive ring (at least 2 * channel->max_unit() bytes; see make_receive_ring).
  Session(runtime::MirroredBuffer in, net::UniqueFd socket, std::unique_ptr<Channel> channel, SessionConfig config,
          SessionHandler& handler, std::vector<std::byte> leftover);
  ~Session();

  /// A receive ring big enough for `channel`. Errors: as MirroredBuffer::create.
  static Result<runtime::MirroredBuffer> make_receive_ring(const Channel& channel);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Starts reading and writing.
  void start();

  /// Carries the local connection `local` to `target` on the peer's side: OPEN now, bytes once
  /// the peer's OPEN_OK arrives; a refusal is logged naming the tunnel and the reason, and the
  /// connection is closed. On success `local` is moved from. False (and `local` untouched)
  /// when this session takes no new streams (closing, GOAWAY, the peer's stream limit).
  bool open_stream(net::UniqueFd& local, const OpenTarget& target);

  /// Opens a UDP flow to `target` (OPEN kind 3): datagrams given to the stream's
  /// send_datagram go out as early data or once the peer's OPEN_OK arrives; the peer's go to
  /// `path`. A refusal or reset ends the stream (path.released hears why). Null when this
  /// session takes no new streams (as open_stream).
  Stream* open_datagram_stream(const OpenTarget& target, const DatagramPath& path);

  /// Asks the peer whether a stream (`udp`: a UDP flow) to `target` would be accepted,
  /// without connecting. Ok, or the refusal's reason with the peer's message in `*message`;
  /// ECANCELED when the session ends first.
  runtime::Task<Result<void>> check_stream(OpenTarget target, std::string* message,
                                           bool udp = false);
  /// Sends a request stream of `kind` (a check, or an exposure: protocol::is_request_kind)
  /// and waits for its answer: ok, or the refusal's reason with the peer's message in
  /// `*message`; ECANCELED when the session ends first.
  runtime::Task<Result<void>> request(std::uint8_t kind, OpenTarget target, std::string* message);

  /// Accepts a peer's stream (see SessionHandler): OPEN_OK, then bytes flow over `upstream`
  /// (for a UDP flow, a connected UDP socket). For a check stream `upstream` is empty. An abandoned stream is just freed.
  void accept(Stream& stream, net::UniqueFd upstream);
  /// Refuses a peer's stream with OPEN_REFUSED(reason, message).
  void refuse(Stream& stream, protocol::Reason reason, std::string_view message);

  /// Ends the session: CLOSE(reason, message) goes out after what is queued, every stream is
  /// reset, and on_session_end follows once everything is released.
  void close(protocol::Reason reason, std::string_view message);
  /// Ends the session gracefully: GOAWAY(reason, message) now, so the peer opens no more
  /// streams here (an OPEN that crosses it is refused, going_away); the streams already open
  /// go on, and CLOSE(reason) follows once the last has finished. UDP flows, which have no
  /// end of their own, are reset (reason) at once. close() still ends it early.
  void drain(protocol::Reason reason, std::string_view message);
  bool draining() const noexcept { return draining_; }

  /// True while new streams may be opened here.
  bool accepting_streams() const noexcept;
  std::size_t stream_count() const noexcept { return streams_.size(); }
  /// Bytes received for local sockets that have not taken them yet (capped by max_buffered).
  std::size_t buffered_bytes() const noexcept { return buffered_; }
  const SessionConfig& config() const noexcept { return config_; }
  const std::string& name() const noexcept { return config_.name; }
  SessionStats& stats() noexcept { return stats_; }
  const WriterStats& writer_stats() const noexcept { return writer_.stats(); }
  /// The latest round trip measured by PING/PONG (nullopt before the first answer).
  std::optional<std::chrono::nanoseconds> rtt() const noexcept { return heartbeat_.rtt(); }
  /// Why the session ended (empty while it runs, or after a clean CLOSE from either side).
  std::error_code end_reason() const noexcept { return end_reason_; }

  // ---- for Stream --------------------------------------------------------------------
  SessionWriter& writer() noexcept { return writer_; }
  runtime::Reactor& reactor() noexcept { return reactor_; }
  /// Queues RESET(reason) for stream `id`.
  void queue_reset(std::uint32_t id, protocol::Reason reason);
  /// Bytes buffered for slow sockets changed by `delta`; past the cap the stream holding the
  /// most is reset (flow_control).
  void buffered(std::ptrdiff_t delta);
  /// Queues DATA (a view into the receive ring) for `stream`'s socket: written, one sendmsg
  /// per stream, before the ring receives again.
  void deliver_later(Stream& stream, std::span<const std::byte> bytes);
  /// Writes what is queued for `stream` now (before its FIN is acted on).
  void flush_deliveries_of(Stream& stream);
  /// Stream (or flow) `id` carried a small piece of interactive traffic: for the next
  /// kInteractiveHold the other streams keep their bulk in flight short.
  void note_interactive(std::uint32_t id) noexcept {
    interactive_until_ = runtime::Clock::now() + kInteractiveHold;
    interactive_stream_ = id;
  }
  /// How much stream `id` may keep in flight now: no limit (UINT32_MAX) unless another stream
  /// is interactive; then what the path carries in about one round trip at kInteractiveRate,
  /// at least Stream::kInteractiveInflight. So on loopback bulk queues 64 KiB ahead of a
  /// keystroke, while across a 50 ms path it keeps its whole window (a cap there would only
  /// slow it down: the RTT, not a queue, is what the keystroke waits for). No limit either
  /// until the first PONG says what the round trip is.
  std::uint32_t bulk_cap(std::uint32_t id) const noexcept;
  static constexpr std::chrono::milliseconds kInteractiveHold{200};
  static constexpr double kInteractiveRate = 1e9;  // bytes per second
  /// Drops what is queued for `stream` (it is being reset).
  void forget_delivery(Stream& stream) noexcept;
  /// The stream has finished and its coroutines have ended: forget and destroy it. Nothing may
  /// touch the stream after this call.
  void release(Stream& stream) noexcept;

 private:
  struct CheckWait;

  runtime::Task<void> read_loop();
  runtime::Task<void> run_writer();
  Result<void> dispatch(std::span<std::byte> frames);
  Result<void> on_frame(const protocol::FrameView& frame);
  Result<void> on_open(const protocol::FrameView& frame);
  Result<void> on_open_reply(const protocol::FrameView& frame);
  Result<void> on_stream_frame(const protocol::FrameView& frame);
  Result<void> on_session_frame(const protocol::FrameView& frame);
  /// OPEN (kind tcp or udp) queued and the stream registered; null when no new stream fits.
  Stream* open_own(Stream::Kind kind, const OpenTarget& target);
  Stream* find(std::uint32_t id) noexcept;
  bool seen(std::uint32_t id) const noexcept;
  std::uint32_t next_stream_id() noexcept;
  void fail(std::error_code error);
  void end_streams(protocol::Reason reason);
  void maybe_finished();
  void flush_deliveries();
  void enforce_buffer_cap();
  static void close_deadline_passed(runtime::Timer& timer);
  static void heartbeat_due(runtime::Timer& timer);
  void send_ping(std::uint64_t opaque);
  void cut() noexcept;

  runtime::Reactor& reactor_;
  net::UniqueFd socket_;
  std::unique_ptr<Channel> channel_;
  SessionConfig config_;
  SessionHandler& handler_;
  SessionWriter writer_;
  runtime::MirroredBuffer in_;
  std::vector<std::byte> leftover_;  // handshake leftovers, moved into in_ by the reader
  std::unordered_map<std::uint32_t, Stream*> streams_;
  std::unordered_map<std::uint32_t, CheckWait*> checks_;
  // DATA views waiting for their sockets, chained per stream (Stream::delivery_first/last), and
  // the streams that have some, in arrival order: one vector per session, nothing per stream.
  struct Delivery {
    ::iovec bytes;
    std::uint32_t next;
  };
  std::vector<Delivery> deliveries_;
  Stream* deliveries_head_ = nullptr;
  Stream* deliveries_tail_ = nullptr;
  protocol::StreamIdTracker peer_ids_;
  std::uint32_t last_own_id_ = 0;
  std::uint32_t own_open_ = 0;   // our streams (opening or open) counted against the peer's limit
  std::uint32_t peer_open_ = 0;  // the peer's streams counted against ours
  std::size_t buffered_ = 0;
  runtime::Clock::time_point interactive_until_{};  // see note_interactive
  std::uint32_t interactive_stream_ = 0;
  bool started_ = false;
  bool closing_ = false;      // close() or the peer's CLOSE/GOAWAY: no new streams
  bool peer_goaway_ = false;
  bool draining_ = false;     // drain(): GOAWAY sent, CLOSE once the streams are gone
  protocol::Reason drain_reason_ = protocol::Reason::going_away;
  bool reader_done_ = false;
  bool writer_done_ = false;
  bool peer_closed_ = false;  // the peer's CLOSE arrived
  bool ended_ = false;
  runtime::Timer close_deadline_;  // bounds how long a closing session may take to flush
  Heartbeat heartbeat_;
  runtime::Timer heartbeat_timer_;
  std::error_code end_reason_;
  SessionStats stats_;
};

}  // namespace ringtunnel::tunnel
