// SPDX-License-Identifier: MIT
// constant_time_equal: compare secrets (MACs, tokens) without leaking where they differ.
#pragma once

#include <cstddef>
#include <span>

namespace ringtunnel::crypto {

/// True when `a` and `b` hold the same bytes. The lengths are compared first (a length is not
/// secret); for equal lengths the time taken does not depend on the contents (CRYPTO_memcmp,
/// or the same fold of every byte in the wolfSSL build).
/// Two empty spans are equal. Any thread.
[[nodiscard]] bool constant_time_equal(std::span<const std::byte> a,
                                       std::span<const std::byte> b) noexcept;

}  // namespace ringtunnel::crypto
