// SPDX-License-Identifier: MIT
// `ringtunnel server`: registers the subcommand; its callback runs the server to the end.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "cli/common.hpp"

namespace ringtunnel::cli {

struct ServerFlags {
  CommonFlags common;
  std::uint16_t port = 9000;
  std::string bind = "0.0.0.0";
  std::string expose_bind = "0.0.0.0";
  std::string http_bind;   // ADDR:PORT, empty: no HTTP ingress
  std::string https_bind;  // ADDR:PORT, empty: no TLS ingress
  std::string domain;
  double http_timeout_s = 60;
  std::vector<std::string> reserved_names;  // NAME=SHA256:...
  std::optional<unsigned> max_clients;       // absent: config.yaml's, else 10
  std::optional<std::string> allowed_ports;  // absent: config.yaml's, else every port
  std::optional<std::string> allowed_hosts;
  std::optional<std::string> token;
  std::optional<std::string> token_file;
  bool trust_first_client = false;
  std::uint32_t max_streams = 8192;
};

/// Adds every server flag to `command` (each with its RINGTUNNEL_* variable).
void add_server_flags(CLI::App& command, ServerFlags& flags);

/// Adds `server` to `app`; when it runs, `exit_code` gets the process exit status.
void add_server_command(CLI::App& app, int& exit_code);

}  // namespace ringtunnel::cli
