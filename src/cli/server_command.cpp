// SPDX-License-Identifier: MIT
// `ringtunnel server`: flags, the data dir (identity, authorized_keys, token), then the engine.
#include "cli/server_command.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>

#include "cli/common.hpp"
#include "cli/config_layer.hpp"
#include "cli/live_report.hpp"
#include "cli/token_input.hpp"
#include "config/config_file.hpp"
#include "config/data_dir.hpp"
#include "config/identity_files.hpp"
#include "config/server_settings.hpp"
#include "crypto/fingerprint.hpp"
#include "net/resolver.hpp"
#include "net/socket.hpp"
#include "observe/log.hpp"
#include "server/server.hpp"

namespace ringtunnel::cli {
namespace {


// The listen address from --bind and --port: an IP literal (IPv6 with or without brackets),
// `localhost`, or `*` / `0.0.0.0` for every IPv4 interface, `::` for every IPv6 one.
Result<net::SocketAddress> listen_address(const ServerFlags& flags, std::string* error) {
  std::string host = flags.bind;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const bool v6 = host.find(':') != std::string::npos;
  const std::string text = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(flags.port);
  auto address = net::SocketAddress::parse(text);
  if (!address) {
    *error = "--bind " + flags.bind + ": " + net::SocketAddress::parse_error_text(text) +
             " (use an IP address, localhost, or 0.0.0.0 / :: for every interface)";
  }
  return address;
}

// The enrolment token: --token, else --token-file, else the server_token file in the data
// dir, made when no client is enrolled.
bool settle_token(const ServerFlags& flags, const config::DataDir& dir, bool no_clients,
                  server::AdmissionOptions& admission) {
  if (flags.token || flags.token_file) {
    std::vector<std::string> warnings;
    std::string error;
    if (!resolve_token(flags.token, flags.token_file, &admission.token, &warnings, &error)) {
      observe::log_error("{}", error);
      return false;
    }
    for (const std::string& warning : warnings) observe::log_warn("{}", warning);
    return true;
  }
  const std::string path = dir.file("server_token");
  bool created = false;
  std::string error;
  auto token = config::load_or_create_token(path, no_clients, &created, &error);
  if (!token) {
    observe::log_error("{}", error);
    return false;
  }
  admission.token = *token;
  if (created) {
    observe::log_info(
        "No client is enrolled yet. On the client machine, run:\n"
        "    ringtunnel client --ip {} --port {} --token {} -L LOCAL_PORT:REMOTE_PORT\n"
        "  The token is kept in {} (mode 0600); this is the only time it is printed.",
        host_name(), flags.port, **token, path);
  } else if (*token && no_clients) {
    observe::log_info("No client is enrolled yet: enrol one with the token in {}", path);
  }
  return true;
}

struct Prepared {
  server::ServerOptions options;
  std::optional<crypto::Ed25519PrivateKey> identity;
  std::optional<crypto::AuthorizedKeys> keys;
  std::string data_dir;
};

// Everything before the engine: flags checked, the data dir's files read or made.
bool prepare(const ServerFlags& flags, const config::ConfigFile& file, Prepared& out) {
  std::string error;
  auto listen = listen_address(flags, &error);
  if (!listen) {
    observe::log_error("{}", error);
    return false;
  }
  out.options.listen = *listen;
  server::PolicyFlags& policy_flags = out.options.policy_flags;
  if (flags.allowed_ports) {
    policy_flags.ports = server::PortSet::parse(*flags.allowed_ports, &error);
    if (!policy_flags.ports) {
      observe::log_error("--allowed-ports: {}", error);
      return false;
    }
  }
  if (flags.allowed_hosts) {
    policy_flags.hosts = server::HostSet::parse(*flags.allowed_hosts, &error);
    if (!policy_flags.hosts) {
      observe::log_error("--allowed-hosts: {}", error);
      return false;
    }
  }
  policy_flags.max_clients = flags.max_clients;
  auto heartbeat = heartbeat_config(flags.common);
  if (!heartbeat) return false;
  out.options.heartbeat = *heartbeat;
  out.options.drain_timeout = drain_timeout(flags.common);
  auto dir = config::DataDir::open(flags.common.data_dir, &error);
  if (!dir) {
    observe::log_error("{}", error);
    return false;
  }
  bool created = false;
  auto identity = config::load_or_create_key(dir->file("server_key"), &created, &error);
  if (!identity) {
    observe::log_error("{}", error);
    return false;
  }
  if (created) observe::log_info("created the server identity key {}", dir->file("server_key"));
  auto keys = crypto::AuthorizedKeys::load(dir->file("authorized_keys"), &error);
  if (!keys) {
    observe::log_error("{}", error);
    return false;
  }
  // config.yaml's policy keys, under the flags (SIGHUP reads them again).
  policy_flags.config_path = file.path;
  auto settings = config::server_settings_from(file, &error);
  if (!settings) {
    observe::log_error("{}", error);
    return false;
  }
  for (const std::string& warning : settings->warnings) observe::log_warn("{}", warning);
  auto effective = server::effective_policy(policy_flags, *settings, &error);
  if (!effective) {
    observe::log_error("{}", error);
    return false;
  }
  for (const std::string& note : effective->notes) observe::log_info("{}", note);
  out.options.policy = effective->policy;
  auto& admission = out.options.admission;
  admission.max_clients = effective->max_clients;
  admission.trust_first_client = flags.trust_first_client;
  admission.params.max_streams = flags.max_streams;
  admission.params.initial_window = flags.common.stream_window;
  admission.params.heartbeat_ms =
      static_cast<std::uint32_t>(out.options.heartbeat.interval.count());
  if (!settle_token(flags, *dir, keys->empty(), admission)) return false;
  if (flags.trust_first_client && keys->empty()) {
    observe::log_warn("--trust-first-client: the first client to connect will be enrolled "
                      "without a token; its fingerprint will be logged");
  }
  out.data_dir = dir->path();
  out.identity.emplace(std::move(identity).value());
  out.keys.emplace(std::move(keys).value());
  return true;
}

int run_server(const ServerFlags& flags, const config::ConfigFile& file) {
  if (!start_logging(flags.common, "server")) return kExitUsage;
  Prepared prepared;
  if (!prepare(flags, file, prepared)) return kExitUsage;
  // A port that is taken fails here, on this thread, with a clear message; the probe also
  // turns --port 0 into the one real port every reactor then listens on.
  {
    auto probe = net::listen_tcp(prepared.options.listen, net::ReusePort::no, 1);
    if (!probe) {
      observe::log_error("cannot listen on {}: {}", prepared.options.listen.to_string(),
                         probe.error().message());
      return kExitFailure;
    }
    prepared.options.listen = *net::local_address(probe->get());
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
  std::atomic<int> failed{0};
  std::atomic<unsigned> started{0};
  auto running = engine.start([&](runtime::Reactor& reactor) {
    if (auto ok = server.start_on(reactor); !ok) {
      failed = ok.error().value();
      server.stop_on(reactor);
    }
    started.fetch_add(1);
    started.notify_all();
  });
  if (!running) {
    observe::log_error("cannot start the runtime: {}", engine.backend_reason());
    return kExitFailure;
  }
  for (unsigned seen = started.load(); seen < engine.size(); seen = started.load()) {
    started.wait(seen);
  }
  if (failed) {
    observe::log_error("cannot listen on {}: {}", prepared.options.listen.to_string(),
                       std::strerror(failed));
    engine.stop();
  } else {
    observe::log_info("server identity {}", fingerprint);
    observe::log_info("server policy: {}; at most {} clients", server.options().policy.to_string(),
                      server.options().admission.max_clients);
    observe::log_info("server ready: listening on {} with {} reactor(s); backend: {}",
                      prepared.options.listen.to_string(), engine.size(),
                      engine.backend_reason());
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
