// SPDX-License-Identifier: MIT
// Allocation counters for "allocates nothing per record" tests: operator new and OpenSSL.
#pragma once

#include <cstddef>

namespace ringtunnel::testing {

/// Calls of the global operator new (every unaligned form) in this test binary so far. Linking
/// allocation_counter.cpp replaces the global allocation functions for the whole binary.
std::size_t operator_new_calls() noexcept;

/// Allocations OpenSSL has made through its allocator so far.
std::size_t openssl_allocations() noexcept;

/// False when OpenSSL had already allocated before the counting hooks could be installed (they
/// go in during static initialisation); tests then say they could not check.
bool openssl_hooks_installed() noexcept;

}  // namespace ringtunnel::testing
