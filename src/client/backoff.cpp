// SPDX-License-Identifier: MIT
// Backoff: doubling waits with ±10 % jitter, capped.
#include "client/backoff.hpp"

#include <algorithm>

namespace ringtunnel::client {

Backoff::Backoff(Duration first, Duration cap, std::uint64_t seed)
    : first_(first), cap_(std::max(cap, first)), rng_(seed != 0 ? seed : std::random_device{}()) {}

Backoff::Duration Backoff::next() {
  Duration base = first_;
  for (unsigned i = 0; i < attempt_ && base < cap_; ++i) base *= 2;
  base = std::min(base, cap_);
  if (attempt_ < 64) ++attempt_;
  std::uniform_real_distribution<double> jitter(0.9, 1.1);
  return Duration(static_cast<Duration::rep>(static_cast<double>(base.count()) * jitter(rng_)));
}

}  // namespace ringtunnel::client
