// SPDX-License-Identifier: MIT
// The config file as the layer under the flags: each setting goes to the option it stands for,
// through that option's own checks, unless a flag or environment variable already set it.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/config_file.hpp"

namespace ringtunnel::cli {

/// `<data dir>/config.yaml` for the --data-dir value (or its environment default) of a command.
std::string config_path(const std::optional<std::string>& data_dir_flag);

/// Applies `settings` to the options of `command` that are still unset: precedence is flag >
/// environment > the first layer applied > later layers > built-in default, so apply a profile
/// before `defaults:`. Reloadable keys (the server's policy) are skipped: the server reads those
/// itself, at start and on SIGHUP. A value its option rejects: false, with `*error` naming the
/// file, line and key, then the option's complaint.
bool apply_settings(CLI::App& command, const std::vector<config::Setting>& settings,
                    const std::string& path, std::string* error);

/// True when `name` ("--bind") was set by a flag, the environment or an applied layer.
bool option_set(const CLI::App& command, const std::string& name);

}  // namespace ringtunnel::cli
