// SPDX-License-Identifier: MIT
// NameRegistry: which client key holds each ingress name, on core 0.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ringtunnel/ingress_spec.hpp"
#include "server/exposure_registry.hpp"

namespace ringtunnel::server {

/// The claims on ingress names (HTTP and TLS apart: a client may publish `app` on both, to two
/// services). As ExposureRegistry for ports: a name belongs to the first key that claims it
/// while it is free, and the same key claiming it again takes it over at once (a reconnect
/// reclaims its names without waiting for the old session to time out). A reserved name (the
/// server's `reserved_names`) may only ever be claimed by the key with that fingerprint, even
/// while it is free. The ingress looks names up here for each visitor connection.
/// Threads: core 0 only (the other cores reach it with runtime::call_on), no locks.
class NameRegistry {
 public:
  enum class Outcome : std::uint8_t {
    granted,     ///< the name was free
    taken_over,  ///< the same key held it: `previous` must let go
    claimed,     ///< another key holds it: refused
    reserved,    ///< reserved for another key: refused
  };
  struct Claim {
    Outcome outcome = Outcome::granted;
    ExposureHolder previous;  ///< the holder before (taken_over) or the one that refuses (claimed)
  };

  /// `reserved`: name -> the fingerprint ("SHA256:...") of the only key that may claim it.
  explicit NameRegistry(std::map<std::string, std::string, std::less<>> reserved = {})
      : reserved_(std::move(reserved)) {}

  /// Claims `name` for `claimant`, whose key's fingerprint is `fingerprint`. On a refusal
  /// nothing changes.
  Claim claim(IngressKind kind, std::string_view name, const ExposureHolder& claimant,
              std::string_view fingerprint);
  /// Exposure `exposure` lets go of `name`; a claim taken over since is left alone.
  void release(IngressKind kind, std::string_view name, std::uint64_t exposure);
  /// Who holds `name` now, if anyone.
  std::optional<ExposureHolder> find(IngressKind kind, std::string_view name) const;
  std::size_t size() const noexcept { return holders_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> reserved_;
  std::map<std::pair<IngressKind, std::string>, ExposureHolder, std::less<>> holders_;
};

}  // namespace ringtunnel::server
