// SPDX-License-Identifier: MIT
// RT_ASSERT (always on) and RT_DCHECK (debug only) for invariants, never for peer input.
#pragma once

namespace ringtunnel::detail {
/// Prints the broken invariant and a stack trace to stderr, then aborts.
[[noreturn]] void assert_failed(const char* expr, const char* file, int line) noexcept;
}  // namespace ringtunnel::detail

/// An invariant whose breach would corrupt state: checked in every build.
#define RT_ASSERT(expr) \
  ((expr) ? static_cast<void>(0) : ::ringtunnel::detail::assert_failed(#expr, __FILE__, __LINE__))

#ifdef NDEBUG
#define RT_DCHECK(expr) static_cast<void>(0)
#else
/// A cheap sanity check, compiled out of release builds.
#define RT_DCHECK(expr) RT_ASSERT(expr)
#endif
