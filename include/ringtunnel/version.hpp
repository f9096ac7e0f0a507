// SPDX-License-Identifier: MIT
// The library's version, for embedders and `ringtunnel version`.
#pragma once

namespace ringtunnel {
/// Semantic version of this build of libringtunnel.
inline constexpr const char* kVersion = "0.1.0";
}  // namespace ringtunnel
