// SPDX-License-Identifier: MIT
// Stream: the outbound pump, inbound writes with a backlog, credit, half-close and reset.
#include "tunnel/stream.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

#include "net/socket.hpp"
#include "observe/log.hpp"
#include "runtime/io.hpp"
#include "tunnel/datagram_state.hpp"
#include "tunnel/session.hpp"

namespace ringtunnel::tunnel {

using protocol::Reason;

// ---- PendingFrames ------------------------------------------------------------------------

void PendingFrames::push(runtime::Buffer owner, std::span<const std::byte> bytes) noexcept {
  Entry& entry = entries[(head + count) % kMaxPending];
  entry.owner = std::move(owner);
  entry.bytes = bytes;
  ++count;
}

void PendingFrames::pop() noexcept {
  Entry& entry = entries[head];
  entry.owner.release();  // the provided buffer goes back to its ring
  entry.bytes = {};
  head = static_cast<std::uint8_t>((head + 1) % kMaxPending);
  --count;
}

void PendingFrames::clear() noexcept {
  while (count > 0) pop();
  fin = false;
}

// ---- Stream -------------------------------------------------------------------------------

/// The pump waits here for the peer's credit and a free pending slot, or the stream's end.
struct Stream::PumpWait {
  Stream& stream;
  bool await_ready() const noexcept {
    return stream.state_ == State::closed ||
           (stream.usable_credit() > 0 && !stream.pending_.full());
  }
  void await_suspend(std::coroutine_handle<> h) noexcept { stream.pump_waiter_ = h; }
  void await_resume() const noexcept {}
};

Stream::Stream(Session& session, std::uint32_t id, Kind kind, OpenTarget target,
               std::uint32_t receive_window, std::uint32_t send_credit) noexcept
    : session_(session),
      id_(id),
      kind_(kind),
      state_(protocol::stream_opener(id) == session.config().role ? State::opening
                                                                   : State::accepting),
      target_(std::move(target)),
      send_credit_(send_credit),
      receive_window_(receive_window),
      receive_left_(receive_window) {
  if (kind == Kind::udp) {
    udp_ = std::make_unique<DatagramState>();
    udp_->last_active = runtime::Clock::now();
  }
}

Stream::~Stream() {
  RT_ASSERT(tasks_ == 0);
  if (backlog_size_ > 0) session_.buffered(-static_cast<std::ptrdiff_t>(backlog_size_));
}

void Stream::start_early() {
  RT_ASSERT(state_ == State::opening && !receiver_);
  send_credit_ = protocol::kEarlyDataLimit;  // early data, before OPEN_OK (protocol.md §3)
  if (!udp_) start_pump();  // a UDP flow's datagrams come from the client's tunnel socket
}

void Stream::start_pump() {
  (void)net::set_tcp_nodelay(socket_.get());
  receiver_.emplace(socket_.get());
  ++tasks_;
  runtime::spawn(pump());
}

bool Stream::start(std::uint32_t send_credit) {
  RT_ASSERT(state_ == State::opening || state_ == State::accepting);
  const bool accepter = state_ == State::accepting;
  state_ = State::open;
  peer_window_ = send_credit;
  // The opener has been sending early data (bytes or datagrams, start_early): it counts
  // against the window granted now.
  const std::uint32_t early_sent = accepter ? 0 : protocol::kEarlyDataLimit - send_credit_;
  if (send_credit < early_sent) return false;
  send_credit_ = send_credit - early_sent;
  if (udp_) {
    start_datagrams(accepter);
    return true;
  }
  if (receiver_) {
    wake_pump();  // the opener's pump, running since start_early
  } else {
    start_pump();
  }
  if (accepter && backlog_size_ > 0) {  // early data from the opener goes out first
    draining_active_ = true;
    ++tasks_;
    runtime::spawn(drain());
  } else if (accepter && fin_received_) {
    half_close();
  }
  return true;
}

bool Stream::on_early_data(std::span<const std::byte> payload) {
  RT_ASSERT(state_ == State::accepting);
  early_received_ += payload.size();
  if (early_received_ > protocol::kEarlyDataLimit || payload.size() > receive_left_) return false;
  receive_left_ -= static_cast<std::uint32_t>(payload.size());
  if (udp_) {
    hold_early_datagram(payload);
    return true;
  }
  if (fin_received_ || abandoned_) return true;  // after FIN, or for a stream given up: dropped
  // Held until the upstream connection is up (start); no socket to write to yet.
  backlog_.insert(backlog_.end(), payload.begin(), payload.end());
  backlog_size_ += payload.size();
  session_.buffered(static_cast<std::ptrdiff_t>(payload.size()));
  return true;
}

void Stream::on_early_fin() noexcept { fin_received_ = true; }

runtime::Task<void> Stream::pump() {
  for (;;) {
    auto received = co_await receiver_->receive();
    if (state_ == State::closed) break;
    if (!received) {  // the application reset its connection, or the socket failed
      local_failed(received.error(), "receive from");
      break;
    }
    runtime::Buffer buffer = std::move(received).value();
    if (buffer.empty()) {  // end of stream: FIN after what is queued
      pending_.fin = true;
      session_.writer().data(*this);
      break;
    }
    // A small read is what interactive traffic looks like (a keystroke, a request, a ping):
    // the session then keeps the other streams' bulk short (usable_credit).
    if (buffer.size() <= kInteractiveRead) session_.note_interactive(id_);
    while (!buffer.empty()) {
      co_await PumpWait{*this};
      if (state_ == State::closed) break;
      const std::size_t n = std::min<std::size_t>(
          {buffer.size(), usable_credit(), session_.config().peer_max_frame});
      send_credit_ -= static_cast<std::uint32_t>(n);
      const auto bytes = std::span<const std::byte>(buffer.bytes().first(n));
      session_.stats().bytes_out += n;
      if (n == buffer.size()) {
        pending_.push(std::move(buffer), bytes);  // the last piece owns the buffer
      } else {
        pending_.push(runtime::Buffer(), bytes);  // `buffer` outlives this entry: it is queued later
        buffer.consume(n);
      }
      session_.writer().data(*this);
    }
    if (state_ == State::closed) break;
  }
  task_ended();
}

void Stream::on_sealed(std::size_t frames, bool fin) noexcept {
  for (std::size_t i = 0; i < frames; ++i) pending_.pop();
  if (fin) {
    pending_.fin = false;
    out_done_ = true;
    maybe_finish();  // may release this stream: nothing after it
    return;
  }
  wake_pump();
}

void Stream::wake_pump() noexcept {
  if (pump_waiter_ && (state_ == State::closed || (usable_credit() > 0 && !pending_.full()))) {
    session_.reactor().schedule(std::exchange(pump_waiter_, nullptr));
  }
}

std::uint32_t Stream::usable_credit() const noexcept {
  if (state_ != State::open) return send_credit_;
  const std::uint32_t cap = session_.bulk_cap(id_);
  if (cap >= peer_window_) return send_credit_;
  // Bytes sent and not yet consumed by the peer's application: everything queued between
  // our writer and its socket, where an interactive stream's bytes would wait behind them.
  // (A peer that returns more than it was sent only raises its own credit: no wrap here.)
  const std::uint32_t in_flight = send_credit_ < peer_window_ ? peer_window_ - send_credit_ : 0;
  if (in_flight >= cap) return 0;
  return std::min(send_credit_, cap - in_flight);
}

bool Stream::on_window(std::uint32_t increment) {
  if (increment > protocol::kMaxWindow - send_credit_) return false;
  send_credit_ += increment;
  wake_pump();
  return true;
}

bool Stream::on_data(std::span<const std::byte> payload) {
  if (payload.size() > receive_left_) return false;
  receive_left_ -= static_cast<std::uint32_t>(payload.size());
  if (udp_) {
    on_datagram(payload);
    return true;
  }
  if (fin_received_) return true;  // DATA after FIN: dropped (the session checks the order)
  if (draining_active_ || backlog_size_ > 0) {
    backlog_append(payload);
    return true;
  }
  // Written straight from the session's receive ring, once per batch of received records
  // (Session::flush_deliveries): the bytes stay where they are until the next receive.
  session_.deliver_later(*this, payload);
  return true;
}

void Stream::write_batch(std::span<::iovec> batch) {
  if (state_ != State::open || batch.empty()) return;
  if (draining_active_ || backlog_size_ > 0) {  // behind bytes already waiting: in order
    for (const ::iovec& piece : batch) {
      backlog_append({static_cast<const std::byte*>(piece.iov_base), piece.iov_len});
    }
    return;
  }
  std::size_t total = 0;
  for (const ::iovec& piece : batch) total += piece.iov_len;
  ::msghdr message{};
  message.msg_iov = batch.data();
  message.msg_iovlen = batch.size();
  // One syscall, no copy, when the socket has room for the whole batch.
  const ssize_t sent = ::sendmsg(socket_.get(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
  // EAGAIN: the socket is full. ENOBUFS/ENOMEM: the kernel is short of memory for now, and
  // nothing was sent. Either way the bytes wait in the backlog for drain(); anything else
  // ends the stream.
  if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != ENOMEM) {
    local_failed(errno_code(errno), "send to");
    return;
  }
  std::size_t done = sent > 0 ? static_cast<std::size_t>(sent) : 0;
  if (done > 0) consumed(done);
  if (done == total) return;
  for (const ::iovec& piece : batch) {  // what the socket did not take, in order
    const std::size_t skip = std::min(done, piece.iov_len);
    done -= skip;
    const auto* base = static_cast<const std::byte*>(piece.iov_base);
    if (skip < piece.iov_len) backlog_append({base + skip, piece.iov_len - skip});
  }
}

void Stream::backlog_append(std::span<const std::byte> bytes) {
  backlog_.insert(backlog_.end(), bytes.begin(), bytes.end());
  backlog_size_ += bytes.size();
  session_.buffered(static_cast<std::ptrdiff_t>(bytes.size()));
  if (!draining_active_) {
    draining_active_ = true;
    ++tasks_;
    runtime::spawn(drain());
  }
}

runtime::Task<void> Stream::drain() {
  while (state_ != State::closed && !backlog_.empty()) {
    std::swap(backlog_, draining_);  // on_data appends to backlog_ while this send runs
    auto sent = co_await runtime::send_all(socket_.get(), draining_);
    if (state_ == State::closed) break;
    if (!sent) {
      local_failed(sent.error(), "send to");
      break;
    }
    const std::size_t n = draining_.size();
    draining_.clear();
    backlog_size_ -= n;
    session_.buffered(-static_cast<std::ptrdiff_t>(n));
    consumed(n);
  }
  // An idle stream keeps no backlog memory.
  std::vector<std::byte>().swap(draining_);
  if (backlog_.empty()) std::vector<std::byte>().swap(backlog_);
  draining_active_ = false;
  if (state_ == State::open && fin_received_ && !in_done_) half_close();
  task_ended();
}

void Stream::consumed(std::size_t bytes) {
  unreturned_ += static_cast<std::uint32_t>(bytes);
  // Credit goes back in batches, not per write: a quarter of the window, but at most
  // kCreditBatch, so a sender keeping kInteractiveInflight in flight is never stuck waiting
  // for credit this end holds back.
  if (unreturned_ >= std::clamp<std::uint32_t>(receive_window_ / 4, 1, kCreditBatch) &&
      !fin_received_) {
    session_.writer().window(*this);
  }
}

std::uint32_t Stream::credit_to_return() noexcept {
  if (state_ != State::open || fin_received_) return 0;
  const std::uint32_t credit = std::exchange(unreturned_, 0);
  receive_left_ += credit;
  return credit;
}

void Stream::on_fin() {
  session_.flush_deliveries_of(*this);  // what came before the FIN goes first
  if (state_ != State::open) return;
  fin_received_ = true;
  if (draining_active_ || backlog_size_ > 0) return;  // drain() half-closes when done
  half_close();
}

void Stream::half_close() {
  ::shutdown(socket_.get(), SHUT_WR);  // the peer's FIN, once everything before it is written
  in_done_ = true;
  maybe_finish();  // may release this stream: nothing after it
}

void Stream::maybe_finish() {
  if (state_ != State::open || !in_done_ || !out_done_) return;
  state_ = State::closed;
  session_.writer().forget(*this);
  if (tasks_ == 0) session_.release(*this);
}

void Stream::abort(Reason reason, bool send_reset) {
  if (state_ == State::closed) return;
  if (state_ == State::accepting) {
    // The upstream connect still holds this stream (early data made it a target of the buffer
    // cap): drop what it holds and give it up; the connect's answer frees it.
    if (send_reset && !abandoned_) session_.queue_reset(id_, reason);
    drop_backlog();
    abandon();
    return;
  }
  const bool was_flowing = state_ == State::open;
  state_ = State::closed;
  if (udp_) {
    udp_->end = reason;
    udp_->pump_cancel.cancel();
    udp_->held.clear();
  }
  if (send_reset) session_.queue_reset(id_, reason);
  session_.writer().forget(*this);
  pending_.clear();
  session_.forget_delivery(*this);
  drop_backlog();  // a send still in flight keeps `draining_` until drain() resumes
  if (socket_ && was_flowing) {
    // Abortive close: the application sees a reset, not a clean end of stream. The shutdown
    // also ends a send or receive still in flight on the socket.
    const ::linger abortive{1, 0};
    ::setsockopt(socket_.get(), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    ::shutdown(socket_.get(), SHUT_RDWR);
  }
  if (receiver_) receiver_->stop();
  if (pump_waiter_) session_.reactor().schedule(std::exchange(pump_waiter_, nullptr));
  if (tasks_ == 0) session_.release(*this);
}

void Stream::drop_backlog() noexcept {
  if (udp_) udp_->early.clear();
  session_.buffered(-static_cast<std::ptrdiff_t>(backlog_size_));
  backlog_size_ = 0;
  std::vector<std::byte>().swap(backlog_);
}

void Stream::local_failed(std::error_code error, const char* what) {
  // A reset or closed application connection is its own business (debug); anything else is
  // worth a warning. Either way the peer gets RESET and only this stream ends.
  const bool routine = error == std::errc::connection_reset || error == std::errc::broken_pipe;
  observe::log(routine ? observe::LogLevel::debug : observe::LogLevel::warn,
               "{}: tunnel '{}': stream {}: {} the local socket failed: {}; stream reset",
               session_.name(), target_.tunnel, id_, what, error.message());
  abort(Reason::stream_reset, true);
}

void Stream::abandon() noexcept {
  abandoned_ = true;
  connect_cancel_.cancel();
}

void Stream::task_ended() {
  --tasks_;
  if (tasks_ == 0 && state_ == State::closed) session_.release(*this);
}

}  // namespace ringtunnel::tunnel
