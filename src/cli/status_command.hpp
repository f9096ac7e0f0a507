// SPDX-License-Identifier: MIT
// `ringtunnel status`: keys, pins, enrolled clients, profiles, and the live state of every
// server or client running on this data dir.
#pragma once

#include <CLI/CLI.hpp>

namespace ringtunnel::cli {

/// Adds `status` to `app`; `exit_code` gets the status.
void add_status_command(CLI::App& app, int& exit_code);

}  // namespace ringtunnel::cli
