// SPDX-License-Identifier: MIT
// `ringtunnel client`: registers the subcommand; its callback runs the client to the end.
#pragma once

#include <CLI/CLI.hpp>

namespace ringtunnel::cli {

/// Adds `client` to `app`; when it runs, `exit_code` gets the process exit status.
void add_client_command(CLI::App& app, int& exit_code);

}  // namespace ringtunnel::cli
