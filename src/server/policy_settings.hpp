// SPDX-License-Identifier: MIT
// PolicySettings: the server's policy and client limit from its flags and config.yaml's
// `server:` section (flags win), at start and again on every reload (SIGHUP).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/server_settings.hpp"
#include "server/policy.hpp"

namespace ringtunnel::server {

/// What the command line fixed: a value given by flag (or its environment variable) is not
/// taken from the file, at start or on reload. Plain data.
struct PolicyFlags {
  std::optional<PortSet> ports;        ///< --allowed-ports, parsed
  std::optional<HostSet> hosts;        ///< --allowed-hosts, parsed
  std::optional<unsigned> max_clients;  ///< --max-clients
  std::string config_path;             ///< <data dir>/config.yaml
};

struct EffectivePolicy {
  Policy policy;
  unsigned max_clients = 10;
  /// One line each: where each value came from when the file set it, or that a flag won.
  std::vector<std::string> notes;
};

/// Flags, else the file, else the defaults (every port; localhost; 10 clients). Errors:
/// nullopt, `*error` naming the file, line and key ("config.yaml:3: server.allowed_ports:
/// port 70000 is out of range (1-65535)"); nothing is half-applied.
std::optional<EffectivePolicy> effective_policy(const PolicyFlags& flags,
                                                const config::ServerSettings& file,
                                                std::string* error);

}  // namespace ringtunnel::server
