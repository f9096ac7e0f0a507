// SPDX-License-Identifier: MIT
// The config.yaml schema in one table: every key of `defaults:`, a profile and `server:`, the
// flag it stands for, and the shape its value must have. The loader, `config show`, the template
// `config init` writes and docs/config.md all follow this table.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace ringtunnel::config {

/// Where a key may appear (a bit set).
enum Section : unsigned {
  kDefaults = 1u << 0,  ///< `defaults:`: under every profile, and under `ringtunnel client`
  kProfile = 1u << 1,   ///< one entry of `profiles:`
  kServer = 1u << 2,    ///< `server:`
};

/// What YAML value a key takes before the flag's own check sees it.
enum class Shape {
  scalar,   ///< one value: a number, a word
  path,     ///< a file name; a leading ~/ is the home directory
  boolean,  ///< true/false (yes/no, on/off)
  level,    ///< `verbose:` true/false or a count (2 = -vv)
  list,     ///< a YAML list of scalars, or the flag's comma-separated text
  /// A list of tunnel strings and maps: `tunnels:` as -L ("L:R[:udp]" or {local, remote,
  /// mode, host, bind}), `expose:` as -R ("P:L[:udp]" or {public, local, ...}).
  tunnels,
  /// Names and what each stands for: a map {NAME: VALUE} or a list of "NAME=VALUE" texts, each
  /// one value "NAME=VALUE" of a repeatable flag (`http:` as --http, `reserved_names:`).
  named,
};

struct KeySpec {
  std::string_view key;
  unsigned sections;  ///< Section bits
  Shape shape;
  std::string_view flag;  ///< the option it sets ("--bind"); the flag's checks apply to it
  /// Read by the server again on SIGHUP (its policy), so kept apart from the start-up flags.
  bool reloadable = false;
  /// In the schema but not acted on by this version: warned about, then ignored.
  std::string_view not_yet;
};

/// Every key, in the order `config show` and the template list them.
std::span<const KeySpec> schema();

/// The key `key` in `section`, or nullptr.
const KeySpec* find_key(Section section, std::string_view key);

/// "; did you mean 'KEY'?" for the closest key of `section` (at most two edits away), or "".
std::string suggest_key(Section section, std::string_view key);

/// "; did you mean 'WORD'?" for the closest of `words` (at most two edits away), or "".
std::string suggest_word(std::string_view typed, std::span<const std::string_view> words);

/// "defaults", "profiles.NAME" or "server", for messages.
std::string_view section_name(Section section);

}  // namespace ringtunnel::config
