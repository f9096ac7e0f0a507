// SPDX-License-Identifier: MIT
// ringtunnel::Client: the builder's settings through client_setup, an engine of its own
// without signals, and start() waiting for "client ready" (or the reason it cannot be).
#include <condition_variable>
#include <mutex>

#include "client/client.hpp"
#include "client/client_setup.hpp"
#include "embed/configs.hpp"
#include "embed/events.hpp"
#include "embed/live_collect.hpp"
#include "embed/running.hpp"
#include "net/resolver.hpp"
#include "net/socket.hpp"
#include "ringtunnel/client.hpp"
#include "runtime/engine.hpp"

namespace ringtunnel {

struct Client::Impl : embed::Running<client::Client> {
  Impl() : Running("client") {}
  std::unique_ptr<ClientConfig> config;
  // Written by the reactors (ready, fatal, retries), read by start().
  std::mutex mutex;
  std::condition_variable changed;
  bool ready = false;
  std::optional<std::string> fatal;
  std::string last_retry;
};

Client::Builder::Builder() : config_(std::make_unique<ClientConfig>()) {
  config_->setup.client_name = net::host_name();
}
Client::Builder::~Builder() = default;
Client::Builder::Builder(Builder&&) noexcept = default;
Client::Builder& Client::Builder::operator=(Builder&&) noexcept = default;

Client::Builder& Client::Builder::server(std::string host, std::uint16_t port) {
  config_->setup.server_host = std::move(host);
  config_->setup.server_port = port;
  return *this;
}
Client::Builder& Client::Builder::forward(std::string spec) {
  config_->setup.forwards.push_back(std::move(spec));
  return *this;
}
Client::Builder& Client::Builder::forward(const ForwardSpec& spec) {
  return forward(spec.name());
}
Client::Builder& Client::Builder::expose(std::string spec) {
  config_->setup.exposes.push_back(std::move(spec));
  return *this;
}
Client::Builder& Client::Builder::expose(const ExposeSpec& spec) {
  return expose(spec.name());
}
Client::Builder& Client::Builder::bind(std::string default_bind) {
  config_->setup.bind = std::move(default_bind);
  return *this;
}
Client::Builder& Client::Builder::token(std::string token) {
  config_->setup.token = std::move(token);
  return *this;
}
Client::Builder& Client::Builder::token_file(std::string path) {
  config_->common.token_file = std::move(path);
  return *this;
}
Client::Builder& Client::Builder::data_dir(std::string path) {
  config_->setup.data_dir = std::move(path);
  return *this;
}
Client::Builder& Client::Builder::key_file(std::string path) {
  config_->setup.key_file = std::move(path);
  return *this;
}
Client::Builder& Client::Builder::known_hosts_file(std::string path) {
  config_->setup.known_hosts_file = std::move(path);
  return *this;
}
Client::Builder& Client::Builder::server_fingerprint(std::string fingerprint) {
  config_->setup.server_fingerprint = std::move(fingerprint);
  return *this;
}
Client::Builder& Client::Builder::accept_new_host(bool yes) {
  config_->setup.accept_new_host = yes;
  return *this;
}
Client::Builder& Client::Builder::transport(std::string name) {
  config_->common.transport = std::move(name);
  return *this;
}
Client::Builder& Client::Builder::threads(unsigned count) {
  config_->common.engine.threads = count;
  return *this;
}
Client::Builder& Client::Builder::sessions(unsigned count) {
  config_->setup.sessions = count;
  return *this;
}
Client::Builder& Client::Builder::io_backend(std::string name) {
  config_->common.engine.backend = std::move(name);
  return *this;
}
Client::Builder& Client::Builder::connect_wait(std::chrono::milliseconds wait) {
  config_->setup.connect_wait = wait;
  return *this;
}
Client::Builder& Client::Builder::heartbeat(std::chrono::milliseconds interval,
                                            std::chrono::milliseconds timeout) {
  config_->setup.heartbeat = {.interval = interval, .timeout = timeout};
  return *this;
}
Client::Builder& Client::Builder::drain_timeout(std::chrono::milliseconds timeout) {
  config_->setup.drain_timeout = timeout;
  return *this;
}
Client::Builder& Client::Builder::udp_idle_timeout(std::chrono::milliseconds timeout) {
  config_->setup.udp_idle_timeout = timeout;
  return *this;
}
Client::Builder& Client::Builder::udp_max_flows(std::uint32_t flows) {
  config_->setup.udp_max_flows = flows;
  return *this;
}
Client::Builder& Client::Builder::client_name(std::string name) {
  config_->setup.client_name = std::move(name);
  return *this;
}
Client::Builder& Client::Builder::on_event(EventHandler handler) {
  config_->common.on_event = std::move(handler);
  return *this;
}
Client::Builder& Client::Builder::log_to_stderr(bool yes) {
  config_->common.log_to_stderr = yes;
  return *this;
}
Client::Builder& Client::Builder::log_level(Event::Level level) {
  config_->common.log_level = level;
  return *this;
}

Client Client::Builder::build() {
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config_);
  config_ = std::make_unique<ClientConfig>();  // the builder stays usable
  config_->setup.client_name = net::host_name();
  return Client(std::move(impl));
}

Client::Builder Client::builder() {
  return Builder();
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&& other) noexcept {
  if (this != &other) {
    stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
Client::~Client() {
  stop();
}

Outcome Client::start(std::chrono::milliseconds timeout) {
  Impl& impl = *impl_;
  if (impl.start_called) return Outcome::failure("start() was called already");
  impl.start_called = true;
  impl.events.begin(impl.config->common);
  client::ClientSetup setup = impl.config->setup;
  if (auto checked = embed::check_common(impl.config->common, &setup.token); !checked) {
    return impl.fail(checked.message());
  }
  if (setup.heartbeat.timeout <= setup.heartbeat.interval) {
    return impl.fail("the heartbeat timeout must be longer than its interval");
  }
  client::PreparedClient prepared;
  std::string failure;
  if (!client::prepare_client(setup, prepared, &failure)) return impl.fail(failure);
  prepared.options.on_ready = [&impl] {
    std::lock_guard lock(impl.mutex);
    impl.ready = true;
    impl.changed.notify_all();
  };
  prepared.options.on_fatal = [&impl](const std::string& message) {
    std::lock_guard lock(impl.mutex);
    impl.fatal = message;
    impl.changed.notify_all();
  };
  prepared.options.on_retry = [&impl](const std::string& why) {
    std::lock_guard lock(impl.mutex);
    impl.last_retry = why;
  };
  impl.engine =
      std::make_unique<runtime::Engine>(embed::tunnel_engine_options(impl.config->common.engine));
  impl.resolver = std::make_unique<net::Resolver>();
  impl.role = std::make_unique<client::Client>(
      std::move(prepared.options), std::move(*prepared.identity), *impl.engine, *impl.resolver);
  if (auto opened = impl.role->open_listeners(&failure); !opened) return impl.fail(failure);
  client::Client* raw = impl.role.get();
  if (auto running = impl.engine->start([raw](runtime::Reactor& r) { raw->start_on(r); });
      !running) {
    return impl.fail("cannot start the runtime: " + impl.engine->backend_reason());
  }
  impl.engine_started = true;
  impl.started = std::chrono::steady_clock::now();
  std::unique_lock lock(impl.mutex);
  impl.changed.wait_for(lock, timeout, [&] { return impl.ready || impl.fatal; });
  if (impl.ready && !impl.fatal) {
    lock.unlock();
    impl.events.emit(Event::Kind::ready, "client ready");
    return {};
  }
  std::string why = impl.fatal ? *impl.fatal
                               : "no session to " + raw->server_label() + " within " +
                                     std::to_string(timeout.count()) + " ms" +
                                     (impl.last_retry.empty() ? "" : ": " + impl.last_retry);
  lock.unlock();
  return impl.fail(std::move(why));
}

void Client::stop() {
  if (impl_) impl_->shut_down();
}

std::vector<ForwardSpec> Client::forwards() const {
  std::vector<ForwardSpec> out;
  if (!impl_ || !impl_->role) return out;
  // No reload runs in an embedded client, so the list is the one start() made.
  for (const auto& forward : impl_->role->forwards()) {
    ForwardSpec spec = forward->spec;
    if (!forward->bound.empty()) spec.local_port = forward->bound.front().port();
    out.push_back(std::move(spec));
  }
  return out;
}

Status Client::status() const {
  if (!impl_ || !impl_->engine_started) return Status{.state = "stopped"};
  client::Client& client = *impl_->role;
  return embed::to_public(embed::collect_live_status(
      *impl_->engine, "client", client.server_label(), impl_->started,
      [&client](runtime::Reactor& reactor) { return client.snapshot_core(reactor); }));
}

}  // namespace ringtunnel
