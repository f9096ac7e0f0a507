// SPDX-License-Identifier: MIT
// ringtunnel::Server: the builder's settings through server_setup, the port probed on this
// thread (a taken port fails here), an engine of its own without signals.
#include "config/config_file.hpp"
#include "crypto/fingerprint.hpp"
#include "embed/configs.hpp"
#include "embed/events.hpp"
#include "embed/live_collect.hpp"
#include "embed/running.hpp"
#include "net/resolver.hpp"
#include "ringtunnel/server.hpp"
#include "runtime/engine.hpp"
#include "server/server.hpp"
#include "server/server_setup.hpp"

namespace ringtunnel {

struct Server::Impl : embed::Running<server::Server> {
  Impl() : Running("server") {}
  std::unique_ptr<ServerConfig> config;
  std::uint16_t port = 0;
  std::string fingerprint;
  std::optional<std::string> token;
};

Server::Builder::Builder() : config_(std::make_unique<ServerConfig>()) {}
Server::Builder::~Builder() = default;
Server::Builder::Builder(Builder&&) noexcept = default;
Server::Builder& Server::Builder::operator=(Builder&&) noexcept = default;

Server::Builder& Server::Builder::bind(std::string address) {
  config_->setup.bind = std::move(address);
  return *this;
}
Server::Builder& Server::Builder::expose_bind(std::string address) {
  config_->setup.expose_bind = std::move(address);
  return *this;
}
Server::Builder& Server::Builder::port(std::uint16_t port) {
  config_->setup.port = port;
  return *this;
}
Server::Builder& Server::Builder::data_dir(std::string path) {
  config_->setup.data_dir = std::move(path);
  return *this;
}
Server::Builder& Server::Builder::token(std::string token) {
  config_->setup.token = std::move(token);
  return *this;
}
Server::Builder& Server::Builder::token_file(std::string path) {
  config_->common.token_file = std::move(path);
  return *this;
}
Server::Builder& Server::Builder::trust_first_client(bool yes) {
  config_->setup.trust_first_client = yes;
  return *this;
}
Server::Builder& Server::Builder::max_clients(unsigned count) {
  config_->setup.max_clients = count;
  return *this;
}
Server::Builder& Server::Builder::allowed_ports(std::string ports) {
  config_->setup.allowed_ports = std::move(ports);
  return *this;
}
Server::Builder& Server::Builder::allowed_hosts(std::string hosts) {
  config_->setup.allowed_hosts = std::move(hosts);
  return *this;
}
Server::Builder& Server::Builder::max_streams(std::uint32_t per_session) {
  config_->setup.max_streams = per_session;
  return *this;
}
Server::Builder& Server::Builder::transport(std::string name) {
  config_->common.transport = std::move(name);
  return *this;
}
Server::Builder& Server::Builder::threads(unsigned count) {
  config_->common.engine.threads = count;
  return *this;
}
Server::Builder& Server::Builder::io_backend(std::string name) {
  config_->common.engine.backend = std::move(name);
  return *this;
}
Server::Builder& Server::Builder::heartbeat(std::chrono::milliseconds interval,
                                            std::chrono::milliseconds timeout) {
  config_->setup.heartbeat = {.interval = interval, .timeout = timeout};
  return *this;
}
Server::Builder& Server::Builder::drain_timeout(std::chrono::milliseconds timeout) {
  config_->setup.drain_timeout = timeout;
  return *this;
}
Server::Builder& Server::Builder::on_event(EventHandler handler) {
  config_->common.on_event = std::move(handler);
  return *this;
}
Server::Builder& Server::Builder::log_to_stderr(bool yes) {
  config_->common.log_to_stderr = yes;
  return *this;
}
Server::Builder& Server::Builder::log_level(Event::Level level) {
  config_->common.log_level = level;
  return *this;
}

Server Server::Builder::build() {
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config_);
  config_ = std::make_unique<ServerConfig>();
  return Server(std::move(impl));
}

Server::Builder Server::builder() {
  return Builder();
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::Server(Server&&) noexcept = default;
Server& Server::operator=(Server&& other) noexcept {
  if (this != &other) {
    stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
Server::~Server() {
  stop();
}

Outcome Server::start() {
  Impl& impl = *impl_;
  if (impl.start_called) return Outcome::failure("start() was called already");
  impl.start_called = true;
  impl.events.begin(impl.config->common);
  server::ServerSetup setup = impl.config->setup;
  if (auto checked = embed::check_common(impl.config->common, &setup.token); !checked) {
    return impl.fail(checked.message());
  }
  if (setup.heartbeat.timeout <= setup.heartbeat.interval) {
    return impl.fail("the heartbeat timeout must be longer than its interval");
  }
  server::PreparedServer prepared;
  std::string failure;
  // No config.yaml for an embedder: its settings are the builder's.
  if (!server::prepare_server(setup, config::ConfigFile{}, prepared, &failure)) {
    return impl.fail(failure);
  }
  // A taken port fails here, with a clear sentence; port 0 becomes the one real port.
  if (!server::settle_listen_port(prepared.options, &failure)) return impl.fail(failure);
  impl.port = prepared.options.listen.port();
  impl.fingerprint = crypto::fingerprint(prepared.identity->public_key());
  impl.token = prepared.options.admission.token;
  impl.engine =
      std::make_unique<runtime::Engine>(embed::tunnel_engine_options(impl.config->common.engine));
  impl.resolver = std::make_unique<net::Resolver>();
  impl.role = std::make_unique<server::Server>(prepared.options, std::move(*prepared.identity),
                                               std::move(*prepared.keys), impl.engine->size(),
                                               *impl.resolver);
  const server::ServerStart start = server::start_on_every_core(*impl.engine, *impl.role, &failure);
  if (start == server::ServerStart::runtime_failed) return impl.fail(failure);
  impl.engine_started = true;  // listening, or stopping after a listen failure: join it either way
  if (start == server::ServerStart::listen_failed) return impl.fail(failure);
  impl.started = std::chrono::steady_clock::now();
  impl.events.emit(Event::Kind::ready, "server ready on " + prepared.options.listen.to_string());
  return {};
}

void Server::stop() {
  if (impl_) impl_->shut_down();
}

std::uint16_t Server::port() const {
  return impl_ ? impl_->port : 0;
}
std::string Server::fingerprint() const {
  return impl_ ? impl_->fingerprint : std::string();
}
std::optional<std::string> Server::token() const {
  return impl_ ? impl_->token : std::optional<std::string>();
}

Status Server::status() const {
  if (!impl_ || !impl_->engine_started) return Status{.state = "stopped"};
  server::Server& server = *impl_->role;
  return embed::to_public(embed::collect_live_status(
      *impl_->engine, "server", server.options().listen.to_string(), impl_->started,
      [&server](runtime::Reactor& reactor) { return server.snapshot_core(reactor); }));
}

}  // namespace ringtunnel
