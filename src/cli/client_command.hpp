// SPDX-License-Identifier: MIT
// `ringtunnel client` and `ringtunnel connect PROFILE`: the same flags, the same run; connect
// takes its server and tunnels from a profile first.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "cli/common.hpp"
#include "client/client.hpp"

namespace ringtunnel::cli {

struct ClientFlags {
  CommonFlags common;
  std::string ip;
  std::string server;  // HOST:PORT, the alternative to --ip/--port
  std::uint16_t port = 9000;
  std::vector<std::string> forwards;
  std::vector<std::string> exposes;  ///< -R texts
  std::vector<std::string> http;     ///< --http NAME=[HOST:]PORT
  std::vector<std::string> https;    ///< --https NAME=[HOST:]PORT
  std::string local_addr;            ///< --local-addr [HOST:]PORT (empty: none)
  std::string tunnel_id;             ///< --tunnel-id NAME for --local-addr
  /// True when any tunnel of any kind is given (-L, -R, --http, --https, --local-addr).
  bool has_tunnels() const noexcept {
    return !forwards.empty() || !exposes.empty() || !http.empty() || !https.empty() ||
           !local_addr.empty();
  }
  std::string bind = "localhost";
  std::optional<std::string> token;
  std::optional<std::string> token_file;
  bool accept_new_host = false;
  std::optional<std::string> server_fingerprint;
  unsigned sessions = 0;
  double connect_wait_s = 10;
  double udp_idle_timeout_s = 60;
  std::uint32_t udp_max_flows = 1024;
};

/// Adds every client flag to `command` (each with its RINGTUNNEL_* variable). Neither -L nor
/// -R is required by the parser: each command says what it needs once its sources are merged.
void add_client_flags(CLI::App& command, ClientFlags& flags);

/// Runs the client until it stops; the process exit status. `config_warnings` (and `origin`,
/// where the settings came from, unless empty) are logged once logging is set up.
/// `reload`, when given (connect PROFILE with the profile's tunnels), is what SIGHUP re-reads.
int run_client(const ClientFlags& flags, const std::vector<std::string>& config_warnings,
               const std::string& origin, client::ForwardReader reload = {});

/// Adds `client` to `app`; when it runs, `exit_code` gets the process exit status.
void add_client_command(CLI::App& app, int& exit_code);

/// Adds `connect PROFILE` to `app`.
void add_connect_command(CLI::App& app, int& exit_code);

}  // namespace ringtunnel::cli
