// SPDX-License-Identifier: MIT
// `ringtunnel server`: flags, the data dir (identity, authorized_keys, token), then the engine.
#include "cli/server_command.hpp"

#include <csignal>
#include <cstdio>

#include "cli/common.hpp"
#include "cli/config_layer.hpp"
#include "cli/live_report.hpp"
#include "config/token_input.hpp"
#include "config/config_file.hpp"
#include "crypto/fingerprint.hpp"
#include "net/resolver.hpp"
#include "net/socket.hpp"
#include "observe/log.hpp"
#include "server/server.hpp"
#include "server/server_setup.hpp"

namespace ringtunnel::cli {
namespace {


// The flags as the library's settings; false (logged) on a bad heartbeat or token.
bool server_setup(const ServerFlags& flags, server::ServerSetup& setup) {
  setup.bind = flags.bind;
  setup.expose_bind = flags.expose_bind;
  setup.http_bind = flags.http_bind;
  setup.https_bind = flags.https_bind;
  setup.domain = flags.domain;
  setup.http_timeout = std::chrono::milliseconds(static_cast<long>(flags.http_timeout_s * 1000));
  setup.reserved_names = flags.reserved_names;
  setup.port = flags.port;
  setup.data_dir = flags.common.data_dir;
  if (flags.token || flags.token_file) {
    std::vector<std::string> warnings;
    std::string error;
    if (!config::resolve_token(flags.token, flags.token_file, &setup.token, &warnings, &error)) {
      observe::log_error("{}", error);
      return false;
    }
    for (const std::string& warning : warnings) observe::log_warn("{}", warning);
  }
  setup.trust_first_client = flags.trust_first_client;
  setup.max_clients = flags.max_clients;
  setup.allowed_ports = flags.allowed_ports;
  setup.allowed_hosts = flags.allowed_hosts;
  setup.max_streams = flags.max_streams;
  setup.stream_window = flags.common.stream_window;
  auto heartbeat = heartbeat_config(flags.common);
  if (!heartbeat) return false;
  setup.heartbeat = *heartbeat;
  setup.drain_timeout = drain_timeout(flags.common);
  setup.host_name = net::host_name();
  if (!chosen_transport(flags.common, &setup.transport)) return false;
  setup.tls_cert = flags.common.tls_cert;
  setup.tls_key = flags.common.tls_key;
  setup.tls_client_ca = flags.common.tls_client_ca;
  return true;
}

int run_server(const ServerFlags& flags, const config::ConfigFile& file) {
  if (!start_logging(flags.common, "server")) return kExitUsage;
  server::ServerSetup setup;
  server::PreparedServer prepared;
  if (!server_setup(flags, setup)) return kExitUsage;
  if (std::string failure; !server::prepare_server(setup, file, prepared, &failure)) {
    observe::log_error("{}", failure);
    return kExitUsage;
  }
  if (std::string failure; !server::settle_listen_port(prepared.options, &failure)) {
    observe::log_error("{}", failure);
    return kExitFailure;
  }
  const std::string fingerprint = crypto::fingerprint(prepared.identity->public_key());
  runtime::Engine engine(engine_options(flags.common));
  net::Resolver resolver;  // after the engine: destroyed first, while the reactors still exist
  server::Server server(prepared.options, std::move(*prepared.identity), std::move(*prepared.keys),
                        engine.size(), resolver);
  engine.set_signal_handler([&server](runtime::Reactor& reactor, int signal_number) {
    if (signal_number == SIGHUP) {
      reopen_log_file_on(reactor);
      server.reload_on(reactor);
      return;
    }
    if (first_stop_signal(reactor, signal_number)) {
      if (reactor.id() == 0) observe::log_info("stopping: no new clients; draining the sessions");
      server.stop_on(reactor);
    }
  });
  std::string failure;
  const server::ServerStart start = server::start_on_every_core(engine, server, &failure);
  if (start == server::ServerStart::runtime_failed) {
    observe::log_error("{}", failure);
    return kExitFailure;
  }
  const bool failed = start == server::ServerStart::listen_failed;
  if (failed) {
    observe::log_error("{}", failure);
  } else {
    observe::log_info("server identity {}", fingerprint);
    observe::log_info("server policy: {}; at most {} clients", server.options().policy.to_string(),
                      server.options().admission.max_clients);
    observe::log_info("server ready: listening on {} with {} reactor(s); backend: {}",
                      prepared.options.listen.to_string(), engine.size(),
                      engine.backend_reason());
    const std::string& domain = prepared.options.domain;
    const std::string names = domain.empty() ? "Host NAME" : "Host NAME." + domain + " or NAME";
    if (const auto& bind = prepared.options.http_bind) {
      observe::log_info("http ingress: listening on {}: {} goes to the client holding NAME",
                        bind->to_string(), names);
    }
    if (const auto& bind = prepared.options.https_bind) {
      observe::log_info("tls ingress: listening on {}: SNI {} goes to the client holding NAME, "
                        "passed through", bind->to_string(),
                        domain.empty() ? "NAME" : "NAME." + domain);
    }
  }
  LiveReport report("server", prepared.options.listen.to_string(), engine,
                    [&server](runtime::Reactor& reactor) { return server.snapshot_core(reactor); });
  if (!failed) report.start(prepared.data_dir);
  engine.join();
  report.stop();
  const auto totals = server.totals();
  std::string udp;
  if (totals.flows > 0 || totals.datagrams_dropped > 0) {
    udp = fmt::format("; {} UDP flows, {} datagrams in, {} out, {} dropped", totals.flows,
                      totals.datagrams_in, totals.datagrams_out, totals.datagrams_dropped);
  }
  observe::log_info("server stopped: {} sessions, {} streams ({} refused), {} bytes in, {} bytes "
                    "out{}",
                    totals.sessions, totals.streams, totals.streams_refused, totals.bytes_in,
                    totals.bytes_out, udp);
  return failed ? kExitFailure : 0;
}

}  // namespace

void add_server_flags(CLI::App& command, ServerFlags& flags) {
  CLI::App* cmd = &command;
  cmd->add_option("--port", flags.port, "Tunnel port to listen on")
      ->envname("RINGTUNNEL_PORT")
      ->capture_default_str();
  cmd->add_option("--bind", flags.bind,
                  "Address to listen on: an IP address, localhost, 0.0.0.0 or :: "
                  "")
      ->envname("RINGTUNNEL_BIND")
      ->capture_default_str();
  cmd->add_option("--expose-bind", flags.expose_bind,
                  "Address exposed ports (client -R) listen on: an IP address, localhost, "
                  "0.0.0.0 or ::; a client may name a narrower one (any IPv4 address under "
                  "0.0.0.0, any address under ::)")
      ->envname("RINGTUNNEL_EXPOSE_BIND")
      ->capture_default_str();
  cmd->add_option("--http-bind", flags.http_bind,
                  "ADDR:PORT for the HTTP ingress (e.g. 0.0.0.0:80): each request goes to the "
                  "client holding the name its Host names (NAME.<--domain>, or NAME); every core "
                  "listens. Off unless given")
      ->envname("RINGTUNNEL_HTTP_BIND");
  cmd->add_option("--https-bind", flags.https_bind,
                  "ADDR:PORT for the TLS ingress (e.g. 0.0.0.0:443): each TLS connection goes to "
                  "the client holding the name in its SNI, bytes untouched (this server holds no "
                  "certificate for it). Off unless given")
      ->envname("RINGTUNNEL_HTTPS_BIND");
  cmd->add_option("--domain", flags.domain,
                  "The domain ingress names live under: Host app.example.com is the name app "
                  "(a Host that is just a name works too)")
      ->envname("RINGTUNNEL_DOMAIN");
  cmd->add_option("--http-timeout", flags.http_timeout_s,
                  "Seconds a client's service has to start its response (then 504), and the "
                  "longest an ingress connection may sit idle")
      ->envname("RINGTUNNEL_HTTP_TIMEOUT")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  cmd->add_option("--reserve-name", flags.reserved_names,
                  "NAME=SHA256:...: only the client key with this fingerprint may claim the "
                  "ingress name NAME (others: first claim while free). Repeatable")
      ->envname("RINGTUNNEL_RESERVE_NAME");
  cmd->add_option("--max-clients", flags.max_clients,
                  "Distinct client keys connected at once; default server.max_clients in "
                  "config.yaml, else 10")
      ->envname("RINGTUNNEL_MAX_CLIENTS")
      ->check(CLI::Range(1u, 1000000u));
  cmd->add_option("--allowed-ports", flags.allowed_ports,
                  "Target ports clients may reach (TCP and UDP), e.g. 5432,6379,8000-8100; default "
                  "server.allowed_ports in config.yaml, else every port")
      ->envname("RINGTUNNEL_ALLOWED_PORTS");
  cmd->add_option("--allowed-hosts", flags.allowed_hosts,
                  "Target hosts clients may reach besides localhost: names, addresses, CIDR "
                  "blocks, e.g. db.internal,10.0.0.0/8; default server.allowed_hosts in "
                  "config.yaml")
      ->envname("RINGTUNNEL_ALLOWED_HOSTS");
  cmd->add_option("--token", flags.token,
                  "Enrolment token; '-' asks for it without echo (prefer that, RINGTUNNEL_TOKEN "
                  "or --token-file: the command line is visible to other users); default: the "
                  "server_token file in the data dir")
      ->envname("RINGTUNNEL_TOKEN");
  cmd->add_option("--token-file", flags.token_file,
                  "Read the enrolment token from the first line of this file")
      ->envname("RINGTUNNEL_TOKEN_FILE");
  cmd->add_flag("--trust-first-client", flags.trust_first_client,
                "While authorized_keys is empty, enrol the first client without a token "
                "")
      ->envname("RINGTUNNEL_TRUST_FIRST_CLIENT");
  cmd->add_option("--max-streams", flags.max_streams,
                  "Streams one client session may hold open")
      ->envname("RINGTUNNEL_MAX_STREAMS")
      ->check(CLI::Range(1u, 1u << 20))
      ->capture_default_str();
  add_common_flags(*cmd, flags.common);
  add_tls_flags(*cmd, flags.common, TlsRole::server);
}

void add_server_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ServerFlags>();
  CLI::App* cmd = app.add_subcommand(
      "server",
      "Accept clients and carry their tunnels. Zero-config: the identity key, authorized_keys "
      "and an enrolment token are made in the data dir on first start; the token and the exact "
      "client command are printed once. Settings under server: in config.yaml apply beneath "
      "the flags.");
  add_server_flags(*cmd, *flags);
  cmd->callback([cmd, flags, &exit_code] {
    const std::string path = config_path(flags->common.data_dir);
    std::string error;
    auto file = config::load_config_file(path, &error);
    if (!file || !apply_settings(*cmd, file->server, path, &error)) {
      observe::log_error("{}", error);
      exit_code = kExitUsage;
      return;
    }
    exit_code = run_server(*flags, *file);
  });
}

}  // namespace ringtunnel::cli
