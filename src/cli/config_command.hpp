// SPDX-License-Identifier: MIT
// `ringtunnel config init [--force]` and `ringtunnel config show [--profile NAME]`.
#pragma once

#include <CLI/CLI.hpp>

namespace ringtunnel::cli {

/// Adds `config` (with `init` and `show`) to `app`; `exit_code` gets the status.
void add_config_command(CLI::App& app, int& exit_code);

}  // namespace ringtunnel::cli
