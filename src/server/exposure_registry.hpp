// SPDX-License-Identifier: MIT
// ExposureRegistry: which client key holds each exposed port, on core 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>

#include "crypto/authorized_keys.hpp"
#include "ringtunnel/tunnel_spec.hpp"

namespace ringtunnel::server {

/// Who holds an exposed port: the client's key and the exposure (on its session's core).
struct ExposureHolder {
  crypto::PublicKey key{};
  unsigned core = 0;
  std::uint64_t exposure = 0;  ///< ServerCore's id of the exposure, unique in the server
};

/// The claims on exposed ports (TCP and UDP apart; one claim per port whatever address it is
/// bound on, so two clients never split a port between interfaces). A port belongs to the
/// first key that claims it while it is free; the same key claiming it again (a reconnect
/// whose old session the server has not seen die yet) takes it over at once, so a client
/// never waits for its own stale session to time out.
/// Threads: core 0 only (the other cores reach it with runtime::call_on), no locks.
class ExposureRegistry {
 public:
  enum class Outcome : std::uint8_t {
    granted,     ///< the port was free
    taken_over,  ///< the same key held it: `previous` must let go
    claimed,     ///< another key holds it: refused
  };
  struct Claim {
    Outcome outcome = Outcome::granted;
    ExposureHolder previous;  ///< the holder before (taken_over) or the one that refuses (claimed)
  };

  /// Claims `port` for `claimant`. On `claimed` nothing changes.
  Claim claim(TransportProtocol protocol, std::uint16_t port, const ExposureHolder& claimant);
  /// Exposure `exposure` lets go of `port` (its session ended, its bind failed). A claim taken
  /// over since is left alone: only the current holder's release frees the port.
  void release(TransportProtocol protocol, std::uint16_t port, std::uint64_t exposure);
  /// Ports held now.
  std::size_t size() const noexcept { return holders_.size(); }

 private:
  std::map<std::pair<TransportProtocol, std::uint16_t>, ExposureHolder> holders_;
};

}  // namespace ringtunnel::server
