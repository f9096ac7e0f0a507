// SPDX-License-Identifier: MIT
// Shared CLI pieces: logging flags, engine options, the second-signal rule.
#include "cli/common.hpp"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>

#include "embed/engine_setup.hpp"

namespace ringtunnel::cli {

void add_common_flags(CLI::App& command, CommonFlags& flags) {
  command.add_flag("-v,--verbose", flags.verbosity,
                   "More detail in the log: -v debug, -vv trace")
      ->envname("RINGTUNNEL_VERBOSE");
  command.add_option("--log-level", flags.log_level,
                     "Least severe level logged: trace, debug, info, warn or error (-v lowers it "
                     "to debug, -vv to trace)")
      ->envname("RINGTUNNEL_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  command.add_option("--transport", flags.transport,
                     "How the session is secured: native (X25519 + Ed25519 handshake, "
                     "AES-256-GCM frames) or tls (TLS 1.3; see --tls-*). Both ends must agree")
      ->envname("RINGTUNNEL_TRANSPORT")
      ->check(CLI::Validator(
          [](const std::string& value) -> std::string {
            if (tunnel::parse_transport(value)) return "";
            return "'" + value + "' is not a transport; use native or tls";
          },
          "native|tls", "transport"))
      ->capture_default_str();
  command.add_flag("--log-json", flags.log_json,
                   "Log one JSON object per line (time, level, message, and session, client, "
                   "tunnel, stream fields) instead of text")
      ->envname("RINGTUNNEL_LOG_JSON");
  command.add_option("--log-file", flags.log_file,
                     "Append the log to this file (created 0600) instead of stderr, as JSON "
                     "lines; SIGHUP opens it again by name (for logrotate)")
      ->envname("RINGTUNNEL_LOG_FILE");
  command.add_option("--threads", flags.threads,
                     "Reactor threads, one pinned per core; 0 = one per online CPU "
                     "")
      ->envname("RINGTUNNEL_THREADS")
      ->capture_default_str();
  command.add_option("--io-backend", flags.io_backend,
                     "auto (io_uring where the kernel allows it, else epoll), io_uring or epoll "
                     "")
      ->envname("RINGTUNNEL_IO_BACKEND")
      ->check(CLI::IsMember({"auto", "io_uring", "epoll"}))
      ->capture_default_str();
  command.add_option("--idle-poll-us", flags.idle_poll_us,
                     "Microseconds a reactor keeps polling before it sleeps: lower latency for "
                     "a little CPU after each burst; 0 sleeps at once")
      ->envname("RINGTUNNEL_IDLE_POLL_US")
      ->check(CLI::Range(0u, 10000u))
      ->capture_default_str();
  command.add_option("--pin-threads", flags.pin_threads,
                     "Pin each reactor thread to its own CPU: yes, no, or auto (only with 4 CPUs or "
                     "more: on smaller machines the tunnel shares its CPUs with the programs it "
                     "serves, and pinned reactors cannot get out of their way)")
      ->envname("RINGTUNNEL_PIN_THREADS")
      ->check(CLI::IsMember({"auto", "yes", "no", "true", "false"}))
      ->capture_default_str();
  command.add_option("--stream-window", flags.stream_window,
                     "Bytes a stream may have in flight towards this end before it returns "
                     "credit (per stream; bounded overall by the session's 64 MiB buffer cap)")
      ->envname("RINGTUNNEL_STREAM_WINDOW")
      ->check(CLI::Range(65536u, 1u << 30))
      ->capture_default_str();
  command.add_option("--heartbeat-interval", flags.heartbeat_interval_s,
                     "Seconds between PINGs on each session (they measure the round trip and "
                     "keep NAT mappings alive)")
      ->envname("RINGTUNNEL_HEARTBEAT_INTERVAL")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str();
  command.add_option("--heartbeat-timeout", flags.heartbeat_timeout_s,
                     "Seconds without a byte from the peer before its session is declared "
                     "dead and closed (idle_timeout); must exceed --heartbeat-interval")
      ->envname("RINGTUNNEL_HEARTBEAT_TIMEOUT")
      ->check(CLI::Range(0.05, 86400.0))
      ->capture_default_str();
  command.add_option("--drain-timeout", flags.drain_timeout_s,
                     "On SIGINT/SIGTERM: seconds open streams get to finish (no new ones are "
                     "taken) before the sessions are closed; a second signal exits at once")
      ->envname("RINGTUNNEL_DRAIN_TIMEOUT")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  command.add_option("--data-dir", flags.data_dir,
                     "Where keys, known_hosts and authorized_keys live; default "
                     "$RINGTUNNEL_DATA_DIR, else ~/.ringtunnel");
}

void add_tls_flags(CLI::App& command, CommonFlags& flags, TlsRole role) {
  const bool server = role == TlsRole::server;
  command
      .add_option("--tls-cert", flags.tls_cert,
                  server ? "TLS: the certificate chain (PEM, leaf first) to present; default a "
                           "self-signed certificate for the server key, which clients pin"
                         : "TLS: a client certificate (PEM) for a server that asks for one "
                           "(--tls-client-ca there)")
      ->envname("RINGTUNNEL_TLS_CERT");
  command.add_option("--tls-key", flags.tls_key, "TLS: the private key (PEM) of --tls-cert")
      ->envname("RINGTUNNEL_TLS_KEY");
  if (server) {
    command
        .add_option("--tls-client-ca", flags.tls_client_ca,
                    "TLS: require client certificates that chain to this CA (PEM); such a "
                    "client is admitted without authorized_keys")
        ->envname("RINGTUNNEL_TLS_CLIENT_CA");
    return;
  }
  command
      .add_option("--tls-ca", flags.tls_ca,
                  "TLS: check the server's certificate chain against this CA bundle (PEM), or "
                  "'system' for the system's roots, and its name; default: pin the "
                  "certificate's key in known_hosts, as the native transport does")
      ->envname("RINGTUNNEL_TLS_CA");
  command
      .add_option("--tls-server-name", flags.tls_server_name,
                  "TLS: the name sent as SNI and checked in the certificate with --tls-ca; "
                  "default the server's host")
      ->envname("RINGTUNNEL_TLS_SERVER_NAME");
  command
      .add_flag("--tls-insecure-skip-verify", flags.tls_insecure_skip_verify,
                "TLS: check nothing about the server's certificate (tests only; warned on every "
                "connect)")
      ->envname("RINGTUNNEL_TLS_INSECURE_SKIP_VERIFY");
}

bool chosen_transport(const CommonFlags& flags, tunnel::Transport* transport) {
  *transport = tunnel::parse_transport(flags.transport).value_or(tunnel::Transport::native);
  const bool tls_flags = !flags.tls_cert.empty() || !flags.tls_key.empty() ||
                         !flags.tls_client_ca.empty() || flags.tls_ca || flags.tls_server_name ||
                         flags.tls_insecure_skip_verify;
  if (*transport == tunnel::Transport::native && tls_flags) {
    observe::log_error("--tls-* flags are for the TLS transport: add --transport tls");
    return false;
  }
  return true;
}

bool start_logging(const CommonFlags& flags, const std::string& component) {
  observe::LogOptions options;
  options.level = observe::LogLevel::info;
  observe::parse_log_level(flags.log_level, &options.level);  // checked by the flag
  if (flags.verbosity >= 2) options.level = observe::LogLevel::trace;
  if (flags.verbosity == 1) options.level = std::min(options.level, observe::LogLevel::debug);
  // A log file is for machines (logrotate, shippers): JSON lines. A terminal gets colour.
  options.json = flags.log_json || !flags.log_file.empty();
  options.file = flags.log_file;
  const char* term = std::getenv("TERM");
  options.color = !options.json && ::isatty(STDERR_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr &&
                  (term == nullptr || std::string_view(term) != "dumb");
  options.component = component;
  std::string error;
  if (!observe::init_logging(options, &error)) {
    std::fprintf(stderr, "ringtunnel %s: %s\n", component.c_str(), error.c_str());
    return false;
  }
  return true;
}

std::optional<tunnel::HeartbeatConfig> heartbeat_config(const CommonFlags& flags) {
  using std::chrono::milliseconds;
  const auto interval = milliseconds(static_cast<long>(flags.heartbeat_interval_s * 1000));
  const auto timeout = milliseconds(static_cast<long>(flags.heartbeat_timeout_s * 1000));
  if (timeout <= interval) {
    observe::log_error("--heartbeat-timeout {} s must be longer than --heartbeat-interval {} s "
                       "(a live peer answers within one interval)",
                       flags.heartbeat_timeout_s, flags.heartbeat_interval_s);
    return std::nullopt;
  }
  return tunnel::HeartbeatConfig{.interval = interval, .timeout = timeout};
}

std::chrono::milliseconds drain_timeout(const CommonFlags& flags) {
  return std::chrono::milliseconds(static_cast<long>(flags.drain_timeout_s * 1000));
}

runtime::EngineOptions engine_options(const CommonFlags& flags) {
  return embed::tunnel_engine_options({.threads = flags.threads,
                                       .backend = flags.io_backend,
                                       .idle_poll_us = flags.idle_poll_us,
                                       .pin = flags.pin_threads});
}

bool first_stop_signal(runtime::Reactor& reactor, int signal_number) {
  if (signal_number != SIGINT && signal_number != SIGTERM) return false;
  static int seen = 0;  // reactor 0's thread only
  if (reactor.id() != 0) return true;
  if (++seen >= 2) {
    std::fprintf(stderr, "ringtunnel: second signal: exiting now\n");
    std::_Exit(130);
  }
  return true;
}

void reopen_log_file_on(runtime::Reactor& reactor) {
  if (reactor.id() != 0) return;
  // Detached: it only takes the logging lock for one open(2); a stop meanwhile waits for it.
  std::thread([] {
    std::string error;
    if (!observe::reopen_log_file(&error)) observe::log_warn("SIGHUP: {}", error);
  }).detach();
}

}  // namespace ringtunnel::cli
