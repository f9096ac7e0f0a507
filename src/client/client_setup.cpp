// SPDX-License-Identifier: MIT
// prepare_client: forwards parsed, trust settled, the key read or made.
#include "client/client_setup.hpp"

#include "config/data_dir.hpp"
#include "config/identity_files.hpp"
#include "crypto/fingerprint.hpp"
#include "crypto/hash.hpp"
#include "observe/log.hpp"

namespace ringtunnel::client {

bool valid_fingerprint(const std::string& text) {
  if (text.rfind("SHA256:", 0) != 0 || text.size() != 7 + 43) return false;
  for (char c : text.substr(7)) {
    const bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '+' || c == '/';
    if (!b64) return false;
  }
  return true;
}

bool parse_forwards(const std::vector<std::string>& texts, const std::string& bind,
                    std::vector<ForwardSpec>& out, std::string* failure) {
  for (const std::string& text : texts) {
    std::string error;
    auto spec = parse_forward_spec(text, bind, &error);
    if (!spec) {
      *failure = error;
      return false;
    }
    for (const ForwardSpec& earlier : out) {
      // A TCP and a UDP tunnel may share a port number (as DNS does on 53).
      if (spec->local_port != 0 && earlier.local_port == spec->local_port &&
          earlier.bind_host == spec->bind_host && earlier.protocol == spec->protocol) {
        *failure = "-L " + earlier.name() + " and -L " + spec->name() + " both listen on " +
                   spec->bind_host + " " + to_string(spec->protocol) + " port " +
                   std::to_string(spec->local_port);
        return false;
      }
    }
    out.push_back(*spec);
  }
  return true;
}

bool parse_exposes(const std::vector<std::string>& texts, std::vector<ExposeSpec>& out,
                   std::string* failure) {
  for (const std::string& text : texts) {
    std::string error;
    auto spec = parse_expose_spec(text, &error);
    if (!spec) {
      *failure = error;
      return false;
    }
    for (const ExposeSpec& earlier : out) {
      // The server holds one claim per port and protocol, whatever address it is bound on.
      if (earlier.public_port == spec->public_port && earlier.protocol == spec->protocol) {
        *failure = "-R " + earlier.name() + " and -R " + spec->name() + " both expose " +
                   to_string(spec->protocol) + " port " + std::to_string(spec->public_port);
        return false;
      }
    }
    out.push_back(*spec);
  }
  return true;
}

namespace {

bool add_ingress(const std::string& text, IngressKind kind, std::vector<IngressSpec>& out,
                 std::string* failure) {
  std::string error;
  auto spec = parse_ingress_spec(text, kind, &error);
  if (!spec) {
    *failure = error;
    return false;
  }
  for (const IngressSpec& earlier : out) {
    // The server holds one claim per ingress and name.
    if (earlier.kind == spec->kind && earlier.name == spec->name) {
      *failure = "--" + std::string(to_string(kind)) + " " + earlier.text() + " and " +
                 spec->text() + " both publish the name '" + spec->name + "'";
      return false;
    }
  }
  out.push_back(*spec);
  return true;
}

bool parse_ingress(const ClientSetup& setup, std::vector<IngressSpec>& out, std::string* failure) {
  for (const std::string& text : setup.http) {
    if (!add_ingress(text, IngressKind::http, out, failure)) return false;
  }
  for (const std::string& text : setup.https) {
    if (!add_ingress(text, IngressKind::tls, out, failure)) return false;
  }
  return true;
}

std::string default_tunnel_id(std::span<const std::byte, 32> public_key) {
  // "c" and 11 hex digits of the key's SHA-256: a DNS label, the same on every run, and not
  // the key itself (the name is public).
  static constexpr char kHex[] = "0123456789abcdef";
  const crypto::Sha256Digest digest = crypto::sha256(public_key);
  std::string name = "c";
  for (std::size_t i = 0; name.size() < 12; ++i) {
    const auto byte = std::to_integer<unsigned>(digest[i / 2]);
    name += kHex[i % 2 == 0 ? byte >> 4 : byte & 0xf];
  }
  return name;
}

// The TLS context and how the server's certificate is checked; contradictory flags refused.
bool prepare_tls(const ClientSetup& setup, ClientOptions& options, std::string* failure) {
  crypto::tls::ClientConfig tls;
  const bool pins = setup.server_fingerprint || setup.accept_new_host;
  if (setup.tls_insecure_skip_verify && (setup.tls_ca || pins)) {
    *failure =
        "--tls-insecure-skip-verify checks nothing; it cannot go with --tls-ca, "
        "--server-fingerprint or --accept-new-host";
    return false;
  }
  if (setup.tls_ca && pins) {
    *failure =
        "--server-fingerprint and --accept-new-host pin the server's key in known_hosts; "
        "with --tls-ca the CA and the name are checked instead: use one or the other";
    return false;
  }
  if (setup.tls_insecure_skip_verify) {
    tls.verify = crypto::tls::Verify::insecure;
  } else if (setup.tls_ca) {
    tls.verify = crypto::tls::Verify::ca;
    if (*setup.tls_ca != "system") tls.ca_file = *setup.tls_ca;
  }
  tls.server_name = setup.tls_server_name.value_or(options.server_host);
  tls.cert_file = setup.tls_cert;
  tls.key_file = setup.tls_key;
  std::string error;
  auto context = crypto::tls::TlsContext::client(tls, &error);
  if (!context) {
    *failure = error;
    return false;
  }
  options.tls = std::move(*context);
  options.tls_verify = tls.verify;
  return true;
}

}  // namespace

bool prepare_client(const ClientSetup& setup, PreparedClient& out, std::string* failure) {
  ClientOptions& options = out.options;
  options.server_host = setup.server_host;
  if (options.server_host.size() > 2 && options.server_host.front() == '[' &&
      options.server_host.back() == ']') {
    options.server_host = options.server_host.substr(1, options.server_host.size() - 2);
  }
  if (options.server_host.empty()) {
    *failure = "say which server to use: --ip HOST [--port PORT] or --server HOST:PORT";
    return false;
  }
  options.server_port = setup.server_port;
  if (!parse_forwards(setup.forwards, setup.bind, options.forwards, failure)) return false;
  if (!parse_exposes(setup.exposes, options.exposes, failure)) return false;
  if (!parse_ingress(setup, options.ingress, failure)) return false;
  if (options.forwards.empty() && options.exposes.empty() && options.ingress.empty() &&
      !setup.local_addr) {
    *failure = "nothing to forward: give at least one -L LOCAL_PORT:REMOTE_PORT, "
               "-R PUBLIC_PORT:LOCAL_PORT or --http NAME=LOCAL_PORT";
    return false;
  }
  if (setup.server_fingerprint && !valid_fingerprint(*setup.server_fingerprint)) {
    *failure = "--server-fingerprint '" + *setup.server_fingerprint +
               "': expected SHA256: followed by 43 base64 characters, as the server prints it "
               "at start-up";
    return false;
  }
  options.token = setup.token;
  options.trust.expected_fingerprint = setup.server_fingerprint;
  options.trust.accept_new_host = setup.accept_new_host;
  options.trust.interactive = setup.interactive;
  options.sessions = setup.sessions;
  options.connect_wait = setup.connect_wait;
  options.udp_idle_timeout = setup.udp_idle_timeout;
  options.udp_max_flows = setup.udp_max_flows;
  options.receive_window = setup.stream_window;
  options.heartbeat = setup.heartbeat;
  options.drain_timeout = setup.drain_timeout;
  options.client_name = setup.client_name;
  std::string error;
  auto dir = config::DataDir::open(setup.data_dir, &error);
  if (!dir) {
    *failure = error;
    return false;
  }
  const std::string key_path = setup.key_file.value_or(dir->file("key"));
  bool created = false;
  auto identity = config::load_or_create_key(key_path, &created, &error);
  if (!identity) {
    *failure = error;
    return false;
  }
  if (created) {
    observe::log_info("created this client's key {} ({})", key_path,
                      crypto::fingerprint(identity->public_key()));
  }
  options.known_hosts_path = setup.known_hosts_file.value_or(dir->file("known_hosts"));
  if (setup.transport == tunnel::Transport::tls && !prepare_tls(setup, options, failure)) {
    return false;
  }
  if (setup.local_addr) {
    const std::string name = setup.tunnel_id.value_or(default_tunnel_id(identity->public_key()));
    if (!add_ingress(setup.local_addr->empty() ? "" : name + "=" + *setup.local_addr,
                     IngressKind::http, options.ingress, failure)) {
      *failure = "--local-addr/--tunnel-id: " + *failure;
      return false;
    }
  }
  out.identity.emplace(std::move(identity).value());
  out.data_dir = dir->path();
  return true;
}

}  // namespace ringtunnel::client
