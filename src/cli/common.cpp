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
                     "AES-256-GCM frames)")
      ->envname("RINGTUNNEL_TRANSPORT")
      ->check(CLI::Validator(
          [](const std::string& value) -> std::string {
            if (value == "native") return "";
            if (value == "tls") return "tls is not in this version yet; use native";
            return "'" + value + "' is not a transport; use native";
          },
          "native", "transport"))
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
