// SPDX-License-Identifier: MIT
// ExposureRegistry: first claim wins; the same key takes over; releases only by the holder.
#include "server/exposure_registry.hpp"

namespace ringtunnel::server {

ExposureRegistry::Claim ExposureRegistry::claim(TransportProtocol protocol, std::uint16_t port,
                                                const ExposureHolder& claimant) {
  auto [it, fresh] = holders_.try_emplace({protocol, port}, claimant);
  if (fresh) return {Outcome::granted, {}};
  if (it->second.key != claimant.key) return {Outcome::claimed, it->second};
  const ExposureHolder previous = it->second;
  it->second = claimant;
  return {Outcome::taken_over, previous};
}

void ExposureRegistry::release(TransportProtocol protocol, std::uint16_t port,
                               std::uint64_t exposure) {
  auto it = holders_.find({protocol, port});
  if (it != holders_.end() && it->second.exposure == exposure) holders_.erase(it);
}

}  // namespace ringtunnel::server
