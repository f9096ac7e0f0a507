// SPDX-License-Identifier: MIT
// ClientCore: session keepers (reconnect with backoff), local accepts, waiting connections.
#include "client/client_core.hpp"

#include <sys/socket.h>

#include "observe/log.hpp"
#include "protocol/reason.hpp"
#include "runtime/cross_core.hpp"
#include "runtime/io.hpp"

namespace ringtunnel::client {
namespace {

using namespace std::chrono_literals;
using protocol::Reason;
using runtime::Task;

// Local connections waiting for a session, per core: past this the newest is closed at once
// (each holds a file descriptor; the open-files limit is shared with the streams).
constexpr std::size_t kMaxWaiting = 1024;

void deliver_session_up(runtime::Reactor&, runtime::CoreMessage& message) {
  static_cast<Client*>(message.context)->session_up(static_cast<unsigned>(message.arg));
}

// The keeper waits here while its session runs.
struct SessionEnded {
  ClientCore::Slot& slot;
  bool await_ready() const noexcept { return slot.session == nullptr; }
  void await_suspend(std::coroutine_handle<> h) noexcept { slot.keeper = h; }
  void await_resume() const noexcept {}
};

double seconds(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1000.0; }

}  // namespace

ClientCore::ClientCore(Client& owner, runtime::Reactor& core) : client(owner), reactor(core) {
  wait_timer.on_fire = &ClientCore::wait_expired;
  wait_timer.context = this;
  drain_deadline.on_fire = &ClientCore::drain_deadline_passed;
  drain_deadline.context = this;
}

ClientCore::~ClientCore() {
  reactor.timers().remove(wait_timer);
  reactor.timers().remove(drain_deadline);
}

void ClientCore::keep(unsigned index) {
  if (stopping) return;
  slots.push_back(std::make_unique<Slot>(index));
  ++tasks;
  runtime::spawn(keeper(*slots.back()));
}

Task<void> ClientCore::keeper(Slot& slot) {
  for (;;) {
    std::string why;
    const Setup setup = co_await connect_session(slot, &why);
    if (setup == Setup::stopped || setup == Setup::fatal || stopping) break;
    if (setup == Setup::up) {
      slot.backoff.reset();
      // Session 0 carries the -R ports: the server opens them for it, each time it is up.
      if (slot.index == 0 && slot.session != nullptr && (!client.options().exposes.empty() || !client.options().ingress.empty())) {
        co_await client.expose_all(*this, slot.session);
      }
      if (slot.ever_up) {
        ++totals.reconnects;
      } else {
        slot.ever_up = true;
        if (slot.index == 0) {
          co_await client.first_session_up(*this);  // tunnel checks, then the other slots
        } else if (reactor.id() == 0) {
          client.session_up(slot.index);
        } else {
          runtime::CoreMessage up;
          up.handler = &deliver_session_up;
          up.context = &client;
          up.arg = slot.index;
          reactor.post(0, std::move(up));
        }
      }
      serve_waiting();
      co_await SessionEnded{slot};
      if (stopping) break;
      why = slot.ended_because;
    }
    const auto pause = slot.backoff.next();
    observe::log_warn("session {} to {}: {}; trying again in {:.1f} s", slot.index,
                      client.server_label(), why, seconds(pause));
    if (client.options().on_retry) client.options().on_retry(why);
    (void)co_await runtime::sleep(pause, &slot.pause);
    if (stopping) break;
  }
  --tasks;
  maybe_stopped();
}

void ClientCore::start_accepting() {
  if (accepting || stopping) return;
  accepting = true;
  for (auto& listening : listeners) accept_on(*listening);
  for (auto& relay : relays) relay->start();
}

void ClientCore::accept_on(Listening& listening) {
  listening.acceptor = std::make_unique<runtime::Acceptor>(listening.fd);
  ++tasks;
  runtime::spawn(accept_loop(listening));
}

void ClientCore::add_forward(const OpenForward& forward) {
  if (stopping || reactor.id() >= forward.listeners.size()) return;
  for (const net::UniqueFd& fd : forward.listeners[reactor.id()]) {
    if (forward.spec.protocol == TransportProtocol::udp) {
      relays.push_back(
          std::make_unique<tunnel::UdpRelay>(*this, relay_settings(forward), fd.get(), &forward));
      if (accepting) relays.back()->start();
    } else {
      listeners.push_back(std::make_unique<Listening>(Listening{&forward, fd.get(), nullptr}));
      if (accepting) accept_on(*listeners.back());
    }
  }
}

void ClientCore::drop_forward(const OpenForward& forward) {
  unsigned loops = 0;
  for (auto& listening : listeners) {
    if (listening->forward != &forward) continue;
    if (listening->acceptor) {
      listening->acceptor->stop();  // its loop ends and counts itself off
      ++loops;
    }
  }
  for (auto& relay : relays) {
    if (relay->tag() != &forward) continue;
    if (relay->running()) ++loops;
    relay->stop(Reason::shutting_down);
  }
  std::erase_if(waiting, [&](const Waiting& w) { return w.forward == &forward; });
  dropping_[&forward] = loops;
  if (loops == 0) dropped_one(forward);  // nothing ran here: let go at once
}

// A loop of a dropped forward has ended; the last one frees what this core held for it.
void ClientCore::dropped_one(const OpenForward& forward) {
  auto it = dropping_.find(&forward);
  if (it == dropping_.end()) return;
  if (it->second > 0 && --it->second > 0) return;
  dropping_.erase(it);
  std::erase_if(listeners, [&](const auto& l) { return l->forward == &forward; });
  // Relays that never ran go now; one whose loop just ended was freed by relay_ended already.
  std::erase_if(relays, [&](const auto& r) { return r->tag() == &forward && !r->running(); });
  client.let_go(reactor, forward);
}

tunnel::UdpRelaySettings ClientCore::relay_settings(const OpenForward& forward) const {
  const ForwardSpec& spec = forward.spec;
  tunnel::UdpRelaySettings settings;
  settings.label = "tunnel " + spec.name();
  settings.target = {spec.target_host, spec.target_port, spec.name()};
  settings.idle_timeout = client.options().udp_idle_timeout;
  settings.max_flows = client.options().udp_max_flows;
  settings.cap_reached = "the tunnel has --udp-max-flows flows already";
  settings.flows = forward.udp_flows.get();
  return settings;
}

tunnel::Session* ClientCore::session_for_flow(tunnel::UdpRelay&) { return pick_session(); }

void ClientCore::relay_started(tunnel::UdpRelay&) { ++tasks; }

void ClientCore::relay_ended(tunnel::UdpRelay& relay) {
  const auto* forward = static_cast<const OpenForward*>(relay.tag());
  // Dropped by a reload: free it now (when the core stops, it frees its relays at the end).
  if (dropping_.count(forward)) {
    ++tasks;
    runtime::spawn([](ClientCore& core, tunnel::UdpRelay* ended,
                      const OpenForward* fwd) -> Task<void> {
      co_await runtime::next_turn();  // the relay's loop is still unwinding
      std::erase_if(core.relays, [&](const auto& r) { return r.get() == ended; });
      core.dropped_one(*fwd);
      --core.tasks;
      core.maybe_stopped();
    }(*this, &relay, forward));
  }
  --tasks;  // the relay's loop
  maybe_stopped();
}

tunnel::Session* ClientCore::pick_session() noexcept {
  tunnel::Session* best = nullptr;
  for (auto& [raw, owned] : sessions) {
    if (!raw->accepting_streams()) continue;
    if (best == nullptr || raw->stream_count() < best->stream_count()) best = raw;
  }
  return best;
}

Task<void> ClientCore::accept_loop(Listening& listening) {
  while (!stopping) {
    auto connection = co_await listening.acceptor->accept();
    if (!connection) {
      if (connection.error() == std::errc::operation_canceled) break;
      observe::log_warn("tunnel {}: accept: {}", listening.forward->spec.name(),
                        connection.error().message());
      co_await runtime::sleep(50ms);
      continue;
    }
    carry(std::move(*connection), *listening.forward);
  }
  listening.acceptor.reset();
  // Stop listening (Linux: shutdown on a listening socket ends it): connects made while the
  // client drains, or to a tunnel a reload removed, are refused rather than queued for nobody.
  ::shutdown(listening.fd, SHUT_RDWR);
  const OpenForward& forward = *listening.forward;
  --tasks;
  dropped_one(forward);  // may free `listening`: not touched after this
  maybe_stopped();
}

void ClientCore::carry(net::UniqueFd connection, const OpenForward& forward) {
  const ForwardSpec& spec = forward.spec;
  if (waiting.empty()) {  // in order: behind connections already waiting
    if (tunnel::Session* session = pick_session()) {
      const tunnel::OpenTarget target{spec.target_host, spec.target_port, spec.name()};
      if (session->open_stream(connection, target)) return;
    }
  }
  if (waiting.size() >= kMaxWaiting) {
    observe::log_warn("tunnel {}: {} connections already wait for a session to the server; "
                      "connection closed",
                      spec.name(), waiting.size());
    return;
  }
  waiting.push_back({std::move(connection), &forward,
                     runtime::Clock::now() + client.options().connect_wait});
  arm_wait_timer();
}

void ClientCore::serve_waiting() {
  while (!waiting.empty()) {
    tunnel::Session* session = pick_session();
    if (session == nullptr) break;
    Waiting& next = waiting.front();
    const ForwardSpec& spec = next.forward->spec;
    const tunnel::OpenTarget target{spec.target_host, spec.target_port, spec.name()};
    if (!session->open_stream(next.fd, target)) break;
    waiting.pop_front();
  }
  if (waiting.empty()) reactor.timers().remove(wait_timer);
}

void ClientCore::arm_wait_timer() {
  if (wait_timer.armed() || waiting.empty()) return;
  wait_timer.deadline = waiting.front().deadline;
  reactor.timers().add(wait_timer);
}

void ClientCore::wait_expired(runtime::Timer& timer) {
  auto* self = static_cast<ClientCore*>(timer.context);
  const auto now = runtime::Clock::now();
  while (!self->waiting.empty() && self->waiting.front().deadline <= now) {
    observe::log_warn("tunnel {}: no session to the server came up within --connect-wait {:.1f} "
                      "s; connection closed",
                      self->waiting.front().forward->spec.name(),
                      seconds(self->client.options().connect_wait));
    self->waiting.pop_front();
  }
  self->arm_wait_timer();
}

void ClientCore::on_session_end(tunnel::Session& session, std::error_code reason) {
  const auto& stats = session.stats();
  ++totals.sessions;
  totals.streams += stats.streams_opened;
  totals.visitors += stats.streams_accepted + stats.flows_accepted;
  totals.streams_refused += stats.streams_refused;
  totals.bytes_out += stats.bytes_out;
  totals.bytes_in += stats.bytes_in;
  totals.datagrams_out += stats.datagrams_out;
  totals.datagrams_in += stats.datagrams_in;
  totals.datagrams_dropped += stats.datagram_drops.total();
  detach(session, reason ? "lost: " + reason.message() : "closed by the server");
  ++tasks;
  runtime::spawn([](ClientCore& core, tunnel::Session* done) -> Task<void> {
    co_await runtime::next_turn();  // the session is still on the stack that called us
    core.sessions.erase(done);
    --core.tasks;
    core.maybe_stopped();
  }(*this, &session));
}

// The slot's keeper sets up a new session; `session` (gone or going away) is no longer its.
void ClientCore::detach(tunnel::Session& session, std::string why) {
  for (auto& slot : slots) {
    if (slot->session != &session) continue;
    slot->session = nullptr;
    slot->ended_because = std::move(why);
    if (slot->keeper) reactor.schedule(std::exchange(slot->keeper, nullptr));
  }
}

void ClientCore::on_peer_goaway(tunnel::Session& session, const protocol::GoAway& goaway) {
  // Its open streams finish on it; new connections wait for the replacement.
  detach(session, std::string("the server is going away (") + protocol::to_string(goaway.reason) +
                      (goaway.message.empty() ? "" : ": ") + std::string(goaway.message) + ")");
}

// At the server's stream limit, new local connections wait; each stream that ends makes room.
void ClientCore::on_stream_slot_free(tunnel::Session&) {
  if (waiting.empty() || serve_scheduled || stopping) return;
  serve_scheduled = true;
  ++tasks;
  runtime::spawn([](ClientCore& core) -> Task<void> {
    co_await runtime::next_turn();  // the stream is still being released below us
    core.serve_scheduled = false;
    if (!core.stopping) core.serve_waiting();
    --core.tasks;
    core.maybe_stopped();
  }(*this));
}

void ClientCore::stop() {
  if (stopping) return;
  stopping = true;
  for (auto& listening : listeners) {
    if (listening->acceptor) listening->acceptor->stop();
  }
  for (auto& relay : relays) relay->stop(Reason::shutting_down);  // flows have no drain
  for (runtime::Cancellation* cancel : setups) cancel->cancel();
  for (int fd : handshaking) ::shutdown(fd, SHUT_RDWR);
  for (auto& slot : slots) slot->pause.cancel();
  waiting.clear();
  reactor.timers().remove(wait_timer);
  // Open streams finish (up to --drain-timeout); each session closes once it has none.
  std::size_t streams = 0;
  std::vector<tunnel::Session*> all;
  for (auto& [raw, owned] : sessions) {
    streams += raw->stream_count();
    all.push_back(raw);
  }
  if (streams > 0) {
    observe::log_info("core {}: {} stream(s) still open; draining for up to {:.1f} s",
                      reactor.id(), streams, seconds(client.options().drain_timeout));
    drain_deadline.deadline = runtime::Clock::now() + client.options().drain_timeout;
    reactor.timers().add(drain_deadline);
  }
  for (tunnel::Session* raw : all) raw->drain(Reason::shutting_down, "the client is stopping");
  maybe_stopped();
}

void ClientCore::drain_deadline_passed(runtime::Timer& timer) {
  auto* self = static_cast<ClientCore*>(timer.context);
  for (auto& [raw, owned] : self->sessions) {
    if (raw->stream_count() > 0) {
      observe::log_warn("{}: the drain timeout passed with {} stream(s) open; closing", raw->name(),
                        raw->stream_count());
    }
    raw->close(Reason::shutting_down, "the client is stopping (drain timeout)");
  }
}

void ClientCore::maybe_stopped() {
  if (!stopping || stopped || tasks > 0 || !sessions.empty()) return;
  reactor.timers().remove(drain_deadline);
  stopped = true;
  reactor.request_stop();
}

}  // namespace ringtunnel::client
