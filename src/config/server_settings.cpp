// SPDX-License-Identifier: MIT
// ServerSettings: the `server:` section of config.yaml, read with yaml-cpp and checked.
#include "config/server_settings.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

namespace ringtunnel::config {
namespace {

// The keys this version reads, and the rest of the schema's `server:` keys (docs/config.md):
// those still come from flags only.
constexpr std::array<std::string_view, 3> kRead = {"allowed_ports", "allowed_hosts",
                                                   "max_clients"};
constexpr std::array<std::string_view, 7> kNotReadYet = {
    "port", "bind", "token_file", "transport", "drain_timeout", "health_port", "token"};
constexpr std::array<std::string_view, 3> kTopLevel = {"server", "defaults", "profiles"};

// Levenshtein distance, for "did you mean".
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

template <std::size_t N, std::size_t M>
std::string suggestion(std::string_view key, const std::array<std::string_view, N>& first,
                       const std::array<std::string_view, M>& second) {
  std::string_view best;
  std::size_t best_distance = 3;  // further than 2 edits is no suggestion
  const auto consider = [&](std::string_view candidate) {
    const std::size_t d = distance(key, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  };
  for (std::string_view candidate : first) consider(candidate);
  for (std::string_view candidate : second) consider(candidate);
  return best.empty() ? std::string() : "; did you mean '" + std::string(best) + "'?";
}

int line_of(const YAML::Node& node) { return node.Mark().line + 1; }

// Where in the file: "PATH:LINE: server.KEY: ".
std::string at(const std::string& path, const YAML::Node& node, std::string_view key) {
  return path + ":" + std::to_string(line_of(node)) + ": server." + std::string(key) + ": ";
}

// A scalar, or a list of scalars joined with commas (the flags' text form).
std::optional<std::string> list_text(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  if (!node.IsSequence()) return std::nullopt;
  std::string text;
  for (const YAML::Node& item : node) {
    if (!item.IsScalar()) return std::nullopt;
    if (!text.empty()) text += ',';
    text += item.Scalar();
  }
  return text;
}

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

std::optional<ServerSettings> load_server_settings(const std::string& path, std::string* error) {
  ServerSettings settings;
  std::ifstream file(path);
  if (!file) {
    if (errno == ENOENT) return settings;  // no config file: flags and defaults only
    *error = path + ": cannot read: " + std::strerror(errno);
    return std::nullopt;
  }
  std::stringstream text;
  text << file.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    *error = path + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg;
    return std::nullopt;
  }
  if (root.IsNull()) return settings;  // an empty file
  if (!root.IsMap()) {
    *error = path + ":" + std::to_string(line_of(root)) +
             ": expected a map of sections (server:, defaults:, profiles:)";
    return std::nullopt;
  }
  for (const auto& entry : root) {
    const std::string key = entry.first.as<std::string>();
    if (std::find(kTopLevel.begin(), kTopLevel.end(), key) == kTopLevel.end()) {
      settings.warnings.push_back(path + ":" + std::to_string(line_of(entry.first)) +
                                  ": unknown section '" + key + "'" +
                                  suggestion(key, kTopLevel, std::array<std::string_view, 0>{}) +
                                  " (ignored)");
    }
  }
  const YAML::Node server = root["server"];
  if (!server || server.IsNull()) return settings;
  if (!server.IsMap()) {
    *error = path + ":" + std::to_string(line_of(server)) + ": server: expected a map of keys";
    return std::nullopt;
  }
  for (const auto& entry : server) {
    const std::string key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    const int line = line_of(entry.first);
    if (key == "allowed_ports" || key == "allowed_hosts") {
      auto joined = list_text(value);
      if (!joined) {
        *error = at(path, entry.first, key) + "expected a list such as " +
                 (key == "allowed_ports" ? "[5432, 8000-8100] or \"5432,8000-8100\""
                                         : "[db.internal, 10.0.0.0/8] or \"db.internal,10.0.0.0/8\"");
        return std::nullopt;
      }
      (key == "allowed_ports" ? settings.allowed_ports : settings.allowed_hosts) =
          FileValue<std::string>{*joined, line};
    } else if (key == "max_clients") {
      auto number = value.IsScalar() ? whole_number(value.Scalar(), 1, 1000000) : std::nullopt;
      if (!number) {
        *error = at(path, entry.first, key) + "expected a whole number from 1 to 1000000, got '" +
                 (value.IsScalar() ? value.Scalar() : std::string("a list or map")) + "'";
        return std::nullopt;
      }
      settings.max_clients = FileValue<unsigned>{*number, line};
    } else if (std::find(kNotReadYet.begin(), kNotReadYet.end(), key) != kNotReadYet.end()) {
      settings.warnings.push_back(at(path, entry.first, key) +
                                  "not read from the config file by this version; use --" +
                                  [&] {
                                    std::string flag = key;
                                    std::replace(flag.begin(), flag.end(), '_', '-');
                                    return flag;
                                  }() + " (ignored)");
    } else {
      settings.warnings.push_back(at(path, entry.first, key) + "unknown key" +
                                  suggestion(key, kRead, kNotReadYet) + " (ignored)");
    }
  }
  return settings;
}

}  // namespace ringtunnel::config
