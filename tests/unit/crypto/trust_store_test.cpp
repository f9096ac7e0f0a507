// SPDX-License-Identifier: MIT
// known_hosts and authorized_keys: lookup, pinning, changed keys, malformed files, 0600 files.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <string>

#include "crypto/authorized_keys.hpp"
#include "crypto/known_hosts.hpp"

using namespace ringtunnel::crypto;

namespace {
struct TempDir {
  std::string path;
  TempDir() {
    char pattern[] = "/tmp/rt-trust-XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

const std::string kFpA = "SHA256:" + std::string(43, 'A');
const std::string kFpB = "SHA256:" + std::string(42, 'B') + "+";

PublicKey key_of(unsigned char fill) {
  PublicKey k;
  k.fill(std::byte{fill});
  return k;
}
}  // namespace

TEST_CASE("known_hosts: unknown, pinned, then trusted", "[trust]") {
  TempDir dir;
  KnownHosts hosts(dir.path + "/known_hosts");
  std::string error;
  auto first = hosts.check("example.org:9000", kFpA, &error);
  REQUIRE(first.ok());
  CHECK(first->status == HostCheck::Status::unknown);
  REQUIRE(hosts.add("example.org:9000", kFpA, &error).ok());
  CHECK(mode_of(hosts.path()) == 0600);
  auto again = hosts.check("example.org:9000", kFpA, &error);
  REQUIRE(again.ok());
  CHECK(again->status == HostCheck::Status::trusted);
  CHECK(again->line == 1);
  // Another port is another server.
  CHECK(hosts.check("example.org:9001", kFpA, &error)->status == HostCheck::Status::unknown);
}

TEST_CASE("known_hosts: a changed identity is reported with the pinned line", "[trust]") {
  TempDir dir;
  KnownHosts hosts(dir.path + "/known_hosts");
  write_file(hosts.path(), "# pins\n\n[::1]:9000 " + kFpA + "\n");
  std::string error;
  auto result = hosts.check("[::1]:9000", kFpB, &error);
  REQUIRE(result.ok());
  REQUIRE(result->status == HostCheck::Status::changed);
  CHECK(result->line == 3);
  CHECK(result->pinned_fingerprint == kFpA);
  const std::string warning = identity_changed_warning("[::1]:9000", *result, kFpB, hosts.path());
  CHECK(warning.find("WARNING: SERVER IDENTITY HAS CHANGED!") != std::string::npos);
  CHECK(warning.find(kFpA) != std::string::npos);
  CHECK(warning.find(kFpB) != std::string::npos);
  CHECK(warning.find("sed -i '3d' " + hosts.path()) != std::string::npos);
}

TEST_CASE("known_hosts: a malformed line is an error, not a skipped pin", "[trust]") {
  TempDir dir;
  KnownHosts hosts(dir.path + "/known_hosts");
  write_file(hosts.path(), "good:1 " + kFpA + "\nbad:2 SHA256:short\n");
  std::string error;
  CHECK_FALSE(hosts.check("good:1", kFpA, &error).ok());  // even though line 1 matches
  CHECK(error.find(":2: malformed line") != std::string::npos);
  CHECK_FALSE(hosts.add("has space:1", kFpA, &error).ok());
  CHECK_FALSE(hosts.add("host:1", "MD5:nope", &error).ok());
}

TEST_CASE("authorized_keys: add, reload, contains, comments", "[trust]") {
  TempDir dir;
  const std::string path = dir.path + "/authorized_keys";
  std::string error;
  auto keys = AuthorizedKeys::load(path, &error);
  REQUIRE(keys.ok());
  CHECK(keys->empty());
  REQUIRE(keys->add(key_of(1), "laptop\nevil: injected line", &error).ok());
  REQUIRE(keys->add(key_of(2), "", &error).ok());
  REQUIRE(keys->add(key_of(1), "duplicate", &error).ok());  // present: not added twice
  CHECK(mode_of(path) == 0600);
  auto reloaded = AuthorizedKeys::load(path, &error);
  REQUIRE(reloaded.ok());
  REQUIRE(reloaded->size() == 2);
  CHECK(reloaded->contains(key_of(1)));
  CHECK(reloaded->contains(key_of(2)));
  CHECK_FALSE(reloaded->contains(key_of(3)));
  CHECK(reloaded->keys()[0].comment == "laptop evil: injected line");  // stayed one line
}

TEST_CASE("authorized_keys: malformed lines are errors naming the line", "[trust]") {
  TempDir dir;
  const std::string path = dir.path + "/authorized_keys";
  std::string error;
  write_file(path, authorized_key_text(key_of(7)) + " ok\nssh-rsa AAAA bad\n");
  CHECK_FALSE(AuthorizedKeys::load(path, &error).ok());
  CHECK(error.find(":2: malformed line") != std::string::npos);
  write_file(path, "ed25519 " + std::string(44, 'A') + "\n");  // wrong padding/length
  CHECK_FALSE(AuthorizedKeys::load(path, &error).ok());
}
