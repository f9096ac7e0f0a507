// SPDX-License-Identifier: MIT
// `ringtunnel server`: registers the subcommand; its callback runs the server to the end.
#pragma once

#include <CLI/CLI.hpp>

namespace ringtunnel::cli {

/// Adds `server` to `app`; when it runs, `exit_code` gets the process exit status.
void add_server_command(CLI::App& app, int& exit_code);

}  // namespace ringtunnel::cli
