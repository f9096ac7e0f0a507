// SPDX-License-Identifier: MIT
// Session: streams and their bookkeeping, the read loop and frame dispatch.
#include "tunnel/session.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "net/socket.hpp"
#include "observe/log.hpp"
#include "protocol/wire.hpp"
#include "runtime/io.hpp"
#include "tunnel/session_detail.hpp"

namespace ringtunnel::tunnel {
namespace {

using protocol::FrameType;
using protocol::Reason;
using detail::fit_str8;
using detail::kCloseFlushLimit;
using detail::reason_code;

bool is_own_stream(protocol::Role role, std::uint32_t id) noexcept {
  return id != 0 && protocol::stream_opener(id) == role;
}

protocol::Role other(protocol::Role role) noexcept {
  return role == protocol::Role::client ? protocol::Role::server : protocol::Role::client;
}

}  // namespace

/// A check_stream() waiting for the peer's verdict.
struct Session::CheckWait {
  Session& session;
  std::uint32_t id;
  std::string* message;
  std::coroutine_handle<> waiter;
  Result<void> result = reason_code(Reason::internal_error);
  bool done = false;

  bool await_ready() const noexcept { return done; }
  void await_suspend(std::coroutine_handle<> h) noexcept { waiter = h; }
  Result<void> await_resume() noexcept { return result; }

  void finish(Result<void> outcome, std::string_view text) {
    result = outcome;
    if (message) *message = std::string(text);
    done = true;
    if (waiter) session.reactor().schedule(std::exchange(waiter, nullptr));
  }
};

Result<runtime::MirroredBuffer> Session::make_receive_ring(const Channel& channel) {
  return runtime::MirroredBuffer::create(std::max<std::size_t>(1024 * 1024, 2 * channel.max_unit()));
}

Session::Session(runtime::MirroredBuffer in, net::UniqueFd socket,
                 std::unique_ptr<Channel> channel, SessionConfig config,
                 SessionHandler& handler, std::vector<std::byte> leftover)
    : reactor_(*runtime::Reactor::current()),
      socket_(std::move(socket)),
      channel_(std::move(channel)),
      config_(std::move(config)),
      handler_(handler),
      writer_(*channel_, socket_.get()),
      in_(std::move(in)),
      leftover_(std::move(leftover)),
      peer_ids_(other(config_.role)),
      heartbeat_(config_.heartbeat, runtime::Clock::now()) {
  close_deadline_.on_fire = &Session::close_deadline_passed;
  close_deadline_.context = this;
  heartbeat_timer_.on_fire = &Session::heartbeat_due;
  heartbeat_timer_.context = this;
}

Session::~Session() {
  RT_ASSERT(streams_.empty());
  reactor_.timers().remove(close_deadline_);
  reactor_.timers().remove(heartbeat_timer_);
}

void Session::start() {
  RT_ASSERT(!started_);
  started_ = true;
  (void)net::set_tcp_nodelay(socket_.get());
  runtime::spawn(read_loop());
  runtime::spawn(run_writer());
  // A first PING at once, and a few probes after it: the round trip is known from the start
  // (bulk_cap scales with it). Then the timer, whose first turn may be a probe's.
  if (auto ping = heartbeat_.ping_now(runtime::Clock::now())) send_ping(*ping);
  if (heartbeat_.check_every().count() > 0) {
    heartbeat_timer_.deadline = runtime::Clock::now() + heartbeat_.check_every();
    reactor_.timers().add(heartbeat_timer_);
  }
}

std::uint32_t Session::bulk_cap(std::uint32_t id) const noexcept {
  if (interactive_stream_ == 0 || interactive_stream_ == id) return UINT32_MAX;
  const auto min_rtt = heartbeat_.min_rtt();
  if (!min_rtt || runtime::Clock::now() >= interactive_until_) return UINT32_MAX;
  const double in_one_rtt = std::chrono::duration<double>(*min_rtt).count() * kInteractiveRate;
  if (in_one_rtt >= static_cast<double>(protocol::kMaxWindow)) return UINT32_MAX;
  return std::max(Stream::kInteractiveInflight, static_cast<std::uint32_t>(in_one_rtt));
}

bool Session::accepting_streams() const noexcept {
  return started_ && !closing_ && !peer_goaway_ && !draining_ &&
         own_open_ < config_.peer_max_streams &&
         last_own_id_ < 0xffff'fff0U;
}

std::uint32_t Session::next_stream_id() noexcept {
  // Clients open odd ids, servers even ones, strictly increasing (§3).
  const std::uint32_t first = config_.role == protocol::Role::client ? 1 : 2;
  last_own_id_ = last_own_id_ == 0 ? first : last_own_id_ + 2;
  return last_own_id_;
}

Stream* Session::open_own(Stream::Kind kind, const OpenTarget& target) {
  if (!accepting_streams()) return nullptr;
  const std::uint32_t id = next_stream_id();
  const bool udp = kind == Stream::Kind::udp;
  protocol::Open open{udp ? protocol::kOpenKindUdp : protocol::kOpenKindTcp,
                      config_.receive_window, target.port, target.host, target.tunnel};
  if (auto queued = writer_.control(id, open); !queued) {
    observe::log_warn("{}: cannot open a {} for tunnel '{}': {}", name(), udp ? "flow" : "stream",
                      target.tunnel, queued.error().message());
    return nullptr;
  }
  auto* stream = new Stream(*this, id, kind, target, config_.receive_window, 0);
  streams_.emplace(id, stream);
  ++own_open_;
  return stream;
}

bool Session::open_stream(net::UniqueFd& local, const OpenTarget& target) {
  Stream* stream = open_own(Stream::Kind::tcp, target);
  if (stream == nullptr) return false;
  stream->attach(std::move(local));
  stream->start_early();  // the first bytes go right behind the OPEN
  return true;
}

Stream* Session::open_datagram_stream(const OpenTarget& target, const DatagramPath& path) {
  Stream* stream = open_own(Stream::Kind::udp, target);
  if (stream == nullptr) return nullptr;
  stream->attach_datagram_path(path);
  stream->start_early();  // the first datagrams go right behind the OPEN
  return stream;
}

runtime::Task<Result<void>> Session::check_stream(OpenTarget target, std::string* message,
                                                  bool udp) {
  co_return co_await request(udp ? protocol::kOpenKindUdpCheck : protocol::kOpenKindTcpCheck,
                             std::move(target), message);
}

runtime::Task<Result<void>> Session::request(std::uint8_t kind, OpenTarget target,
                                             std::string* message) {
  RT_ASSERT(protocol::is_request_kind(kind));
  if (!started_ || closing_ || peer_goaway_) co_return errno_code(ECANCELED);
  const std::uint32_t id = next_stream_id();
  protocol::Open open{kind, 0, target.port, target.host, target.tunnel};
  if (auto queued = writer_.control(id, open); !queued) co_return queued.error();
  CheckWait wait{*this, id, message, {}};
  checks_.emplace(id, &wait);
  co_return co_await wait;
}

void Session::accept(Stream& stream, net::UniqueFd upstream) {
  if (stream.abandoned() || closing_) {
    release(stream);
    return;
  }
  if (stream.kind() == Stream::Kind::check) {
    (void)writer_.control(stream.id(), protocol::OpenOk{0});
    release(stream);
    return;
  }
  (void)writer_.control(stream.id(), protocol::OpenOk{config_.receive_window});
  ++(stream.kind() == Stream::Kind::udp ? stats_.flows_accepted : stats_.streams_accepted);
  stream.attach(std::move(upstream));
  (void)stream.start(stream.send_credit());  // the accepter's credit has no early part
}

void Session::refuse(Stream& stream, Reason reason, std::string_view message) {
  if (!stream.abandoned() && !closing_) {
    (void)writer_.control(stream.id(), protocol::OpenRefused{reason, fit_str8(message)});
  }
  ++stats_.streams_refused;
  release(stream);
}

void Session::queue_reset(std::uint32_t id, Reason reason) {
  if (!closing_) (void)writer_.control(id, protocol::Reset{reason});
}

void Session::buffered(std::ptrdiff_t delta) {
  buffered_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(buffered_) + delta);
}

void Session::enforce_buffer_cap() {
  while (buffered_ > config_.max_buffered) {
    Stream* largest = nullptr;
    for (auto& [id, stream] : streams_) {
      if (!largest || stream->backlog_bytes() > largest->backlog_bytes()) largest = stream;
    }
    if (!largest || largest->backlog_bytes() == 0) return;
    observe::log_warn(
        "{}: {} bytes are waiting for slow local sockets (limit {}); resetting stream {} of "
        "tunnel '{}', which holds {} of them (flow_control)",
        name(), buffered_, config_.max_buffered, largest->id(), largest->target().tunnel,
        largest->backlog_bytes());
    ++stats_.backlog_resets;
    largest->abort(Reason::flow_control, true);
  }
}

void Session::deliver_later(Stream& stream, std::span<const std::byte> bytes) {
  const auto index = static_cast<std::uint32_t>(deliveries_.size());
  deliveries_.push_back({::iovec{const_cast<std::byte*>(bytes.data()), bytes.size()}, UINT32_MAX});
  if (stream.in_delivery_list) {
    deliveries_[stream.delivery_last].next = index;
    stream.delivery_last = index;
    return;
  }
  stream.delivery_first = stream.delivery_last = index;
  stream.in_delivery_list = true;
  stream.prev_delivery = deliveries_tail_;
  stream.next_delivery = nullptr;
  (deliveries_tail_ ? deliveries_tail_->next_delivery : deliveries_head_) = &stream;
  deliveries_tail_ = &stream;
}

void Session::forget_delivery(Stream& stream) noexcept {
  if (!stream.in_delivery_list) return;
  stream.in_delivery_list = false;
  (stream.prev_delivery ? stream.prev_delivery->next_delivery : deliveries_head_) =
      stream.next_delivery;
  (stream.next_delivery ? stream.next_delivery->prev_delivery : deliveries_tail_) =
      stream.prev_delivery;
  stream.prev_delivery = stream.next_delivery = nullptr;
  stream.delivery_first = stream.delivery_last = UINT32_MAX;
}

void Session::flush_deliveries_of(Stream& stream) {
  if (!stream.in_delivery_list) return;
  std::uint32_t index = stream.delivery_first;
  forget_delivery(stream);
  // Up to 64 pieces per sendmsg (far below IOV_MAX); a longer chain takes several.
  std::array<::iovec, 64> batch;
  std::size_t count = 0;
  const std::uint32_t id = stream.id();
  for (; index != UINT32_MAX; index = deliveries_[index].next) {
    batch[count++] = deliveries_[index].bytes;
    if (count == batch.size()) {
      stream.write_batch(std::span(batch).first(count));
      count = 0;
      if (find(id) != &stream) return;  // the write failed and released the stream
    }
  }
  stream.write_batch(std::span(batch).first(count));  // may release the stream: not touched after
}

// One sendmsg per stream for everything the last receive brought it.
void Session::flush_deliveries() {
  while (deliveries_head_ != nullptr) flush_deliveries_of(*deliveries_head_);
  deliveries_.clear();
}

void Session::release(Stream& stream) noexcept {
  const std::uint32_t id = stream.id();
  if (streams_.erase(id) == 0) return;
  forget_delivery(stream);
  stream.released();
  bool slot_freed = false;
  if (stream.kind() != Stream::Kind::check) {
    if (is_own_stream(config_.role, id)) {
      slot_freed = own_open_-- == config_.peer_max_streams;
    } else {
      --peer_open_;
    }
  }
  writer_.forget(stream);
  delete &stream;
  if (slot_freed && accepting_streams()) handler_.on_stream_slot_free(*this);
  if (draining_ && streams_.empty() && !closing_) {
    close(drain_reason_, "every stream has finished");
    return;  // maybe_finished follows once the CLOSE is out
  }
  maybe_finished();
}

Stream* Session::find(std::uint32_t id) noexcept {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second;
}

bool Session::seen(std::uint32_t id) const noexcept {
  if (is_own_stream(config_.role, id)) return id <= last_own_id_;
  return peer_ids_.seen(id);
}

void Session::end_streams(Reason reason) {
  for (auto& [id, wait] : checks_) wait->finish(errno_code(ECANCELED), "the session ended");
  checks_.clear();
  std::vector<Stream*> all;
  all.reserve(streams_.size());
  for (auto& [id, stream] : streams_) all.push_back(stream);
  for (Stream* stream : all) {
    if (stream->state() == Stream::State::accepting) {
      stream->abandon();
    } else {
      stream->abort(reason, false);  // may release it: not touched again
    }
  }
}

// ---- reading ------------------------------------------------------------------------------

runtime::Task<void> Session::read_loop() {
  if (!leftover_.empty()) {
    // The handshake reads at most a few kilobytes past its end: always fits the ring.
    const std::size_t n = std::min(leftover_.size(), in_.writable().size());
    std::memcpy(in_.writable().data(), leftover_.data(), n);
    in_.commit(n);
    std::vector<std::byte>().swap(leftover_);
    heartbeat_.heard();
  }
  std::error_code error;
  while (!closing_) {
    // Every whole unit buffered, then read more.
    for (;;) {
      auto opened = channel_->open(in_.readable());
      if (!opened) {
        error = opened.error();
        break;
      }
      if (opened->consumed == 0) break;
      auto dispatched = dispatch(opened->frames);
      in_.consume(opened->consumed);
      if (!dispatched) {
        error = dispatched.error();
        break;
      }
      if (closing_) break;
    }
    // Before the ring takes new bytes, the views into it are written out.
    flush_deliveries();
    if (buffered_ > config_.max_buffered) enforce_buffer_cap();
    if (error || closing_) break;
    auto got = co_await runtime::recv(socket_.get(), in_.writable());
    if (!got) {
      error = got.error();
      break;
    }
    if (*got == 0) {
      if (!closing_) error = errno_code(ECONNRESET);  // EOF without CLOSE: truncated
      break;
    }
    in_.commit(*got);
    heartbeat_.heard();
  }
  if (error && !closing_) fail(error);
  reader_done_ = true;
  maybe_finished();
}

Result<void> Session::dispatch(std::span<std::byte> frames) {
  protocol::FrameReader reader(frames);
  for (;;) {
    auto next = reader.next();
    if (!next) return next.error();
    if (!*next) return {};
    if (auto handled = on_frame(**next); !handled) return handled;
    if (closing_) return {};
  }
}

Result<void> Session::on_frame(const protocol::FrameView& frame) {
  switch (frame.type) {
    case FrameType::open:
      return on_open(frame);
    case FrameType::open_ok:
    case FrameType::open_refused:
      return on_open_reply(frame);
    case FrameType::data:
    case FrameType::window:
    case FrameType::fin:
    case FrameType::reset:
      return on_stream_frame(frame);
    default:
      return on_session_frame(frame);
  }
}

Result<void> Session::on_open(const protocol::FrameView& frame) {
  auto open = protocol::decode_open(frame.payload);
  if (!open) return open.error();
  if (auto fresh = peer_ids_.on_open(frame.stream_id); !fresh) return fresh.error();
  const bool check = protocol::is_request_kind(open->kind);  // answered, nothing opened
  if (closing_ || peer_goaway_ || draining_) {
    return writer_.control(frame.stream_id,
                           protocol::OpenRefused{Reason::going_away, "the session is closing"});
  }
  if (!check && peer_open_ >= config_.max_peer_streams) {
    ++stats_.streams_refused;
    return writer_.control(frame.stream_id,
                           protocol::OpenRefused{Reason::too_many_streams,
                                                 "too many streams in this session"});
  }
  OpenTarget target{std::string(open->host), open->port, std::string(open->tunnel)};
  const Stream::Kind kind = check                                   ? Stream::Kind::check
                           : open->kind == protocol::kOpenKindUdp ? Stream::Kind::udp
                                                                  : Stream::Kind::tcp;
  auto* stream = new Stream(*this, frame.stream_id, kind, std::move(target),
                            config_.receive_window, open->window);
  streams_.emplace(frame.stream_id, stream);
  if (!check) ++peer_open_;
  handler_.on_open_request(*this, *stream, *open);
  return {};
}

Result<void> Session::on_open_reply(const protocol::FrameView& frame) {
  const std::uint32_t id = frame.stream_id;
  if (!is_own_stream(config_.role, id) || id > last_own_id_) {
    return reason_code(Reason::protocol_error);  // a reply to an OPEN we never sent
  }
  const bool ok = frame.type == FrameType::open_ok;
  Result<protocol::OpenOk> accepted = protocol::OpenOk{};
  Result<protocol::OpenRefused> refused = protocol::OpenRefused{};
  if (ok) {
    accepted = protocol::decode_open_ok(frame.payload);
    if (!accepted) return accepted.error();
  } else {
    refused = protocol::decode_open_refused(frame.payload);
    if (!refused) return refused.error();
  }
  if (auto check = checks_.find(id); check != checks_.end()) {
    CheckWait* wait = check->second;
    checks_.erase(check);
    if (ok) {
      wait->finish({}, {});
    } else {
      wait->finish(reason_code(refused->reason), refused->message);
    }
    return {};
  }
  Stream* stream = find(id);
  if (stream == nullptr || stream->state() == Stream::State::closed) return {};  // reset by us
  if (stream->state() != Stream::State::opening) return reason_code(Reason::protocol_error);
  if (ok) {
    ++(stream->kind() == Stream::Kind::udp ? stats_.flows_opened : stats_.streams_opened);
    // A window smaller than the early data already sent breaks §3's rule.
    if (!stream->start(accepted->window)) return reason_code(Reason::flow_control);
    return {};
  }
  ++stats_.streams_refused;
  observe::log_with(observe::LogLevel::warn,
                    observe::LogFields{.session = name(), .tunnel = stream->target().tunnel,
                                       .stream = stream->id()},
                    "tunnel '{}': {}:{} refused by the peer: {}{}{}", stream->target().tunnel,
                    stream->target().host, stream->target().port,
                    protocol::to_string(refused->reason), refused->message.empty() ? "" : ": ",
                    refused->message);
  stream->abort(refused->reason, false);
  return {};
}

Result<void> Session::on_stream_frame(const protocol::FrameView& frame) {
  const std::uint32_t id = frame.stream_id;
  if (!seen(id)) return reason_code(Reason::protocol_error);  // a stream never opened
  Stream* stream = find(id);
  // Frames for a stream this end has already reset or finished were sent before the peer
  // knew: they are dropped.
  if (stream == nullptr || stream->state() == Stream::State::closed) return {};
  const bool flowing = stream->state() == Stream::State::open;
  const bool early = stream->state() == Stream::State::accepting;  // before our OPEN_OK
  switch (frame.type) {
    case FrameType::data:
      if (early) {
        if (!stream->on_early_data(frame.payload)) return reason_code(Reason::flow_control);
        stats_.bytes_in += frame.payload.size();
        stats_.early_bytes_in += frame.payload.size();
        if (buffered_ > config_.max_buffered) enforce_buffer_cap();
        return {};
      }
      if (!flowing) return reason_code(Reason::protocol_error);
      stats_.bytes_in += frame.payload.size();
      if (!stream->on_data(frame.payload)) return reason_code(Reason::flow_control);
      if (buffered_ > config_.max_buffered) enforce_buffer_cap();
      return {};
    case FrameType::window: {
      auto window = protocol::decode_window(frame.payload);
      if (!window) return window.error();
      if (!flowing) return reason_code(Reason::protocol_error);
      if (!stream->on_window(window->increment)) return reason_code(Reason::flow_control);
      return {};
    }
    case FrameType::fin: {
      auto fin = protocol::decode_fin(frame.payload);
      if (!fin) return fin.error();
      if (stream->kind() == Stream::Kind::udp) return reason_code(Reason::protocol_error);
      if (early) {
        stream->on_early_fin();
        return {};
      }
      if (!flowing) return reason_code(Reason::protocol_error);
      stream->on_fin();
      return {};
    }
    default: {
      auto reset = protocol::decode_reset(frame.payload);
      if (!reset) return reset.error();
      ++stats_.streams_reset;
      if (stream->state() == Stream::State::accepting) {
        stream->abandon();  // the handler's answer frees it
      } else {
        stream->abort(reset->reason, false);
      }
      return {};
    }
  }
}

Result<void> Session::on_session_frame(const protocol::FrameView& frame) {
  switch (frame.type) {
    case FrameType::ping: {
      auto ping = protocol::decode_ping(frame.payload);
      if (!ping) return ping.error();
      return writer_.control(0, protocol::Pong{ping->opaque});
    }
    case FrameType::pong: {
      auto pong = protocol::decode_pong(frame.payload);
      if (!pong) return pong.error();
      if (heartbeat_.on_pong(pong->opaque, runtime::Clock::now())) ++stats_.pongs_matched;
      return {};
    }
    case FrameType::goaway: {
      auto goaway = protocol::decode_goaway(frame.payload);
      if (!goaway) return goaway.error();
      const bool first = !peer_goaway_;
      peer_goaway_ = true;
      observe::log_info("{}: the peer is going away ({}{}{}): no new streams here", name(),
                        protocol::to_string(goaway->reason), goaway->message.empty() ? "" : ": ",
                        goaway->message);
      if (first) handler_.on_peer_goaway(*this, *goaway);
      return {};
    }
    case FrameType::key_update: {
      auto update = protocol::decode_key_update(frame.payload);
      if (!update) return update.error();
      return channel_->peer_key_update();
    }
    default: {
      auto close_frame = protocol::decode_close(frame.payload);
      if (!close_frame) return close_frame.error();
      peer_closed_ = true;
      if (close_frame->reason != Reason::ok && close_frame->reason != Reason::shutting_down) {
        end_reason_ = reason_code(close_frame->reason);
      }
      observe::log_info("{}: closed by the peer: {}{}{}", name(),
                        protocol::to_string(close_frame->reason),
                        close_frame->message.empty() ? "" : ": ", close_frame->message);
      // Nothing more may be sent after the peer's CLOSE: stop the writer, end the streams.
      closing_ = true;
      end_streams(Reason::going_away);
      writer_.stop();
      ::shutdown(socket_.get(), SHUT_RDWR);
      return {};
    }
  }
}

}  // namespace ringtunnel::tunnel
