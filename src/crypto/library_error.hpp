// SPDX-License-Identifier: MIT
// Internal to src/crypto: the crypto library's error queue as text, and the fatal-error exit.
#pragma once

#include <string>

namespace ringtunnel::crypto::detail {

/// The most recent error the crypto library queued on this thread (OpenSSL's error queue; the
/// last wolfCrypt error code src/crypto/wolfssl/ recorded), as one line of text ("unknown
/// error" when there is none). Clears it, so a stale error never surfaces in a later,
/// unrelated report.
std::string take_library_error();

/// For failures that only a broken library or memory exhaustion can cause (a digest over a
/// valid input, a key derived from a valid seed) or that make going on unsafe (no randomness):
/// prints "ringtunnel: crypto: <what> (<library error>)" to stderr and aborts.
[[noreturn]] void library_failure(const char* what) noexcept;

}  // namespace ringtunnel::crypto::detail
