// SPDX-License-Identifier: MIT
// Server: per-core listeners, the accept-to-session path, stopping core 0 last.
#include "server/server.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <functional>

#include "crypto/fingerprint.hpp"
#include "net/socket.hpp"
#include "observe/log.hpp"
#include "protocol/handshake.hpp"
#include "protocol/payload.hpp"
#include "runtime/cross_core.hpp"
#include "runtime/io.hpp"
#include "server/server_core.hpp"

namespace ringtunnel::server {
namespace {

using namespace std::chrono_literals;
using protocol::Reason;
using runtime::Task;
using Clock = std::chrono::steady_clock;

void deliver_session_ended(runtime::Reactor&, runtime::CoreMessage& message) {
  auto* server = static_cast<Server*>(message.context);
  crypto::PublicKey key{};
  std::copy(message.bytes.begin(), message.bytes.end(), key.begin());
  server->admission().session_ended(key);
}

void deliver_revoke(runtime::Reactor& core, runtime::CoreMessage& message) {
  auto* server = static_cast<Server*>(message.context);
  crypto::PublicKey key{};
  std::copy(message.bytes.begin(), message.bytes.end(), key.begin());
  if (ServerCore* here = server->core(core.id())) here->revoke(key);
}

void deliver_policy(runtime::Reactor& core, runtime::CoreMessage& message) {
  // arg: a std::shared_ptr<const Policy> made for this core by core 0, owned from here.
  std::unique_ptr<std::shared_ptr<const Policy>> policy(
      reinterpret_cast<std::shared_ptr<const Policy>*>(message.arg));
  if (ServerCore* here = static_cast<Server*>(message.context)->core(core.id())) {
    here->policy = std::move(*policy);
  }
}

void deliver_core_stopped(runtime::Reactor& core0, runtime::CoreMessage& message) {
  static_cast<Server*>(message.context)->core_stopped(core0);
}

}  // namespace

// ---- Server -------------------------------------------------------------------------------

Server::Server(ServerOptions options, crypto::Ed25519PrivateKey identity,
               crypto::AuthorizedKeys keys, unsigned reactors, net::Resolver& resolver)
    : options_(std::move(options)),
      identity_(std::move(identity)),
      resolver_(resolver),
      admission_(std::move(keys), options_.admission),
      names_(options_.reserved_names),
      cores_(reactors) {}

Server::~Server() = default;

Result<void> Server::start_on(runtime::Reactor& reactor) {
  auto listener = net::listen_tcp(options_.listen, net::ReusePort::yes);
  if (!listener) return listener.error();
  auto core = std::make_unique<ServerCore>(*this, reactor);
  core->listener = std::move(*listener);
  core->acceptor = std::make_unique<runtime::Acceptor>(core->listener.get());
  ServerCore& ref = *core;
  cores_[reactor.id()] = std::move(core);
  ++ref.tasks;
  runtime::spawn(ref.accept_loop());
  // The ingress listens on every core too; whichever accepts routes to the name's core.
  if (auto ingress = ref.start_ingress(); !ingress) {
    failed_listener_.store(ref.ingress_listeners.size() == 0 && options_.http_bind ? 1 : 2);
    ref.stop();
    return ingress.error();
  }
  return {};
}

std::string Server::failed_address() const {
  switch (failed_listener_.load()) {
    case 1:
      return options_.http_bind->to_string() + " (--http-bind)";
    case 2:
      return options_.https_bind->to_string() + " (--https-bind)";
    default:
      return options_.listen.to_string();
  }
}

void Server::stop_on(runtime::Reactor& reactor) {
  ServerCore* core = cores_[reactor.id()].get();
  if (core == nullptr) {  // never started on this reactor
    if (reactor.id() != kAdmissionCore) {
      runtime::CoreMessage done;
      done.handler = &deliver_core_stopped;
      done.context = this;
      reactor.post(kAdmissionCore, std::move(done));
    }
    reactor.request_stop();
    return;
  }
  core->stop();
}

void Server::reload_on(runtime::Reactor& reactor) {
  if (reactor.id() != kAdmissionCore || reloading_) return;
  ServerCore* core0 = cores_[kAdmissionCore].get();
  if (core0 == nullptr || core0->stopping) return;
  reloading_ = true;
  ++core0->tasks;
  runtime::spawn(reload());
}

Task<void> Server::reload() {
  ServerCore& core0 = *cores_[kAdmissionCore];
  struct Loaded {
    Result<crypto::AuthorizedKeys> keys = errno_code(EIO);
    std::string error;
    std::optional<config::ServerSettings> settings;
    std::string settings_error;
  };
  const std::string path = admission_.authorized().path();
  const std::string config_path = options_.policy_flags.config_path;
  Loaded loaded = co_await runtime::run_blocking([&] {
    Loaded l;
    l.keys = crypto::AuthorizedKeys::load(path, &l.error);
    if (!config_path.empty()) l.settings = config::load_server_settings(config_path, &l.settings_error);
    return l;
  });
  if (!config_path.empty()) reload_policy(loaded.settings, loaded.settings_error);
  if (!loaded.keys) {
    observe::log_error("reload: {}; keeping the {} key(s) loaded before", loaded.error,
                       admission_.authorized().size());
  } else {
    const std::size_t before = admission_.authorized().size();
    const std::size_t now = loaded.keys->size();
    const auto revoked = admission_.replace_keys(std::move(loaded.keys).value());
    observe::log_info("reload: {} authorized key(s) (was {}); {} connected client(s) no longer "
                      "listed",
                      now, before, revoked.size());
    for (const crypto::PublicKey& key : revoked) {
      runtime::post_to_every_core(core0.reactor, static_cast<unsigned>(cores_.size()), [&] {
        runtime::CoreMessage revoke;
        revoke.handler = &deliver_revoke;
        revoke.context = this;
        revoke.bytes.assign(key.begin(), key.end());
        return revoke;
      });
    }
  }
  reloading_ = false;
  --core0.tasks;
  core0.maybe_stopped();
}

void Server::reload_policy(const std::optional<config::ServerSettings>& settings,
                           const std::string& settings_error) {
  ServerCore& core0 = *cores_[kAdmissionCore];
  std::string error = settings_error;
  std::optional<EffectivePolicy> effective;
  if (settings) {
    for (const std::string& warning : settings->warnings) observe::log_warn("reload: {}", warning);
    effective = effective_policy(options_.policy_flags, *settings, &error);
  }
  if (!effective) {
    observe::log_error("reload: {}; the policy stays as it was ({}; at most {} clients)", error,
                       core0.policy->to_string(), admission_.max_clients());
    return;
  }
  const std::string before = core0.policy->to_string();
  const unsigned max_before = admission_.max_clients();
  auto policy = std::make_shared<const Policy>(std::move(effective->policy));
  admission_.set_max_clients(effective->max_clients);
  runtime::post_to_every_core(core0.reactor, static_cast<unsigned>(cores_.size()), [&] {
    runtime::CoreMessage update;
    update.handler = &deliver_policy;
    update.context = this;
    update.arg = reinterpret_cast<std::uint64_t>(new std::shared_ptr<const Policy>(policy));
    return update;
  });
  observe::log_info("reload: server policy: {}; at most {} clients (was: {}; at most {}); "
                    "connected clients keep their sessions",
                    policy->to_string(), effective->max_clients, before, max_before);
}

void Server::core_stopped(runtime::Reactor& core0) {
  ++cores_stopped_;
  ServerCore* core = cores_[kAdmissionCore].get();
  if (core) {
    core->maybe_stopped();
  } else if (cores_stopped_ + 1 >= cores_.size()) {
    core0.request_stop();
  }
}

ServerTotals Server::totals() const {
  ServerTotals sum;
  for (const auto& core : cores_) {
    if (!core) continue;
    const ServerTotals& t = core->totals;
    sum.connections += t.connections;
    sum.sessions += t.sessions;
    sum.handshake_failures += t.handshake_failures;
    sum.refused_at_accept += t.refused_at_accept;
    sum.streams += t.streams;
    sum.streams_refused += t.streams_refused;
    sum.bytes_in += t.bytes_in;
    sum.bytes_out += t.bytes_out;
    sum.flows += t.flows;
    sum.datagrams_in += t.datagrams_in;
    sum.datagrams_out += t.datagrams_out;
    sum.datagrams_dropped += t.datagrams_dropped;
    sum.exposures += t.exposures;
    sum.exposures_refused += t.exposures_refused;
    sum.ingress_connections += t.ingress_connections;
    sum.ingress_requests += t.ingress_requests;
    sum.ingress_errors += t.ingress_errors;
    sum.visitors += t.visitors;
  }
  return sum;
}

observe::LiveStatus Server::snapshot_core(runtime::Reactor& reactor) const {
  observe::LiveStatus part;
  const ServerCore* core = cores_[reactor.id()].get();
  if (core == nullptr) return part;
  part.state = core->stopping ? "draining" : "running";
  part.sessions_total = core->totals.sessions;
  part.streams_total = core->totals.streams + core->totals.flows;
  part.bytes_in = core->totals.bytes_in;
  part.bytes_out = core->totals.bytes_out;
  const auto now = Clock::now();
  for (const auto& [session, live] : core->sessions) {
    const tunnel::SessionStats& stats = session->stats();
    observe::LiveSession entry;
    entry.name = session->name();
    entry.core = reactor.id();
    entry.uptime_seconds = std::chrono::duration<double>(now - live.since).count();
    if (auto rtt = session->rtt()) entry.rtt_ms = std::chrono::duration<double, std::milli>(*rtt).count();
    entry.streams_open = session->stream_count();
    entry.bytes_in = stats.bytes_in;
    entry.bytes_out = stats.bytes_out;
    part.bytes_in += stats.bytes_in;
    part.bytes_out += stats.bytes_out;
    part.sessions.push_back(std::move(entry));
  }
  return part;
}

// ---- sessions and their streams -----------------------------------------------------------

void ServerCore::on_open_request(tunnel::Session& session, tunnel::Stream& stream,
                                 const protocol::Open& request) {
  if (protocol::is_expose_kind(request.kind)) {
    ++tasks;
    runtime::spawn([](ServerCore& core, tunnel::Session& s, tunnel::Stream& st,
                      std::uint8_t kind) -> Task<void> {
      co_await core.expose(s, st, kind);
      --core.tasks;
      core.maybe_stopped();
    }(*this, session, stream, request.kind));
    return;
  }
  const Decision decision = policy->check(request.host, request.port);
  if (!decision) {
    ++totals.streams_refused;
    const Reason reason = decision.refusal == Decision::Refusal::port_not_allowed
                              ? Reason::port_not_allowed
                              : Reason::host_not_allowed;
    observe::log_with(observe::LogLevel::warn, fields_of(session, &stream),
                      "{}: tunnel '{}': refused: {}: {}", session.name(), stream.target().tunnel,
                      protocol::to_string(reason), decision.reason);
    session.refuse(stream, reason, decision.reason);
    return;
  }
  if (protocol::is_check_kind(request.kind)) {
    session.accept(stream, {});
    return;
  }
  ++tasks;
  runtime::spawn(connect_target(session, stream));
}

Task<void> ServerCore::connect_target(tunnel::Session& session, tunnel::Stream& stream) {
  // Both stay valid until answered: a stream waiting for its answer holds its session open.
  const tunnel::OpenTarget target = stream.target();
  const std::shared_ptr<const Policy> checked_by = policy;  // the one its OPEN passed
  runtime::OpOptions options{.timeout = server.options().connect_timeout,
                             .cancellation = &stream.connect_cancellation()};
  auto addresses = co_await server.resolver().resolve(target.host, target.port, options);
  std::vector<net::SocketAddress> allowed;
  if (addresses) {
    for (const auto& address : *addresses) {
      if (checked_by->hosts.allows_address(target.host, address)) {
        allowed.push_back(address);
      }
    }
  }
  Reason reason = Reason::ok;
  std::string message;
  if (!addresses) {
    reason = Reason::connect_failed;
    message = net::resolve_error_text(target.host, addresses.error());
  } else if (allowed.empty()) {
    reason = Reason::host_not_allowed;
    message = "host '" + target.host + "' resolves only to addresses this server may not reach";
  } else if (stream.kind() == tunnel::Stream::Kind::udp) {
    // Connecting a UDP socket sends nothing: the first address allowed is the flow's target.
    auto flow = net::connect_udp(allowed.front());
    if (flow) {
      ++totals.flows;
      session.accept(stream, std::move(*flow));
    } else {
      reason = Reason::connect_failed;
      message = "UDP to " + allowed.front().to_string() + " failed: " + flow.error().message();
    }
  } else {
    auto connected = co_await net::connect_first(std::move(allowed), options);
    if (connected) {
      ++totals.streams;
      if (observe::log_enabled(observe::LogLevel::debug)) {  // to_string costs per stream
        observe::log_debug("{}: tunnel '{}': connected to {}", session.name(), target.tunnel,
                           connected->second.to_string());
      }
      session.accept(stream, std::move(connected->first));
    } else {
      reason = connected.error() == std::errc::connection_refused ? Reason::connect_refused
                                                                  : Reason::connect_failed;
      message = "connect to " + target.host + ":" + std::to_string(target.port) +
                " failed: " + connected.error().message();
    }
  }
  if (reason != Reason::ok) {
    ++totals.streams_refused;
    if (!stream.abandoned()) {
      observe::log_with(observe::LogLevel::warn, fields_of(session, &stream), "{}: tunnel '{}': {}",
                        session.name(), target.tunnel, message);
    }
    session.refuse(stream, reason, message);
  }
  --tasks;
  maybe_stopped();
}

observe::LogFields ServerCore::fields_of(tunnel::Session& session,
                                        const tunnel::Stream* stream) const {
  observe::LogFields fields{.session = session.name()};
  if (auto it = sessions.find(&session); it != sessions.end()) fields.client = it->second.fingerprint;
  if (stream != nullptr) {
    fields.tunnel = stream->target().tunnel;
    fields.stream = stream->id();
  }
  return fields;
}

void ServerCore::on_session_end(tunnel::Session& session, std::error_code reason) {
  auto it = sessions.find(&session);
  if (it == sessions.end()) return;
  const auto& stats = session.stats();
  totals.bytes_in += stats.bytes_in;
  totals.bytes_out += stats.bytes_out;
  totals.datagrams_in += stats.datagrams_in;
  totals.datagrams_out += stats.datagrams_out;
  totals.datagrams_dropped += stats.datagram_drops.total();
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - it->second.since).count();
  observe::log_with(observe::LogLevel::info, fields_of(session),
                    "{} disconnected{}{} after {} s ({} streams, {} bytes in, {} bytes out{})",
                    session.name(), reason ? ": " : "", reason ? reason.message() : "", seconds,
                    stats.streams_accepted + stats.streams_opened, stats.bytes_in, stats.bytes_out,
                    describe_datagrams(stats));
  drop_exposures_of(session, "its session ended");
  release_client(it->second.key);
  // Destroyed on the next turn: the session is still on the stack that called us.
  ++tasks;
  runtime::spawn([](ServerCore& core, tunnel::Session* done) -> Task<void> {
    co_await runtime::next_turn();
    core.sessions.erase(done);
    --core.tasks;
    core.maybe_stopped();
  }(*this, &session));
}

void ServerCore::release_client(const crypto::PublicKey& key) {
  // Fire and forget: nothing here waits for core 0, so a stopping core 0 cannot hold it up.
  runtime::CoreMessage ended;
  ended.handler = &deliver_session_ended;
  ended.context = &server;
  ended.bytes.assign(key.begin(), key.end());
  if (reactor.id() == kAdmissionCore) {
    deliver_session_ended(reactor, ended);
  } else {
    reactor.post(kAdmissionCore, std::move(ended));
  }
}

// ---- stopping -----------------------------------------------------------------------------

ServerCore::ServerCore(Server& owner, runtime::Reactor& core)
    : server(owner), reactor(core), policy(std::make_shared<const Policy>(owner.options().policy)) {
  drain_deadline.on_fire = &ServerCore::drain_deadline_passed;
  drain_deadline.context = this;
}

ServerCore::~ServerCore() { reactor.timers().remove(drain_deadline); }

void ServerCore::stop() {
  if (stopping) return;
  stopping = true;
  if (acceptor) acceptor->stop();
  for (auto& ingress : ingress_listeners) {
    if (ingress->acceptor) ingress->acceptor->stop();
  }
  for (int fd : ingress_visitors) ::shutdown(fd, SHUT_RD);
  for (int fd : handshaking) ::shutdown(fd, SHUT_RDWR);
  std::vector<std::uint64_t> exposed;
  for (const auto& [id, exposure] : exposures) exposed.push_back(id);
  for (std::uint64_t id : exposed) drop_exposure(id, "the server is shutting down");
  std::size_t streams = 0;
  for (auto& [raw, live] : sessions) streams += raw->stream_count();
  if (!sessions.empty()) {
    observe::log_info("core {}: draining {} session(s) with {} open stream(s) for up to {:.1f} s",
                      reactor.id(), sessions.size(), streams,
                      std::chrono::duration<double>(server.options().drain_timeout).count());
    drain_deadline.deadline = runtime::Clock::now() + server.options().drain_timeout;
    reactor.timers().add(drain_deadline);
  }
  // drain() may end a session with no streams at once: iterate over a copy.
  std::vector<tunnel::Session*> all;
  for (auto& [raw, live] : sessions) all.push_back(raw);
  for (tunnel::Session* raw : all) raw->drain(Reason::shutting_down, "the server is shutting down");
  maybe_stopped();
}

void ServerCore::revoke(const crypto::PublicKey& key) {
  for (auto& [raw, live] : sessions) {
    if (live.key != key) continue;
    observe::log_warn("{}: its key is no longer in authorized_keys; closing the session",
                      raw->name());
    raw->close(Reason::unknown_key, "this client's key was removed from authorized_keys");
  }
}

void ServerCore::drain_deadline_passed(runtime::Timer& timer) {
  auto* self = static_cast<ServerCore*>(timer.context);
  std::size_t streams = 0;
  for (auto& [raw, live] : self->sessions) streams += raw->stream_count();
  if (self->sessions.empty()) return;
  observe::log_warn("core {}: the drain timeout passed; closing {} session(s) with {} stream(s) "
                    "still open",
                    self->reactor.id(), self->sessions.size(), streams);
  for (auto& [raw, live] : self->sessions) {
    raw->close(Reason::shutting_down, "the server is shutting down (drain timeout)");
  }
}

void ServerCore::maybe_stopped() {
  if (!stopping || stopped || tasks > 0 || !sessions.empty()) return;
  reactor.timers().remove(drain_deadline);
  if (reactor.id() != kAdmissionCore) {
    stopped = true;
    runtime::CoreMessage done;
    done.handler = &deliver_core_stopped;
    done.context = &server;
    reactor.post(kAdmissionCore, std::move(done));
    reactor.request_stop();
    return;
  }
  // Core 0 holds the admission state the others call into: it stops once they all have.
  // (core_stopped counts them through Server.)
  if (!server.others_stopped()) return;
  stopped = true;
  reactor.request_stop();
}

}  // namespace ringtunnel::server
