// SPDX-License-Identifier: MIT
// `ringtunnel client`: -L specs, the server address, trust flags, then the engine.
#include "cli/client_command.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

#include "cli/common.hpp"
#include "cli/config_layer.hpp"
#include "cli/live_report.hpp"
#include "cli/token_input.hpp"
#include "client/client.hpp"
#include "config/data_dir.hpp"
#include "config/identity_files.hpp"
#include "crypto/fingerprint.hpp"
#include "net/resolver.hpp"
#include "observe/log.hpp"

namespace ringtunnel::cli {
namespace {


// --server HOST:PORT (IPv6 in brackets) into host and port.
bool split_server(const std::string& text, std::string& host, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']') return false;
    host = host.substr(1, host.size() - 2);
  }
  unsigned value = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || value > 6553) return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return !host.empty();
}

bool valid_fingerprint(const std::string& text) {
  if (text.rfind("SHA256:", 0) != 0 || text.size() != 7 + 43) return false;
  for (char c : text.substr(7)) {
    const bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '+' || c == '/';
    if (!b64) return false;
  }
  return true;
}

// Flags into options; false (after logging why) on bad usage.
bool build_options(const ClientFlags& flags, client::ClientOptions& options) {
  if (!flags.server.empty()) {
    if (!split_server(flags.server, options.server_host, options.server_port)) {
      observe::log_error("--server '{}': expected HOST:PORT, with IPv6 in brackets ([::1]:9000)",
                         flags.server);
      return false;
    }
  } else if (!flags.ip.empty()) {
    options.server_host = flags.ip;
    if (options.server_host.size() > 2 && options.server_host.front() == '[' &&
        options.server_host.back() == ']') {
      options.server_host = options.server_host.substr(1, options.server_host.size() - 2);
    }
    options.server_port = flags.port;
  } else {
    observe::log_error("say which server to use: --ip HOST [--port PORT] or --server HOST:PORT");
    return false;
  }
  for (const std::string& text : flags.forwards) {
    std::string error;
    auto spec = parse_forward_spec(text, flags.bind, &error);
    if (!spec) {
      observe::log_error("{}", error);
      return false;
    }
    for (const ForwardSpec& earlier : options.forwards) {
      // A TCP and a UDP tunnel may share a port number (as DNS does on 53).
      if (spec->local_port != 0 && earlier.local_port == spec->local_port &&
          earlier.bind_host == spec->bind_host && earlier.protocol == spec->protocol) {
        observe::log_error("-L {} and -L {} both listen on {} {} port {}", earlier.name(),
                           spec->name(), spec->bind_host, to_string(spec->protocol),
                           spec->local_port);
        return false;
      }
    }
    options.forwards.push_back(*spec);
  }
  if (options.forwards.empty()) {
    observe::log_error("nothing to forward: give at least one -L LOCAL_PORT:REMOTE_PORT");
    return false;
  }
  if (flags.server_fingerprint && !valid_fingerprint(*flags.server_fingerprint)) {
    observe::log_error("--server-fingerprint '{}': expected SHA256: followed by 43 base64 "
                       "characters, as the server prints it at start-up",
                       *flags.server_fingerprint);
    return false;
  }
  std::vector<std::string> token_warnings;
  std::string token_error;
  if (!resolve_token(flags.token, flags.token_file, &options.token, &token_warnings,
                     &token_error)) {
    observe::log_error("{}", token_error);
    return false;
  }
  for (const std::string& warning : token_warnings) observe::log_warn("{}", warning);
  options.trust.expected_fingerprint = flags.server_fingerprint;
  options.trust.accept_new_host = flags.accept_new_host;
  options.trust.interactive = ::isatty(STDIN_FILENO) == 1 && ::isatty(STDERR_FILENO) == 1;
  options.sessions = flags.sessions;
  options.connect_wait =
      std::chrono::milliseconds(static_cast<long>(flags.connect_wait_s * 1000));
  options.udp_idle_timeout =
      std::chrono::milliseconds(static_cast<long>(flags.udp_idle_timeout_s * 1000));
  options.udp_max_flows = flags.udp_max_flows;
  options.receive_window = flags.common.stream_window;
  auto heartbeat = heartbeat_config(flags.common);
  if (!heartbeat) return false;
  options.heartbeat = *heartbeat;
  options.drain_timeout = drain_timeout(flags.common);
  options.client_name = host_name();
  return true;
}

}  // namespace

int run_client(const ClientFlags& flags, const std::vector<std::string>& config_warnings,
               const std::string& origin) {
  if (!start_logging(flags.common, "client")) return kExitUsage;
  for (const std::string& warning : config_warnings) observe::log_warn("{}", warning);
  if (!origin.empty()) observe::log_info("{}", origin);
  client::ClientOptions options;
  if (!build_options(flags, options)) return kExitUsage;
  std::string error;
  auto dir = config::DataDir::open(flags.common.data_dir, &error);
  if (!dir) {
    observe::log_error("{}", error);
    return kExitUsage;
  }
  bool created = false;
  auto identity = config::load_or_create_key(dir->file("key"), &created, &error);
  if (!identity) {
    observe::log_error("{}", error);
    return kExitUsage;
  }
  if (created) {
    observe::log_info("created this client's key {} ({})", dir->file("key"),
                      crypto::fingerprint(identity->public_key()));
  }
  options.known_hosts_path = dir->file("known_hosts");
  runtime::Engine engine(engine_options(flags.common));
  net::Resolver resolver;  // after the engine: destroyed first, while the reactors still exist
  client::Client client(std::move(options), std::move(identity).value(), engine, resolver);
  if (auto opened = client.open_listeners(&error); !opened) {
    observe::log_error("{}", error);
    return kExitFailure;
  }
  engine.set_signal_handler([&client](runtime::Reactor& reactor, int signal_number) {
    if (signal_number == SIGHUP) {
      reopen_log_file_on(reactor);
      if (reactor.id() == 0) {
        observe::log_info("SIGHUP: log file reopened; this version does not re-read tunnels");
      }
    }
    if (first_stop_signal(reactor, signal_number)) client.stop_on(reactor);
  });
  const auto started = std::chrono::steady_clock::now();
  auto running = engine.start([&client](runtime::Reactor& reactor) { client.start_on(reactor); });
  if (!running) {
    observe::log_error("cannot start the runtime: {}", engine.backend_reason());
    return kExitFailure;
  }
  LiveReport report("client", client.server_label(), engine,
                    [&client](runtime::Reactor& reactor) { return client.snapshot_core(reactor); });
  report.start(dir->path());
  engine.join();
  report.stop();
  const auto totals = client.totals();
  std::string udp;
  if (totals.udp_flows > 0 || totals.datagrams_dropped > 0) {
    udp = fmt::format("; {} UDP flows ({} expired), {} datagrams sent, {} received, {} dropped",
                      totals.udp_flows, totals.udp_flows_expired, totals.datagrams_out,
                      totals.datagrams_in, totals.datagrams_dropped);
  }
  observe::log_info("client stopped after {} s: {} streams ({} refused), {} bytes sent, {} bytes "
                    "received, {} reconnect(s){}",
                    std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::steady_clock::now() - started).count(),
                    totals.streams, totals.streams_refused, totals.bytes_out, totals.bytes_in,
                    totals.reconnects, udp);
  return client.exit_code();
}

void add_client_flags(CLI::App& command, ClientFlags& flags, TunnelsRequired required) {
  CLI::App* cmd = &command;
  cmd->add_option("--ip", flags.ip, "The server's host name or address")
      ->envname("RINGTUNNEL_SERVER_IP");
  cmd->add_option("--port", flags.port, "The server's tunnel port")
      ->envname("RINGTUNNEL_SERVER_PORT")
      ->capture_default_str();
  cmd->add_option("--server", flags.server,
                  "The server as HOST:PORT, instead of --ip and --port")
      ->envname("RINGTUNNEL_SERVER");
  cmd->add_option("-L,--local", flags.forwards,
                  "[BIND:]LOCAL_PORT:[HOST:]REMOTE_PORT[:udp]: listen on BIND:LOCAL_PORT here and "
                  "carry each connection to HOST:REMOTE_PORT as the server sees it (HOST defaults "
                  "to localhost). With :udp, datagrams instead: each source address is a flow. "
                  "Repeat for more tunnels; IPv6 in brackets. With connect, replaces the "
                  "profile's tunnels.")
      ->required(required == TunnelsRequired::yes);
  cmd->add_option("--bind", flags.bind,
                  "Default BIND for -L: localhost, or 0.0.0.0 to accept from other machines "
                  "")
      ->envname("RINGTUNNEL_BIND")
      ->capture_default_str();
  cmd->add_option("--token", flags.token,
                  "The server's enrolment token, needed once to enrol this client's key; '-' "
                  "asks for it without echo (prefer that, RINGTUNNEL_TOKEN or --token-file: the "
                  "command line is visible to other users)")
      ->envname("RINGTUNNEL_TOKEN");
  cmd->add_option("--token-file", flags.token_file,
                  "Read the enrolment token from the first line of this file")
      ->envname("RINGTUNNEL_TOKEN_FILE");
  cmd->add_flag("--accept-new-host", flags.accept_new_host,
                "Trust a server seen for the first time and pin it")
      ->envname("RINGTUNNEL_ACCEPT_NEW_HOST");
  cmd->add_option("--server-fingerprint", flags.server_fingerprint,
                  "Trust the server only if its identity is this SHA256:... fingerprint "
                  "")
      ->envname("RINGTUNNEL_SERVER_FINGERPRINT");
  cmd->add_option("--sessions", flags.sessions,
                  "Sessions to the server; 0 = one per reactor")
      ->envname("RINGTUNNEL_SESSIONS")
      ->check(CLI::Range(0u, 256u))
      ->capture_default_str();
  cmd->add_option("--connect-wait", flags.connect_wait_s,
                  "Seconds a local connection waits for a session while the client "
                  "(re)connects to the server; then it is closed")
      ->envname("RINGTUNNEL_CONNECT_WAIT")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  cmd->add_option("--udp-idle-timeout", flags.udp_idle_timeout_s,
                  "Seconds a UDP flow (one local source address) lives without a datagram either "
                  "way; its next datagram opens a new flow")
      ->envname("RINGTUNNEL_UDP_IDLE_TIMEOUT")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  cmd->add_option("--udp-max-flows", flags.udp_max_flows,
                  "UDP flows one tunnel may have at once; datagrams from further sources are "
                  "dropped (and counted) until a flow ends")
      ->envname("RINGTUNNEL_UDP_MAX_FLOWS")
      ->check(CLI::Range(1u, 65536u))
      ->capture_default_str();
  add_common_flags(*cmd, flags.common);
}

void add_client_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ClientFlags>();
  CLI::App* cmd = app.add_subcommand(
      "client",
      "Forward local ports through an encrypted session to a ringtunnel server, like ssh -L. "
      "The first connection pins the server's identity in known_hosts. Settings under "
      "defaults: in config.yaml apply beneath the flags.");
  add_client_flags(*cmd, *flags, TunnelsRequired::yes);
  cmd->callback([cmd, flags, &exit_code] {
    const std::string path = config_path(flags->common.data_dir);
    std::string error;
    auto file = config::load_config_file(path, &error);
    if (!file || !apply_settings(*cmd, file->defaults, path, &error)) {
      observe::log_error("{}", error);
      exit_code = kExitUsage;
      return;
    }
    exit_code = run_client(*flags, file->warnings, "");
  });
}

}  // namespace ringtunnel::cli
