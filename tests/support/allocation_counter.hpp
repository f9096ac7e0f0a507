// SPDX-License-Identifier: MIT
// Allocation counters for "allocates nothing per record" tests: operator new and the crypto
// library's own allocator (OpenSSL's or wolfSSL's, whichever this build links).
#pragma once

#include <cstddef>

namespace ringtunnel::testing {

/// Calls of the global operator new (every unaligned form) in this test binary so far. Linking
/// allocation_counter.cpp replaces the global allocation functions for the whole binary.
std::size_t operator_new_calls() noexcept;

/// Allocations the crypto library has made through its allocator so far (OpenSSL's
/// CRYPTO_malloc/realloc, or wolfSSL's XMALLOC/XREALLOC with -Dcrypto=wolfssl).
std::size_t library_allocations() noexcept;

/// False when the counting hooks could not be installed (they go in during static
/// initialisation; OpenSSL refuses them once it has allocated); tests then say they could not
/// check. When true they count every allocation the library makes from then on. OpenSSL's
/// show they are live at the tests' first use of it (AeadKey::create allocates through them);
/// wolfCrypt keeps its contexts inside our objects, so installing wolfSSL's includes a probe
/// allocation through wolfSSL_Malloc, which library_allocations() counts as one.
bool library_hooks_installed() noexcept;

/// "OpenSSL" or "wolfSSL", for test messages.
const char* crypto_library_name() noexcept;

/// The names from before the wolfSSL backend: they count whichever library is linked.
inline std::size_t openssl_allocations() noexcept { return library_allocations(); }
inline bool openssl_hooks_installed() noexcept { return library_hooks_installed(); }

}  // namespace ringtunnel::testing
