// SPDX-License-Identifier: MIT
// PolicySettings: flags over config.yaml over defaults, checked with the flags' own parsers.
#include "server/policy_settings.hpp"

#include <functional>

namespace ringtunnel::server {
namespace {

std::string where(const PolicyFlags& flags, int line, const char* key) {
  return flags.config_path + ":" + std::to_string(line) + ": server." + key;
}

// One setting: the flag's value if given (and a note when the file's is overridden), else the
// file's checked by `parse` (false and `*error` when it does not parse), else the default.
template <typename T, typename Parsed>
bool choose(const PolicyFlags& flags, const std::optional<T>& from_flag,
            const std::optional<config::FileValue<Parsed>>& from_file, const char* key,
            const char* flag, const char* what, T& into, EffectivePolicy& out,
            const std::function<std::optional<T>(const Parsed&, std::string*)>& parse,
            std::string* error) {
  if (from_flag) {
    into = *from_flag;
    if (from_file) {
      out.notes.push_back(where(flags, from_file->line, key) + " is overridden by " + flag);
    }
    return true;
  }
  if (!from_file) return true;
  std::string why;
  auto parsed = parse(from_file->value, &why);
  if (!parsed) {
    *error = where(flags, from_file->line, key) + ": " + why;
    return false;
  }
  into = *parsed;
  out.notes.push_back(std::string(what) + " from " + where(flags, from_file->line, key));
  return true;
}

}  // namespace

std::optional<EffectivePolicy> effective_policy(const PolicyFlags& flags,
                                                const config::ServerSettings& file,
                                                std::string* error) {
  EffectivePolicy out;
  const bool ok =
      choose<PortSet, std::string>(flags, flags.ports, file.allowed_ports, "allowed_ports",
                                   "--allowed-ports", "allowed ports", out.policy.ports, out,
                                   &PortSet::parse, error) &&
      choose<HostSet, std::string>(flags, flags.hosts, file.allowed_hosts, "allowed_hosts",
                                   "--allowed-hosts", "allowed hosts", out.policy.hosts, out,
                                   &HostSet::parse, error) &&
      choose<unsigned, unsigned>(flags, flags.max_clients, file.max_clients, "max_clients",
                                 "--max-clients", "max clients", out.max_clients, out,
                                 [](const unsigned& n, std::string*) {
                                   return std::optional<unsigned>(n);  // checked when read
                                 },
                                 error);
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace ringtunnel::server
