// SPDX-License-Identifier: MIT
// fingerprint: the OpenSSH-style "SHA256:<base64>" name of a public key, for known_hosts.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace ringtunnel::crypto {

/// "SHA256:" followed by the base64 of SHA-256(public_key) without `=` padding (43
/// characters), the form `ssh-keygen -l` prints and known_hosts stores (protocol.md §1).
/// Any thread.
[[nodiscard]] std::string fingerprint(std::span<const std::byte, 32> public_key);

}  // namespace ringtunnel::crypto
