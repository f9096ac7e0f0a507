// SPDX-License-Identifier: MIT
// DataDir: where ringtunnel keeps keys, known_hosts, authorized_keys and tokens.
#pragma once

#include <optional>
#include <string>

#include "runtime/result.hpp"

namespace ringtunnel::config {

/// The data directory: `--data-dir`, else $RINGTUNNEL_DATA_DIR, else ~/.ringtunnel (from $HOME,
/// or the password database when HOME is unset). Created with mode 0700 when missing; an existing
/// directory that group or others can write to is refused, since anyone who can replace
/// known_hosts or authorized_keys could redirect or impersonate.
class DataDir {
 public:
  /// Resolves and prepares the directory. On failure `error` says what and how to fix it.
  static std::optional<DataDir> open(const std::optional<std::string>& flag_value,
                                     std::string* error);

  const std::string& path() const noexcept { return path_; }
  /// `path()/name`.
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit DataDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

/// Where the data directory would be, without touching the file system (for --help and errors).
std::string default_data_dir_path(const std::optional<std::string>& flag_value);

}  // namespace ringtunnel::config
