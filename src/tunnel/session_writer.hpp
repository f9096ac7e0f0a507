// SPDX-License-Identifier: MIT
// SessionWriter: batches a session's outgoing frames into records and sends them.
#pragma once

#include <chrono>
#include <coroutine>
#include <array>
#include <cstddef>
#include <deque>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

#include "protocol/payload.hpp"
#include "runtime/reactor.hpp"
#include "runtime/result.hpp"
#include "runtime/task.hpp"
#include "tunnel/channel.hpp"

namespace ringtunnel::tunnel {

class Stream;

/// Counters of one session's writer (plain integers, read when scraped).
struct WriterStats {
  std::uint64_t records = 0;
  std::uint64_t sends = 0;
  std::uint64_t bytes_sent = 0;       ///< wire bytes
  std::uint64_t data_bytes = 0;       ///< DATA payload bytes
};

/// The one writer of a session's socket. Frames wait in four places: encoded control frames
/// (OPEN, OPEN_OK, RESET, PING ... in order), UDP datagrams (copied, in order), streams with
/// credit to return (WINDOW, encoded at flush), and streams with DATA/FIN queued (their
/// PendingFrames, sealed where they lie). When the socket is free, one flush seals as many
/// records as the output buffer holds — control first, then datagrams, then credit, then TCP
/// data round-robin across streams — and sends them in one send. Datagrams go ahead of TCP
/// data so that a UDP flow's latency does not grow with a bulk stream beside it; and while
/// datagrams wait, a flush seals only one record, so the next send is small. While
/// that send is in flight new frames accumulate, so a busy session sends large batches and an
/// idle one sends a single frame at once: batching without delay.
///
/// Order guarantees: control frames keep their order; a stream's DATA and FIN keep theirs; a
/// control frame queued before a stream's DATA is sent before it (OPEN_OK before DATA).
/// CLOSE, once queued, goes last.
/// Threads: the session's reactor only. Lifetime: owned by the Session; run() must have ended
/// before it is destroyed.
class SessionWriter {
 public:
  using Clock = Channel::Clock;

  /// Binds to the current reactor; `channel` must outlive the writer; `fd` is borrowed.
  SessionWriter(Channel& channel, int fd);

  /// Encodes a control frame for `stream_id` now. Errors: the encoder's (a caller bug).
  template <typename Payload>
  Result<void> control(std::uint32_t stream_id, const Payload& payload) {
    protocol::ByteWriter out(control_);
    auto appended = protocol::append_frame(out, stream_id, payload);
    if (appended) wake();
    return appended;
  }
  /// `stream` has credit to return: a WINDOW goes out with the next flush.
  void window(Stream& stream);
  /// `stream` queued DATA or FIN in its PendingFrames.
  void data(Stream& stream);
  /// One datagram of `stream` (a UDP flow) as one DATA frame: copied, sent ahead of TCP data.
  /// False (nothing queued) when the datagram queue already holds kMaxQueuedDatagramBytes.
  bool datagram(Stream& stream, std::span<const std::byte> bytes);
  /// What the waiting datagrams cost: their bytes plus kDatagramOverhead each (capped).
  std::size_t queued_datagram_bytes() const noexcept { return datagram_bytes_; }
  static constexpr std::size_t kMaxQueuedDatagramBytes = 4 * 1024 * 1024;
  static constexpr std::size_t kDatagramOverhead = 64;  // the entry, its frame header, malloc

  /// `stream` goes away: drop it from both lists, and its queued datagrams (its pending frames are its own to clear).
  void forget(Stream& stream) noexcept;
  /// Sends CLOSE(reason, message) after everything queued, then stops; later frames are dropped.
  void close(protocol::Reason reason, std::string_view message);
  /// Stops at once: nothing more is sent, run() ends (its send is cut by the socket's shutdown).
  void stop() noexcept;

  /// The loop: waits for frames, flushes, sends. Ends after CLOSE was sent, after stop(), or
  /// on a send/seal error (see error()).
  runtime::Task<void> run();

  /// Why run() ended early (empty after a clean CLOSE or stop()).
  std::error_code error() const noexcept { return error_; }
  bool closing() const noexcept { return closing_; }
  const WriterStats& stats() const noexcept { return stats_; }

 private:
  struct Work;  // awaiter: something to flush, or stop
  struct Record;

  bool has_work() const noexcept;
  void wake() noexcept;
  Result<std::size_t> flush(Clock::time_point now);
  Result<std::size_t> seal_record(Record& record, std::size_t used, Clock::time_point now);
  void take_control(Record& record);
  void take_datagrams(Record& record);
  void take_windows(Record& record);
  void take_data(Record& record);
  void finish_record(Record& record) noexcept;

  runtime::Reactor& reactor_;
  Channel& channel_;
  int fd_;
  std::vector<std::byte> control_;  // encoded control frames, in order
  std::size_t control_taken_ = 0;   // bytes of control_ in the record being built
  struct QueuedDatagram {
    Stream* stream;
    std::unique_ptr<std::byte[]> bytes;
    std::uint32_t size;
    std::array<std::byte, protocol::kFrameHeaderSize> header;
  };
  std::deque<QueuedDatagram> datagrams_;
  std::size_t datagram_bytes_ = 0;
  std::size_t datagrams_taken_ = 0;  // entries of datagrams_ in the record being built
  std::vector<std::byte> windows_;  // WINDOW frames of the record being built
  Stream* data_head_ = nullptr;
  Stream* data_tail_ = nullptr;
  Stream* window_head_ = nullptr;
  Stream* window_tail_ = nullptr;
  std::vector<std::byte> close_frame_;
  std::unique_ptr<std::byte[]> out_;
  std::size_t out_capacity_;
  std::vector<ConstBytes> pieces_;
  std::coroutine_handle<> waiter_;
  bool closing_ = false;
  bool close_sent_ = false;
  bool stopped_ = false;
  std::error_code error_;
  WriterStats stats_;
};

}  // namespace ringtunnel::tunnel
