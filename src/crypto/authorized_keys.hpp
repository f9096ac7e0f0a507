// SPDX-License-Identifier: MIT
// AuthorizedKeys: the client keys a server admits, one `ed25519 <base64> comment` per line.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "runtime/result.hpp"

namespace ringtunnel::crypto {

using PublicKey = std::array<std::byte, 32>;

struct AuthorizedKey {
  PublicKey key{};
  std::string comment;
};

/// The server's authorized_keys file. Loaded once at start (and on reload); appended to when a
/// client enrols with the token. Malformed lines are errors naming the line, never skipped.
class AuthorizedKeys {
 public:
  /// Reads `path`; a missing file is an empty list.
  static Result<AuthorizedKeys> load(const std::string& path, std::string* error);

  bool contains(const PublicKey& key) const noexcept;
  std::size_t size() const noexcept { return keys_.size(); }
  bool empty() const noexcept { return keys_.empty(); }
  const std::vector<AuthorizedKey>& keys() const noexcept { return keys_; }

  /// Appends `key` (file created 0600) unless present. `comment` is sanitised to one line.
  Result<void> add(const PublicKey& key, const std::string& comment, std::string* error);
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  std::vector<AuthorizedKey> keys_;
};

/// The authorized_keys form of a public key: "ed25519 <base64>".
std::string authorized_key_text(const PublicKey& key);

}  // namespace ringtunnel::crypto
