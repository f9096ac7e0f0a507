// SPDX-License-Identifier: MIT
// Config settings into CLI11 options: add_result plus the option's callback, as if typed.
#include "cli/config_layer.hpp"

#include "config/data_dir.hpp"

namespace ringtunnel::cli {
namespace {

// `server: HOST` is --ip; `server: HOST:PORT` (or [V6]:PORT) is --server.
std::string server_flag(const std::string& text) {
  if (text.starts_with('[')) return text.find("]:") != std::string::npos ? "--server" : "--ip";
  return std::count(text.begin(), text.end(), ':') == 1 ? "--server" : "--ip";
}

}  // namespace

std::string config_path(const std::optional<std::string>& data_dir_flag) {
  return config::default_data_dir_path(data_dir_flag) + "/config.yaml";
}

bool option_set(const CLI::App& command, const std::string& name) {
  const CLI::Option* option = command.get_option_no_throw(name);
  return option != nullptr && option->count() > 0;
}

bool apply_settings(CLI::App& command, const std::vector<config::Setting>& settings,
                    const std::string& path, std::string* error) {
  for (const config::Setting& setting : settings) {
    if (setting.spec->reloadable) continue;
    std::string name(setting.spec->flag);
    if (setting.spec->key == "server") {
      // A server named on the command line, either way, replaces the file's.
      if (option_set(command, "--ip") || option_set(command, "--server")) continue;
      name = server_flag(setting.values.front().text);
    }
    CLI::Option* option = command.get_option_no_throw(name);
    if (option == nullptr) {
      *error = path + ":" + std::to_string(setting.line) + ": " + setting.where + ": not a " +
               command.get_name() + " setting";
      return false;
    }
    if (option->count() > 0) continue;
    try {
      for (const config::LineValue& value : setting.values) option->add_result(value.text);
      option->run_callback();
    } catch (const CLI::Error& e) {
      option->clear();
      *error = path + ":" + std::to_string(setting.line) + ": " + setting.where + ": " + e.what();
      return false;
    }
  }
  return true;
}

}  // namespace ringtunnel::cli
