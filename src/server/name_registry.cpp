// SPDX-License-Identifier: MIT
// NameRegistry: reservations first, then first claim wins; the same key takes over.
#include "server/name_registry.hpp"

namespace ringtunnel::server {

NameRegistry::Claim NameRegistry::claim(IngressKind kind, std::string_view name,
                                        const ExposureHolder& claimant,
                                        std::string_view fingerprint) {
  if (auto reserved = reserved_.find(name);
      reserved != reserved_.end() && reserved->second != fingerprint) {
    return {Outcome::reserved, {}};
  }
  auto [it, fresh] = holders_.try_emplace({kind, std::string(name)}, claimant);
  if (fresh) return {Outcome::granted, {}};
  if (it->second.key != claimant.key) return {Outcome::claimed, it->second};
  const ExposureHolder previous = it->second;
  it->second = claimant;
  return {Outcome::taken_over, previous};
}

void NameRegistry::release(IngressKind kind, std::string_view name, std::uint64_t exposure) {
  auto it = holders_.find(std::pair<IngressKind, std::string>{kind, std::string(name)});
  if (it != holders_.end() && it->second.exposure == exposure) holders_.erase(it);
}

std::optional<ExposureHolder> NameRegistry::find(IngressKind kind, std::string_view name) const {
  auto it = holders_.find(std::pair<IngressKind, std::string>{kind, std::string(name)});
  if (it == holders_.end()) return std::nullopt;
  return it->second;
}

}  // namespace ringtunnel::server
