// SPDX-License-Identifier: MIT
// KnownHosts: the client's pinned server identities, one `host:port SHA256:...` per line.
#pragma once

#include <string>
#include <vector>

#include "runtime/result.hpp"

namespace ringtunnel::crypto {

/// What known_hosts says about a server.
struct HostCheck {
  enum class Status { unknown, trusted, changed };
  Status status = Status::unknown;
  std::string pinned_fingerprint;  ///< for `changed`: what the file pins
  int line = 0;                    ///< for `trusted`/`changed`: 1-based line in the file
};

/// The file at `path` (usually <data dir>/known_hosts). Lines: `HOST:PORT SHA256:BASE64`, blank
/// lines and `#` comments ignored; a malformed line is reported (never silently skipped) so a
/// damaged file cannot quietly disable pinning. Not thread-safe; used at connect time only.
class KnownHosts {
 public:
  explicit KnownHosts(std::string path) : path_(std::move(path)) {}

  /// Looks `host_port` (as written by the user, e.g. `example.org:9000` or `[::1]:9000`) up.
  /// A missing file means every host is unknown. Errors: unreadable file, malformed line.
  Result<HostCheck> check(const std::string& host_port, const std::string& fingerprint,
                          std::string* error) const;
  /// Appends a pin, creating the file with mode 0600 if needed.
  Result<void> add(const std::string& host_port, const std::string& fingerprint,
                   std::string* error) const;
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

/// The SSH-style warning for a changed identity, with both fingerprints and the line to remove.
std::string identity_changed_warning(const std::string& host_port, const HostCheck& check,
                                     const std::string& offered_fingerprint,
                                     const std::string& known_hosts_path);

}  // namespace ringtunnel::crypto
