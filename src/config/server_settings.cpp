// SPDX-License-Identifier: MIT
// ServerSettings: the policy keys of config.yaml's `server:` section, checked.
#include "config/server_settings.hpp"

#include "config/config_file.hpp"

namespace ringtunnel::config {
namespace {

std::optional<unsigned> whole_number(const std::string& text, unsigned low, unsigned high) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value < low || value > high) return std::nullopt;
  return value;
}

}  // namespace

std::optional<ServerSettings> server_settings_from(const ConfigFile& file, std::string* error) {
  ServerSettings settings;
  settings.warnings = file.warnings;
  if (const Setting* ports = ConfigFile::find(file.server, "allowed_ports")) {
    settings.allowed_ports = FileValue<std::string>{ports->values.front().text, ports->line};
  }
  if (const Setting* hosts = ConfigFile::find(file.server, "allowed_hosts")) {
    settings.allowed_hosts = FileValue<std::string>{hosts->values.front().text, hosts->line};
  }
  if (const Setting* limit = ConfigFile::find(file.server, "max_clients")) {
    const std::string& text = limit->values.front().text;
    auto number = whole_number(text, 1, 1000000);
    if (!number) {
      *error = file.path + ":" + std::to_string(limit->line) +
               ": server.max_clients: expected a whole number from 1 to 1000000, got '" + text +
               "'";
      return std::nullopt;
    }
    settings.max_clients = FileValue<unsigned>{*number, limit->line};
  }
  return settings;
}

std::optional<ServerSettings> load_server_settings(const std::string& path, std::string* error) {
  auto file = load_config_file(path, error);
  if (!file) return std::nullopt;
  return server_settings_from(*file, error);
}

}  // namespace ringtunnel::config
