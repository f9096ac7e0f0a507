// SPDX-License-Identifier: MIT
// PolicySettings: flags over config.yaml over defaults, checked with the flags' own parsers.
#include "server/policy_settings.hpp"

namespace ringtunnel::server {
namespace {

std::string where(const PolicyFlags& flags, int line, const char* key) {
  return flags.config_path + ":" + std::to_string(line) + ": server." + key;
}

}  // namespace

std::optional<EffectivePolicy> effective_policy(const PolicyFlags& flags,
                                                const config::ServerSettings& file,
                                                std::string* error) {
  EffectivePolicy out;
  if (flags.ports) {
    out.policy.ports = *flags.ports;
    if (file.allowed_ports) {
      out.notes.push_back(where(flags, file.allowed_ports->line, "allowed_ports") +
                          " is overridden by --allowed-ports");
    }
  } else if (file.allowed_ports) {
    std::string why;
    auto ports = PortSet::parse(file.allowed_ports->value, &why);
    if (!ports) {
      *error = where(flags, file.allowed_ports->line, "allowed_ports") + ": " + why;
      return std::nullopt;
    }
    out.policy.ports = *ports;
    out.notes.push_back("allowed ports from " + where(flags, file.allowed_ports->line,
                                                      "allowed_ports"));
  }
  if (flags.hosts) {
    out.policy.hosts = *flags.hosts;
    if (file.allowed_hosts) {
      out.notes.push_back(where(flags, file.allowed_hosts->line, "allowed_hosts") +
                          " is overridden by --allowed-hosts");
    }
  } else if (file.allowed_hosts) {
    std::string why;
    auto hosts = HostSet::parse(file.allowed_hosts->value, &why);
    if (!hosts) {
      *error = where(flags, file.allowed_hosts->line, "allowed_hosts") + ": " + why;
      return std::nullopt;
    }
    out.policy.hosts = *hosts;
    out.notes.push_back("allowed hosts from " + where(flags, file.allowed_hosts->line,
                                                      "allowed_hosts"));
  }
  if (flags.max_clients) {
    out.max_clients = *flags.max_clients;
    if (file.max_clients) {
      out.notes.push_back(where(flags, file.max_clients->line, "max_clients") +
                          " is overridden by --max-clients");
    }
  } else if (file.max_clients) {
    out.max_clients = file.max_clients->value;
    out.notes.push_back("max clients from " + where(flags, file.max_clients->line,
                                                    "max_clients"));
  }
  return out;
}

}  // namespace ringtunnel::server
