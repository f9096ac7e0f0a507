// SPDX-License-Identifier: MIT
// The key and token files in the data directory: made on first start, checked on every start.
#pragma once

#include <optional>
#include <string>

#include "crypto/ed25519.hpp"
#include "runtime/result.hpp"

namespace ringtunnel::config {

// Start-up only (blocking file I/O on the calling thread). Every error fills `*error` with one
// sentence naming the file and the fix.

/// The Ed25519 key at `path` (`key` for a client, `server_key` for a server), created with mode
/// 0600 when missing (`*created` then true). An existing key that group or others can read is
/// refused, like ssh does.
Result<crypto::Ed25519PrivateKey> load_or_create_key(const std::string& path, bool* created,
                                                     std::string* error);

/// The enrolment token in `path` (`server_token`): read when the file exists (refused when group
/// or others can read it); otherwise, if `create` is true, a new random one is written there with
/// mode 0600 (`*created` then true); otherwise nullopt.
Result<std::optional<std::string>> load_or_create_token(const std::string& path, bool create,
                                                        bool* created, std::string* error);

/// A fresh random token: 48 hexadecimal digits (192 bits), safe to paste into a shell.
std::string make_token();

}  // namespace ringtunnel::config
