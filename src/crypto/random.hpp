// SPDX-License-Identifier: MIT
// random_bytes: cryptographically secure random bytes from the crypto library's CSPRNG.
#pragma once

#include <cstddef>
#include <span>

namespace ringtunnel::crypto {

/// Fills `out` with bytes from the library's CSPRNG (RAND_bytes, or wolfCrypt's Hash DRBG per
/// thread, reseeded in a forked child), suitable for keys, nonces
/// and handshake randoms. Any thread.
///
/// Never fails: if the generator cannot produce randomness, the process prints why and aborts,
/// because a tunnel without randomness would hand out guessable keys.
void random_bytes(std::span<std::byte> out) noexcept;

}  // namespace ringtunnel::crypto
