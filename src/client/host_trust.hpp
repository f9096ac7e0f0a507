// SPDX-License-Identifier: MIT
// HostTrust: does the client trust the server identity it was shown? known_hosts, flags, prompt.
#pragma once

#include <optional>
#include <string>

#include "crypto/known_hosts.hpp"
#include "runtime/result.hpp"

namespace ringtunnel::client {

struct TrustOptions {
  std::string host_port;  ///< the server as the user wrote it: known_hosts is keyed by it
  std::optional<std::string> expected_fingerprint;  ///< --server-fingerprint
  bool accept_new_host = false;                     ///< --accept-new-host
  bool interactive = false;  ///< a person is at the terminal (stdin and stderr are ttys)
};

/// The SSH-style decision of docs/protocol.md §1:
///   pinned and matching          → trusted;
///   pinned with another key      → refused, with the WARNING: SERVER IDENTITY HAS CHANGED! text;
///   unknown, --server-fingerprint → trusted and pinned if it matches, refused otherwise;
///   unknown, --accept-new-host   → trusted and pinned, with a warning line;
///   unknown, on a terminal       → the person is asked (yes pins it);
///   unknown otherwise            → refused, saying which flag to use.
/// Blocking (file I/O, and the prompt reads the terminal): call it off the reactors.
class HostTrust {
 public:
  HostTrust(crypto::KnownHosts known_hosts, TrustOptions options)
      : known_hosts_(std::move(known_hosts)), options_(std::move(options)) {}

  /// Ok when `fingerprint` may be trusted; otherwise identity_changed (a protocol reason) with
  /// the full explanation in `*message`. `*pinned_now` says whether the pin was added now.
  Result<void> decide(const std::string& fingerprint, std::string* message, bool* pinned_now);

 private:
  bool ask(const std::string& fingerprint);
  Result<void> pin(const std::string& fingerprint, std::string* message);

  crypto::KnownHosts known_hosts_;
  TrustOptions options_;
};

}  // namespace ringtunnel::client
