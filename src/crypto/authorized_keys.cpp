// SPDX-License-Identifier: MIT
// AuthorizedKeys: parsing with exact key length checks, and 0600 appends.
#include "crypto/authorized_keys.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "crypto/base64.hpp"
#include "crypto/constant_time.hpp"

namespace ringtunnel::crypto {

namespace {
// Exactly 44 characters: the padded base64 of 32 bytes, ending in one '='.
bool decode_key(const std::string& text, PublicKey& out) {
  return detail::base64_decode(text, out);
}

std::string encode_key(const PublicKey& key) { return detail::base64_encode(key); }

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s.substr(0, 128);
}
}  // namespace

std::string authorized_key_text(const PublicKey& key) { return "ed25519 " + encode_key(key); }

Result<AuthorizedKeys> AuthorizedKeys::load(const std::string& path, std::string* error) {
  AuthorizedKeys result;
  result.path_ = path;
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return result;
    *error = "cannot read " + path + ": " + std::strerror(errno);
    return errno_code(EIO);
  }
  std::string raw;
  for (int line = 1; std::getline(in, raw); ++line) {
    std::istringstream fields(raw);
    std::string type;
    std::string encoded;
    if (!(fields >> type) || type[0] == '#') continue;
    AuthorizedKey entry;
    if (type != "ed25519" || !(fields >> encoded) || !decode_key(encoded, entry.key)) {
      *error = path + ":" + std::to_string(line) +
               ": malformed line (expected 'ed25519 <44 base64 characters> [comment]')";
      return errno_code(EINVAL);
    }
    std::getline(fields >> std::ws, entry.comment);
    result.keys_.push_back(std::move(entry));
  }
  return result;
}

bool AuthorizedKeys::contains(const PublicKey& key) const noexcept {
  bool found = false;
  for (const auto& entry : keys_) {
    // Constant time per comparison: the list is not secret, but the presented key's bytes
    // should not decide how long the check takes.
    found |= constant_time_equal(entry.key, key);
  }
  return found;
}

Result<void> AuthorizedKeys::add(const PublicKey& key, const std::string& comment,
                                 std::string* error) {
  if (contains(key)) return {};
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot write " + path_ + ": " + std::strerror(errno);
    return errno_code(errno);
  }
  const std::string clean = one_line(comment);
  const std::string line = authorized_key_text(key) + (clean.empty() ? "" : " " + clean) + "\n";
  const ssize_t n = ::write(fd, line.data(), line.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) {
    *error = "cannot write " + path_ + ": short write";
    return errno_code(EIO);
  }
  keys_.push_back({key, clean});
  return {};
}

}  // namespace ringtunnel::crypto
