// SPDX-License-Identifier: MIT
// Tests for Ed25519 key files: 0600 creation, no overwrite, permission refusal, interop.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "crypto/ed25519.hpp"
#include "hex.hpp"

using namespace ringtunnel::crypto;
using testing::to_hex;

namespace {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/rt_keyfile_XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_text(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

mode_t permissions(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("save_private_key creates a 0600 file and loads back the same key",
          "[crypto][ed25519][keyfile]") {
  TempDir dir;
  const std::string path = dir.file("identity.key");
  const auto key = Ed25519PrivateKey::generate();
  std::string error;
  REQUIRE(save_private_key(key, path, &error).ok());
  CHECK(error.empty());
  CHECK(permissions(path) == 0600);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

  const auto loaded = load_private_key(path, &error);
  REQUIRE(loaded.ok());
  CHECK(loaded->public_key() == key.public_key());
  const auto message = testing::bytes_of("transcript");
  CHECK(ed25519_verify(key.public_key(), message, loaded->sign(message)));
}

TEST_CASE("save_private_key refuses to overwrite", "[crypto][ed25519][keyfile]") {
  TempDir dir;
  const std::string path = dir.file("identity.key");
  const auto first = Ed25519PrivateKey::generate();
  REQUIRE(save_private_key(first, path).ok());

  std::string error;
  const auto second = save_private_key(Ed25519PrivateKey::generate(), path, &error);
  REQUIRE_FALSE(second.ok());
  CHECK(second.error() == std::errc::file_exists);
  CHECK(error.find("'" + path + "' already exists") != std::string::npos);
  const auto loaded = load_private_key(path, nullptr);
  REQUIRE(loaded.ok());
  CHECK(loaded->public_key() == first.public_key());  // untouched
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

  // A stale temporary file is never followed or reused.
  const std::string other = dir.file("other.key");
  write_text(other + ".tmp", "stale", 0600);
  const auto blocked = save_private_key(first, other, &error);
  CHECK(blocked.error() == std::errc::file_exists);
  CHECK(error.find(other + ".tmp") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(other));
}

TEST_CASE("load_private_key refuses a file others can read", "[crypto][ed25519][keyfile]") {
  TempDir dir;
  const std::string path = dir.file("identity.key");
  REQUIRE(save_private_key(Ed25519PrivateKey::generate(), path).ok());
  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  std::string error;
  const auto loaded = load_private_key(path, &error);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error() == std::errc::permission_denied);
  CHECK(error == "permissions 0644 for '" + path + "' are too open; run chmod 600 " + path);

  REQUIRE(::chmod(path.c_str(), 0640) == 0);
  CHECK(load_private_key(path, nullptr).error() == std::errc::permission_denied);
  REQUIRE(::chmod(path.c_str(), 0400) == 0);
  CHECK(load_private_key(path, nullptr).ok());
}

TEST_CASE("load_private_key reads an OpenSSL PKCS#8 file", "[crypto][ed25519][keyfile]") {
  // The RFC 8032 TEST 1 seed as PKCS#8 DER (302e020100300506032b657004220420 || seed) in base64,
  // the same bytes `openssl pkey` prints for that key.
  TempDir dir;
  const std::string path = dir.file("rfc8032.pem");
  write_text(path,
             "-----BEGIN PRIVATE KEY-----\n"
             "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
             "-----END PRIVATE KEY-----\n",
             0600);
  std::string error;
  const auto loaded = load_private_key(path, &error);
  REQUIRE(loaded.ok());
  CHECK(to_hex(loaded->public_key()) ==
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
}

TEST_CASE("save_private_key writes what openssl pkey prints, on every backend",
          "[crypto][ed25519][keyfile]") {
  // The bytes are the on-disk format: a data dir written by one crypto backend's build must
  // load in the other's.
  TempDir dir;
  const std::string path = dir.file("rfc8032.pem");
  const auto seed =
      testing::array_from_hex<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  REQUIRE(save_private_key(Ed25519PrivateKey::from_seed(seed), path).ok());
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text ==
        "-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
        "-----END PRIVATE KEY-----\n");
}

TEST_CASE("load_private_key names the file on parse and type errors",
          "[crypto][ed25519][keyfile]") {
  TempDir dir;
  std::string error;
  const std::string missing = dir.file("missing.key");
  CHECK(load_private_key(missing, &error).error() == std::errc::no_such_file_or_directory);
  CHECK(error.find("'" + missing + "'") != std::string::npos);

  const std::string garbage = dir.file("garbage.key");
  write_text(garbage, "not a key\n", 0600);
  CHECK(load_private_key(garbage, &error).error() == std::errc::invalid_argument);
  CHECK(error.find("cannot read '" + garbage + "' as a PEM private key") != std::string::npos);

  // An X25519 key (RFC 7748 Alice) is a valid PEM private key of the wrong type.
  const std::string x25519 = dir.file("x25519.key");
  write_text(x25519,
             "-----BEGIN PRIVATE KEY-----\n"
             "MC4CAQAwBQYDK2VuBCIEIHcHbQpzGKV9PBbBclGyZkXfTC+H68CZKrF3+6UduSwq\n"
             "-----END PRIVATE KEY-----\n",
             0600);
  CHECK(load_private_key(x25519, &error).error() == std::errc::invalid_argument);
  CHECK(error.find("'" + x25519 + "' holds a X25519 key") != std::string::npos);

  // Made with `openssl genpkey -algorithm ed25519 -aes-256-cbc -pass pass:secret`: refused
  // without prompting for a passphrase.
  const std::string encrypted = dir.file("encrypted.key");
  write_text(encrypted,
             "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
             "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAj6COW87qcJNwICCAAw\n"
             "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEC+7dJAHeo7JCFTStQRFfxcEQFGY\n"
             "LCBm8/F6MsMAaB5BebHF/dIhz3yCwSPrX5y9VhDr43MwmX10ictmYrv22pPlQKUv\n"
             "BMTU9v9oL80PrfQa87k=\n"
             "-----END ENCRYPTED PRIVATE KEY-----\n",
             0600);
  CHECK(load_private_key(encrypted, &error).error() == std::errc::invalid_argument);
  CHECK(error.find("passphrase-protected keys are not supported") != std::string::npos);

  CHECK(load_private_key(dir.file(""), &error).error() == std::errc::invalid_argument);
  CHECK(error.find("is not a regular file") != std::string::npos);
}
