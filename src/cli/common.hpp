// SPDX-License-Identifier: MIT
// What the server and client commands share: logging flags, threads, the I/O backend, signals.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "observe/log.hpp"
#include "runtime/engine.hpp"
#include "tunnel/heartbeat.hpp"
#include "tunnel/transport.hpp"

namespace ringtunnel::cli {

/// Exit codes: 0 done, 1 a runtime failure (could not listen, the server refused us...),
/// 2 bad usage or configuration.
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

/// The flags every long-running command has.
struct CommonFlags {
  int verbosity = 0;  ///< -v: debug, -vv: trace
  std::string log_level = "info";
  std::string transport = "native";
  bool log_json = false;
  std::string log_file;
  unsigned threads = 0;
  std::string io_backend = "auto";
  unsigned idle_poll_us = 50;
  std::string pin_threads = "auto";
  std::uint32_t stream_window = 2u << 20;
  double heartbeat_interval_s = 15;
  double heartbeat_timeout_s = 60;
  double drain_timeout_s = 10;
  std::optional<std::string> data_dir;
  // TLS transport (--transport tls). Server: --tls-cert/--tls-key/--tls-client-ca; client:
  // all but --tls-client-ca.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::optional<std::string> tls_ca;
  std::optional<std::string> tls_server_name;
  bool tls_insecure_skip_verify = false;
};

enum class TlsRole { server, client };

/// Adds the TLS transport's flags for `role` to `command`.
void add_tls_flags(CLI::App& command, CommonFlags& flags, TlsRole role);

/// The transport --transport named (the flag's validator has checked it); false, with the
/// message logged, when TLS flags are given for the native transport.
bool chosen_transport(const CommonFlags& flags, tunnel::Transport* transport);

/// Adds the logging, engine, session and --data-dir flags to `command`, each with its
/// RINGTUNNEL_* environment variable.
void add_common_flags(CLI::App& command, CommonFlags& flags);

/// Sets up logging for `component` ("server", "client"); false (message printed) on failure.
bool start_logging(const CommonFlags& flags, const std::string& component);

/// The heartbeat from --heartbeat-interval/--heartbeat-timeout; nullopt (logged) when the
/// timeout is not longer than the interval.
std::optional<tunnel::HeartbeatConfig> heartbeat_config(const CommonFlags& flags);

/// --drain-timeout as a duration.
std::chrono::milliseconds drain_timeout(const CommonFlags& flags);

/// Engine options from the flags: threads, backend, a buffer ring sized for a tunnel.
runtime::EngineOptions engine_options(const CommonFlags& flags);

/// Counts SIGINT/SIGTERM on reactor 0: the second one exits at once (status 130), for when a
/// graceful stop takes too long for the person at the terminal. Returns true for the first.
bool first_stop_signal(runtime::Reactor& reactor, int signal_number);

/// SIGHUP's logging part, on reactor 0: the log file is opened again by its name (logrotate),
/// on a short-lived thread of its own, off the reactor.
void reopen_log_file_on(runtime::Reactor& reactor);


}  // namespace ringtunnel::cli
