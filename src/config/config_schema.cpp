// SPDX-License-Identifier: MIT
// The schema table and the "did you mean" that goes with it.
#include "config/config_schema.hpp"

#include <algorithm>
#include <array>
#include <vector>

namespace ringtunnel::config {
namespace {

constexpr unsigned kClient = kDefaults | kProfile;
constexpr unsigned kAll = kDefaults | kProfile | kServer;

// Keys the Python tool's files use are all here; a key added for a later issue goes in this
// table, docs/config.md and config_template.cpp together (a test checks the template).
constexpr std::array kSchema = {
    // Where the client connects (a profile, or a default for every profile).
    KeySpec{"server", kClient, Shape::scalar, "--ip"},
    KeySpec{"port", kClient | kServer, Shape::scalar, "--port"},
    KeySpec{"tunnels", kProfile, Shape::tunnels, "--local"},
    KeySpec{"expose", kProfile, Shape::tunnels, "--remote"},  // checked as -R, not -L
    KeySpec{"http", kProfile, Shape::named, "--http"},    // {NAME: [HOST:]PORT}
    KeySpec{"https", kProfile, Shape::named, "--https"},  // {NAME: [HOST:]PORT}
    // Client behaviour.
    KeySpec{"bind", kClient | kServer, Shape::scalar, "--bind"},
    KeySpec{"expose_bind", kServer, Shape::scalar, "--expose-bind"},
    // The ingress (server): where it listens, the domain names live under, who holds which.
    KeySpec{"http_bind", kServer, Shape::scalar, "--http-bind"},
    KeySpec{"https_bind", kServer, Shape::scalar, "--https-bind"},
    KeySpec{"domain", kServer, Shape::scalar, "--domain"},
    KeySpec{"http_timeout", kServer, Shape::scalar, "--http-timeout"},
    KeySpec{"reserved_names", kServer, Shape::named, "--reserve-name"},  // {NAME: SHA256:...}
    KeySpec{"accept_new_host", kClient, Shape::boolean, "--accept-new-host"},
    KeySpec{"server_fingerprint", kClient, Shape::scalar, "--server-fingerprint"},
    KeySpec{"sessions", kClient, Shape::scalar, "--sessions"},
    KeySpec{"connect_wait", kClient, Shape::scalar, "--connect-wait"},
    KeySpec{"udp_idle_timeout", kClient, Shape::scalar, "--udp-idle-timeout"},
    KeySpec{"udp_max_flows", kClient, Shape::scalar, "--udp-max-flows"},
    // Secrets: prefer token_file, which keeps the token out of a file others may read.
    KeySpec{"token", kAll, Shape::scalar, "--token"},
    KeySpec{"token_file", kAll, Shape::path, "--token-file"},
    // Server policy and admission.
    KeySpec{"max_clients", kServer, Shape::scalar, "--max-clients", true},
    KeySpec{"allowed_ports", kServer, Shape::list, "--allowed-ports", true},
    KeySpec{"allowed_hosts", kServer, Shape::list, "--allowed-hosts", true},
    KeySpec{"trust_first_client", kServer, Shape::boolean, "--trust-first-client"},
    KeySpec{"max_streams", kServer, Shape::scalar, "--max-streams"},
    KeySpec{"transport", kAll, Shape::scalar, "--transport"},
    KeySpec{"tls_cert", kAll, Shape::path, "--tls-cert"},
    KeySpec{"tls_key", kAll, Shape::path, "--tls-key"},
    KeySpec{"tls_client_ca", kServer, Shape::path, "--tls-client-ca"},
    KeySpec{"tls_ca", kClient, Shape::scalar, "--tls-ca"},
    KeySpec{"tls_server_name", kClient, Shape::scalar, "--tls-server-name"},
    KeySpec{"tls_insecure_skip_verify", kClient, Shape::boolean, "--tls-insecure-skip-verify"},
    KeySpec{"health_port", kServer, Shape::scalar, "", false,
            "the health endpoint is not built yet"},
    // Logging.
    KeySpec{"verbose", kAll, Shape::level, "--verbose"},
    KeySpec{"log_level", kAll, Shape::scalar, "--log-level"},
    KeySpec{"log_json", kAll, Shape::boolean, "--log-json"},
    KeySpec{"log_file", kAll, Shape::path, "--log-file"},
    // Sessions and the engine.
    KeySpec{"heartbeat_interval", kAll, Shape::scalar, "--heartbeat-interval"},
    KeySpec{"heartbeat_timeout", kAll, Shape::scalar, "--heartbeat-timeout"},
    KeySpec{"drain_timeout", kAll, Shape::scalar, "--drain-timeout"},
    KeySpec{"stream_window", kAll, Shape::scalar, "--stream-window"},
    KeySpec{"threads", kAll, Shape::scalar, "--threads"},
    KeySpec{"io_backend", kAll, Shape::scalar, "--io-backend"},
    KeySpec{"idle_poll_us", kAll, Shape::scalar, "--idle-poll-us"},
    KeySpec{"pin_threads", kAll, Shape::scalar, "--pin-threads"},
};

// Levenshtein distance, for "did you mean".
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::span<const KeySpec> schema() {
  return kSchema;
}

const KeySpec* find_key(Section section, std::string_view key) {
  for (const KeySpec& spec : kSchema) {
    if (spec.key == key && (spec.sections & section) != 0) return &spec;
  }
  return nullptr;
}

std::string suggest_word(std::string_view typed, std::span<const std::string_view> words) {
  std::string_view best;
  std::size_t best_distance = 3;  // further than 2 edits is no suggestion
  for (std::string_view candidate : words) {
    const std::size_t d = distance(typed, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best.empty() ? std::string() : "; did you mean '" + std::string(best) + "'?";
}

std::string suggest_key(Section section, std::string_view key) {
  std::vector<std::string_view> keys;
  for (const KeySpec& spec : kSchema) {
    if ((spec.sections & section) != 0) keys.push_back(spec.key);
  }
  return suggest_word(key, keys);
}

std::string_view section_name(Section section) {
  switch (section) {
    case kDefaults:
      return "defaults";
    case kProfile:
      return "profiles";
    case kServer:
      return "server";
  }
  return "?";
}

}  // namespace ringtunnel::config
