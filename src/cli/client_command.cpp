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
#include "config/token_input.hpp"
#include "client/client.hpp"
#include "client/client_setup.hpp"
#include "net/resolver.hpp"
#include "net/socket.hpp"
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

// Flags into the library's settings; false (after logging why) on bad usage.
bool build_setup(const ClientFlags& flags, client::ClientSetup& setup) {
  if (!flags.server.empty()) {
    if (!split_server(flags.server, setup.server_host, setup.server_port)) {
      observe::log_error("--server '{}': expected HOST:PORT, with IPv6 in brackets ([::1]:9000)",
                         flags.server);
      return false;
    }
  } else {
    setup.server_host = flags.ip;
    setup.server_port = flags.port;
  }
  setup.forwards = flags.forwards;
  setup.exposes = flags.exposes;
  setup.http = flags.http;
  setup.https = flags.https;
  if (!flags.local_addr.empty()) setup.local_addr = flags.local_addr;
  if (!flags.tunnel_id.empty()) setup.tunnel_id = flags.tunnel_id;
  if (!flags.tunnel_id.empty() && flags.local_addr.empty()) {
    observe::log_error("--tunnel-id names the tunnel of --local-addr: give --local-addr "
                       "[HOST:]PORT too (or use --http NAME=[HOST:]PORT)");
    return false;
  }
  setup.bind = flags.bind;
  std::vector<std::string> token_warnings;
  std::string token_error;
  if (!config::resolve_token(flags.token, flags.token_file, &setup.token, &token_warnings,
                     &token_error)) {
    observe::log_error("{}", token_error);
    return false;
  }
  for (const std::string& warning : token_warnings) observe::log_warn("{}", warning);
  setup.server_fingerprint = flags.server_fingerprint;
  setup.accept_new_host = flags.accept_new_host;
  setup.interactive = ::isatty(STDIN_FILENO) == 1 && ::isatty(STDERR_FILENO) == 1;
  setup.sessions = flags.sessions;
  setup.connect_wait = std::chrono::milliseconds(static_cast<long>(flags.connect_wait_s * 1000));
  setup.udp_idle_timeout =
      std::chrono::milliseconds(static_cast<long>(flags.udp_idle_timeout_s * 1000));
  setup.udp_max_flows = flags.udp_max_flows;
  setup.stream_window = flags.common.stream_window;
  auto heartbeat = heartbeat_config(flags.common);
  if (!heartbeat) return false;
  setup.heartbeat = *heartbeat;
  setup.drain_timeout = drain_timeout(flags.common);
  setup.client_name = net::host_name();
  setup.data_dir = flags.common.data_dir;
  if (!chosen_transport(flags.common, &setup.transport)) return false;
  setup.tls_ca = flags.common.tls_ca;
  setup.tls_server_name = flags.common.tls_server_name;
  setup.tls_cert = flags.common.tls_cert;
  setup.tls_key = flags.common.tls_key;
  setup.tls_insecure_skip_verify = flags.common.tls_insecure_skip_verify;
  return true;
}

}  // namespace

int run_client(const ClientFlags& flags, const std::vector<std::string>& config_warnings,
               const std::string& origin, client::ForwardReader reload) {
  if (!start_logging(flags.common, "client")) return kExitUsage;
  for (const std::string& warning : config_warnings) observe::log_warn("{}", warning);
  if (!origin.empty()) observe::log_info("{}", origin);
  client::ClientSetup setup;
  client::PreparedClient prepared;
  std::string error;
  if (!build_setup(flags, setup)) return kExitUsage;
  if (!client::prepare_client(setup, prepared, &error)) {
    observe::log_error("{}", error);
    return kExitUsage;
  }
  runtime::Engine engine(engine_options(flags.common));
  net::Resolver resolver;  // after the engine: destroyed first, while the reactors still exist
  client::Client client(std::move(prepared.options), std::move(*prepared.identity), engine,
                        resolver);
  if (auto opened = client.open_listeners(&error); !opened) {
    observe::log_error("{}", error);
    return kExitFailure;
  }
  engine.set_signal_handler([&client, &reload](runtime::Reactor& reactor, int signal_number) {
    if (signal_number == SIGHUP) {
      reopen_log_file_on(reactor);
      if (reload) {
        client.reload_tunnels_on(reactor, reload);
      } else if (reactor.id() == 0) {
        observe::log_info("SIGHUP: the tunnels are this client's -L flags: nothing to re-read "
                          "(connect PROFILE re-reads its profile's tunnels)");
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
  report.start(prepared.data_dir);
  engine.join();
  report.stop();
  const auto totals = client.totals();
  std::string udp;
  if (totals.udp_flows > 0 || totals.datagrams_dropped > 0) {
    udp = fmt::format("; {} UDP flows ({} expired), {} datagrams sent, {} received, {} dropped",
                      totals.udp_flows, totals.udp_flows_expired, totals.datagrams_out,
                      totals.datagrams_in, totals.datagrams_dropped);
  }
  const std::string visitors =
      totals.visitors > 0 ? fmt::format("; {} visitor(s) through -R", totals.visitors) : "";
  observe::log_info("client stopped after {} s: {} streams ({} refused), {} bytes sent, {} bytes "
                    "received, {} reconnect(s){}{}",
                    std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::steady_clock::now() - started).count(),
                    totals.streams, totals.streams_refused, totals.bytes_out, totals.bytes_in,
                    totals.reconnects, udp, visitors);
  return client.exit_code();
}

void add_client_flags(CLI::App& command, ClientFlags& flags) {
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
                  "profile's tunnels.");
  cmd->add_option("-R,--remote", flags.exposes,
                  "[BIND:]PUBLIC_PORT:[LOCAL_HOST:]LOCAL_PORT[:udp][,proxy_protocol=v2]: the "
                  "server listens on PUBLIC_PORT (on its --expose-bind address, or BIND) and "
                  "carries each visitor to LOCAL_HOST:LOCAL_PORT here (LOCAL_HOST defaults to "
                  "localhost). ,proxy_protocol=v2 sends the visitor's address first in a PROXY "
                  "v2 header. Repeat for more ports. With connect, replaces the profile's.");
  cmd->add_option("--http", flags.http,
                  "NAME=[HOST:]PORT: the server's HTTP ingress (--http-bind) routes requests for "
                  "Host NAME.<its --domain> (or NAME) to HOST:PORT here, HTTP/1.1 with "
                  "X-Forwarded-For/-Proto/-Host added; WebSocket upgrades pass through. NAME is a "
                  "DNS label, held by this client's key. Repeatable.");
  cmd->add_option("--https", flags.https,
                  "NAME=[HOST:]PORT: the server's TLS ingress (--https-bind) passes TLS "
                  "connections whose SNI is NAME.<its --domain> to HOST:PORT here untouched: the "
                  "TLS (HTTPS, HTTP/2, gRPC) ends at your service, with your certificate. "
                  "Repeatable.");
  cmd->add_option("--local-addr", flags.local_addr,
                  "[HOST:]PORT: short for --http NAME=[HOST:]PORT, NAME from --tunnel-id");
  cmd->add_option("--tunnel-id", flags.tunnel_id,
                  "NAME for --local-addr (default: derived from this client's key, the same on "
                  "every run)");
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
  add_tls_flags(*cmd, flags.common, TlsRole::client);
}

void add_client_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ClientFlags>();
  CLI::App* cmd = app.add_subcommand(
      "client",
      "Forward local ports through an encrypted session to a ringtunnel server, like ssh -L. "
      "The first connection pins the server's identity in known_hosts. Settings under "
      "defaults: in config.yaml apply beneath the flags.");
  add_client_flags(*cmd, *flags);
  cmd->callback([cmd, flags, &exit_code] {
    if (!flags->has_tunnels()) {
      observe::log_error("nothing to do: give at least one -L LOCAL_PORT:REMOTE_PORT (forward a "
                         "local port), -R PUBLIC_PORT:LOCAL_PORT (expose a local service) or "
                         "--http NAME=LOCAL_PORT (publish it on the server's HTTP ingress)");
      exit_code = kExitUsage;
      return;
    }
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
