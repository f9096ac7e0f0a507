// SPDX-License-Identifier: MIT
// ConfigFile: the data dir's config.yaml read and checked against the schema, every value kept
// as the text its flag would take, with the line it came from.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config_schema.hpp"

namespace ringtunnel::config {

/// One value and the line it was on (1-based), for "config.yaml:7: ..." messages.
struct LineValue {
  std::string text;
  int line = 0;
};

/// One key of a section. `values` holds one entry for a scalar, one per item for `tunnels:`
/// and `expose:` (each turned into `-L` or `-R` text) and one comma-joined entry for a list.
struct Setting {
  const KeySpec* spec = nullptr;
  std::string where;  ///< "defaults.bind", "profiles.dev.tunnels", "server.port"
  int line = 0;
  std::vector<LineValue> values;
};

struct Profile {
  std::string name;
  int line = 0;
  std::vector<Setting> settings;
  /// The setting for `key`, or nullptr.
  const Setting* find(std::string_view key) const;
};

struct ConfigFile {
  std::string path;
  bool exists = false;
  std::vector<Setting> defaults;
  std::vector<Profile> profiles;  ///< in file order
  std::vector<Setting> server;
  /// One sentence each: unknown keys and sections (with a "did you mean"), keys of the schema
  /// this version ignores. Each names the file and line.
  std::vector<std::string> warnings;

  const Profile* find_profile(std::string_view name) const;
  /// The setting for `key` in `defaults:` or `server:`, or nullptr.
  static const Setting* find(const std::vector<Setting>& section, std::string_view key);
};

/// Reads and checks `path`. A missing file is no error (exists = false, nothing set); null
/// values (`log_file: ~`) count as not set. Errors (not YAML, a section or value of the wrong
/// shape, a tunnel that is not a valid `-L` or `-R` spec): nullopt, and `*error` gets one sentence
/// naming the file, the line, the key and what was expected. The values' own ranges are checked by
/// the flags they stand for when they are applied. Blocking file I/O: call it off the reactors.
std::optional<ConfigFile> load_config_file(const std::string& path, std::string* error);

/// Parses YAML text as if it were the file `path` (for tests and `config init`'s self-check).
std::optional<ConfigFile> parse_config_text(const std::string& text, const std::string& path,
                                            std::string* error);

}  // namespace ringtunnel::config
