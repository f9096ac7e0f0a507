// SPDX-License-Identifier: MIT
// ServerSettings: what the `server:` section of the data dir's config.yaml sets (the part of
// the config file this version reads), with the line each value came from.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ringtunnel::config {

/// One value from the file and where it was, for error messages ("config.yaml:7: ...").
template <typename T>
struct FileValue {
  T value;
  int line = 0;  ///< 1-based
};

/// The server's policy keys of `server:`, which SIGHUP reads again (the other keys stand for
/// start-up flags and are applied by the CLI). Lists are kept as the flags' text (a YAML list
/// [5432, 8000-8100] becomes "5432,8000-8100") so they are checked by the same parsers as
/// --allowed-ports and --allowed-hosts.
struct ServerSettings {
  std::optional<FileValue<std::string>> allowed_ports;
  std::optional<FileValue<std::string>> allowed_hosts;
  std::optional<FileValue<unsigned>> max_clients;
  /// The file's warnings (unknown keys with a "did you mean", keys this version ignores).
  std::vector<std::string> warnings;
};

struct ConfigFile;

/// The policy keys of a file already read; max_clients is checked here.
std::optional<ServerSettings> server_settings_from(const ConfigFile& file, std::string* error);

/// Reads `path` (YAML). A missing file is no error: nothing is set. Errors: nullopt, and
/// `*error` gets one sentence naming the file, the line, the key and what was expected, e.g.
/// "/home/a/.ringtunnel/config.yaml:4: server.max_clients: expected a whole number from 1 to
/// 1000000, got 'ten'". Blocking file I/O: call it off the reactors.
std::optional<ServerSettings> load_server_settings(const std::string& path, std::string* error);

}  // namespace ringtunnel::config
