// SPDX-License-Identifier: MIT
// Session: how it ends — the writer's end, CLOSE and drain, the heartbeat, cutting the socket.
#include <sys/socket.h>

#include "observe/log.hpp"
#include "tunnel/session.hpp"
#include "tunnel/session_detail.hpp"

namespace ringtunnel::tunnel {

using protocol::Reason;
using detail::fit_str8;
using detail::kCloseFlushLimit;
using detail::reason_code;

runtime::Task<void> Session::run_writer() {
  co_await writer_.run();
  if (writer_.error() && !closing_) fail(writer_.error());
  // Everything that will ever be sent is out (or cannot be): let the reader see EOF too.
  ::shutdown(socket_.get(), SHUT_RDWR);
  writer_done_ = true;
  maybe_finished();
}

void Session::fail(std::error_code error) {
  if (closing_) return;
  end_reason_ = error;
  const Reason reason = protocol::reason_of(error);
  observe::log_warn("{}: closing: {}", name(), error.message());
  close(reason == Reason::ok ? Reason::internal_error : reason, error.message());
}

void Session::close(Reason reason, std::string_view message) {
  if (closing_) return;
  closing_ = true;
  end_streams(reason == Reason::ok ? Reason::going_away : reason);
  writer_.close(reason, fit_str8(message));
  close_deadline_.deadline = runtime::Clock::now() + kCloseFlushLimit;
  reactor_.timers().add(close_deadline_);
}

void Session::drain(Reason reason, std::string_view message) {
  if (closing_ || draining_) return;
  draining_ = true;
  drain_reason_ = reason;
  (void)writer_.control(0, protocol::GoAway{peer_ids_.last(), reason, fit_str8(message)});
  // A UDP flow never finishes by itself: it ends now (its next datagram opens a flow on the
  // client's next session).
  std::vector<Stream*> flows;
  for (auto& [id, stream] : streams_) {
    if (stream->kind() == Stream::Kind::udp) flows.push_back(stream);
  }
  for (Stream* flow : flows) flow->abort(reason, true);  // may release it, and the last may close
  if (streams_.empty() && !closing_) close(reason, message);
}

void Session::heartbeat_due(runtime::Timer& timer) {
  auto* self = static_cast<Session*>(timer.context);
  if (self->closing_) return;
  const auto now = runtime::Clock::now();
  const Heartbeat::Tick tick = self->heartbeat_.tick(now);
  if (tick.dead) {
    // The peer cannot take a CLOSE either: end at once rather than wait to flush one.
    observe::log_warn("{}: nothing heard from the peer for {:.1f} s; the connection is dead "
                      "(idle_timeout)",
                      self->name(),
                      std::chrono::duration<double>(self->config_.heartbeat.timeout).count());
    self->end_reason_ = reason_code(Reason::idle_timeout);
    self->closing_ = true;
    self->end_streams(Reason::idle_timeout);
    self->cut();
    return;
  }
  if (tick.ping) self->send_ping(*tick.ping);
  timer.deadline = now + self->heartbeat_.check_every();
  self->reactor_.timers().add(timer);
}

void Session::send_ping(std::uint64_t opaque) {
  if (writer_.control(0, protocol::Ping{opaque})) ++stats_.pings_sent;
}

void Session::cut() noexcept {
  writer_.stop();
  ::shutdown(socket_.get(), SHUT_RDWR);
}

void Session::close_deadline_passed(runtime::Timer& timer) {
  auto* self = static_cast<Session*>(timer.context);
  observe::log_warn("{}: the peer did not take the CLOSE within {} s; cutting the connection",
                    self->name(), kCloseFlushLimit.count());
  self->cut();
}

void Session::maybe_finished() {
  if (ended_ || !reader_done_ || !writer_done_ || !streams_.empty()) return;
  ended_ = true;
  reactor_.timers().remove(close_deadline_);
  reactor_.timers().remove(heartbeat_timer_);
  handler_.on_session_end(*this, end_reason_);
}

}  // namespace ringtunnel::tunnel
