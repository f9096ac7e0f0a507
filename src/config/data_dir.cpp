// SPDX-License-Identifier: MIT
// DataDir: resolution order, creation with 0700, and the permission check on existing dirs.
#include "config/data_dir.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ringtunnel::config {

namespace {
std::string home_directory() {
  if (const char* home = std::getenv("HOME"); home && *home) return home;
  if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return ".";
}

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}
}  // namespace

std::string default_data_dir_path(const std::optional<std::string>& flag_value) {
  if (flag_value && !flag_value->empty()) return *flag_value;
  if (const char* env = std::getenv("RINGTUNNEL_DATA_DIR"); env && *env) return env;
  return home_directory() + "/.ringtunnel";
}

std::optional<DataDir> DataDir::open(const std::optional<std::string>& flag_value,
                                     std::string* error) {
  std::string path = default_data_dir_path(flag_value);
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = "cannot create the data directory '" + path + "': " + std::strerror(errno) +
             " (choose another with --data-dir or RINGTUNNEL_DATA_DIR)";
    return std::nullopt;
  }
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    *error = "cannot read the data directory '" + path + "': " + std::strerror(errno);
    return std::nullopt;
  }
  if (!S_ISDIR(st.st_mode)) {
    *error = "the data directory '" + path + "' exists but is not a directory";
    return std::nullopt;
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    *error = "the data directory '" + path + "' is writable by others (mode " + octal(st.st_mode) +
             "); run: chmod 700 " + path;
    return std::nullopt;
  }
  return DataDir(path);
}

}  // namespace ringtunnel::config
