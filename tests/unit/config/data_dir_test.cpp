// SPDX-License-Identifier: MIT
// DataDir: precedence of flag/env/home, creation with 0700, refusal of a group-writable dir.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "config/data_dir.hpp"

using ringtunnel::config::DataDir;
using ringtunnel::config::default_data_dir_path;

namespace {
struct TempDir {
  std::string path;
  TempDir() {
    char pattern[] = "/tmp/rt-datadir-XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}
}  // namespace

TEST_CASE("the data dir comes from the flag, then the environment, then HOME", "[config]") {
  setenv("RINGTUNNEL_DATA_DIR", "/from/env", 1);
  setenv("HOME", "/home/someone", 1);
  CHECK(default_data_dir_path(std::string("/from/flag")) == "/from/flag");
  CHECK(default_data_dir_path(std::nullopt) == "/from/env");
  unsetenv("RINGTUNNEL_DATA_DIR");
  CHECK(default_data_dir_path(std::nullopt) == "/home/someone/.ringtunnel");
}

TEST_CASE("a missing data dir is created with mode 0700", "[config]") {
  TempDir tmp;
  const std::string dir = tmp.path + "/data";
  std::string error;
  auto opened = DataDir::open(dir + "/", &error);
  REQUIRE(opened.has_value());
  CHECK(opened->path() == dir);
  CHECK(opened->file("server_key") == dir + "/server_key");
  CHECK(mode_of(dir) == 0700);
}

TEST_CASE("a data dir others can write to is refused with the fix", "[config]") {
  TempDir tmp;
  REQUIRE(chmod(tmp.path.c_str(), 0770) == 0);
  std::string error;
  CHECK_FALSE(DataDir::open(tmp.path, &error).has_value());
  CHECK(error.find("writable by others") != std::string::npos);
  CHECK(error.find("chmod 700 " + tmp.path) != std::string::npos);
}

TEST_CASE("a data dir path that is a file is refused", "[config]") {
  TempDir tmp;
  const std::string file = tmp.path + "/plain";
  REQUIRE(std::system(("touch '" + file + "'").c_str()) == 0);
  std::string error;
  CHECK_FALSE(DataDir::open(file, &error).has_value());
  CHECK(error.find("not a directory") != std::string::npos);
}
