// SPDX-License-Identifier: MIT
// prepare_server: the listen address, policy and data-dir files, checked and logged.
#include "server/server_setup.hpp"

#include <atomic>
#include <cstring>

#include "config/data_dir.hpp"
#include "config/identity_files.hpp"
#include "config/server_settings.hpp"
#include "net/socket.hpp"
#include "http/route.hpp"
#include "observe/log.hpp"
#include "ringtunnel/tunnel_spec.hpp"

namespace ringtunnel::server {
namespace {

// An address from a flag (--bind with --port, --expose-bind): an IP literal (IPv6 with or
// without brackets), `localhost`, or `*` / `0.0.0.0` for every IPv4 interface, `::` for every
// IPv6 one.
Result<net::SocketAddress> flag_address(std::string_view flag, const std::string& value,
                                        std::uint16_t port, std::string* error) {
  std::string host = value;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "*") host = "0.0.0.0";
  const bool v6 = host.find(':') != std::string::npos;
  const std::string text = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  auto address = net::SocketAddress::parse(text);
  if (!address) {
    *error = std::string(flag) + " " + value + ": " + net::SocketAddress::parse_error_text(text) +
             " (use an IP address, localhost, or 0.0.0.0 / :: for every interface)";
  }
  return address;
}

// --http-bind / --https-bind ADDR:PORT (IPv6 in brackets); nullopt for empty text.
bool ingress_address(std::string_view flag, const std::string& value,
                     std::optional<net::SocketAddress>& out, std::string* failure) {
  if (value.empty()) return true;
  const auto colon = value.rfind(':');
  unsigned port = 0;
  bool digits = colon != std::string::npos && colon + 1 < value.size() && colon + 6 >= value.size();
  for (std::size_t i = colon + 1; digits && i < value.size(); ++i) {
    digits = value[i] >= '0' && value[i] <= '9';
    port = port * 10 + static_cast<unsigned>(value[i] - '0');
  }
  if (!digits || port == 0 || port > 65535 || colon == 0) {
    *failure = std::string(flag) + " '" + value +
               "': expected ADDR:PORT, e.g. 0.0.0.0:80 or [::]:443 (PORT 1-65535)";
    return false;
  }
  auto address = flag_address(flag, value.substr(0, colon), static_cast<std::uint16_t>(port),
                              failure);
  if (!address) return false;
  out = *address;
  return true;
}

bool prepare_ingress(const ServerSetup& setup, ServerOptions& options, std::string* failure) {
  if (!ingress_address("--http-bind", setup.http_bind, options.http_bind, failure) ||
      !ingress_address("--https-bind", setup.https_bind, options.https_bind, failure)) {
    return false;
  }
  if (options.http_bind && options.https_bind && *options.http_bind == *options.https_bind) {
    *failure = "--http-bind and --https-bind are both " + options.http_bind->to_string();
    return false;
  }
  std::string domain = setup.domain;
  for (char& c : domain) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (domain.ends_with('.')) domain.pop_back();
  if (!domain.empty() && classify_host(domain) != HostKind::name) {
    *failure = "--domain '" + setup.domain + "' is not a domain name (e.g. tunnels.example.com)";
    return false;
  }
  options.domain = domain;
  options.http_timeout = setup.http_timeout;
  for (const std::string& text : setup.reserved_names) {
    const auto equals = text.find('=');
    std::string name = text.substr(0, equals == std::string::npos ? 0 : equals);
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    const std::string fingerprint = equals == std::string::npos ? "" : text.substr(equals + 1);
    if (!http::is_tunnel_name(name) || !fingerprint.starts_with("SHA256:") ||
        fingerprint.size() != 7 + 43) {
      *failure = "--reserve-name '" + text +
                 "': expected NAME=SHA256:... (a DNS label, then a client key's fingerprint as "
                 "the server logs it)";
      return false;
    }
    if (!options.reserved_names.emplace(name, fingerprint).second) {
      *failure = "--reserve-name: the name '" + name + "' is reserved twice";
      return false;
    }
  }
  return true;
}

// The enrolment token: the one given, else the server_token file in the data dir, made when
// no client is enrolled.
bool settle_token(const ServerSetup& setup, const config::DataDir& dir, bool no_clients,
                  AdmissionOptions& admission, std::string* failure) {
  if (setup.token) {
    if (setup.token->empty()) {
      *failure = "the enrolment token must not be empty";
      return false;
    }
    admission.token = setup.token;
    return true;
  }
  const std::string path = dir.file("server_token");
  bool created = false;
  std::string error;
  auto token = config::load_or_create_token(path, no_clients, &created, &error);
  if (!token) {
    *failure = error;
    return false;
  }
  admission.token = *token;
  if (created) {
    observe::log_info(
        "No client is enrolled yet. On the client machine, run:\n"
        "    ringtunnel client --ip {} --port {} --token {} -L LOCAL_PORT:REMOTE_PORT\n"
        "  The token is kept in {} (mode 0600); this is the only time it is printed.",
        setup.host_name, setup.port, **token, path);
  } else if (*token && no_clients) {
    observe::log_info("No client is enrolled yet: enrol one with the token in {}", path);
  }
  return true;
}

// The TLS transport's certificate: the operator's (--tls-cert/--tls-key), or a self-signed one
// for the identity key, so its pin is the fingerprint the native transport shows.
bool prepare_tls(const ServerSetup& setup, const config::DataDir& dir, ServerOptions& options,
                 std::string* failure) {
  crypto::tls::ServerConfig tls;
  tls.client_ca_file = setup.tls_client_ca;
  if (setup.tls_cert.empty() != setup.tls_key.empty()) {
    *failure =
        "--tls-cert and --tls-key go together: give both, or neither for a self-signed "
        "certificate";
    return false;
  }
  std::string error;
  if (setup.tls_cert.empty()) {
    tls.key_file = dir.file("server_key");
    tls.cert_file = dir.file("tls_cert.pem");
    if (!crypto::tls::ensure_self_signed(tls.key_file, tls.cert_file, &error)) {
      *failure = error;
      return false;
    }
  } else {
    tls.cert_file = setup.tls_cert;
    tls.key_file = setup.tls_key;
  }
  auto context = crypto::tls::TlsContext::server(tls, &error);
  if (!context) {
    *failure = error;
    return false;
  }
  auto pin = crypto::tls::certificate_pin(tls.cert_file, &error);
  observe::log_info(
      "TLS transport: certificate {} ({}, pin {}){}", tls.cert_file,
      setup.tls_cert.empty() ? "self-signed for the identity key" : "given", pin ? *pin : error,
      tls.client_ca_file.empty() ? ""
                                 : "; client certificates must chain to " + tls.client_ca_file);
  options.tls = std::move(*context);
  return true;
}

}  // namespace

bool prepare_server(const ServerSetup& setup, const config::ConfigFile& file, PreparedServer& out,
                    std::string* failure) {
  std::string error;
  auto listen = flag_address("--bind", setup.bind, setup.port, &error);
  if (!listen) {
    *failure = error;
    return false;
  }
  out.options.listen = *listen;
  auto expose_bind = flag_address("--expose-bind", setup.expose_bind, 0, &error);
  if (!expose_bind) {
    *failure = error;
    return false;
  }
  out.options.expose_bind = *expose_bind;
  if (!prepare_ingress(setup, out.options, failure)) return false;
  PolicyFlags& policy_flags = out.options.policy_flags;
  if (setup.allowed_ports) {
    policy_flags.ports = PortSet::parse(*setup.allowed_ports, &error);
    if (!policy_flags.ports) {
      *failure = "--allowed-ports: " + error;
      return false;
    }
  }
  if (setup.allowed_hosts) {
    policy_flags.hosts = HostSet::parse(*setup.allowed_hosts, &error);
    if (!policy_flags.hosts) {
      *failure = "--allowed-hosts: " + error;
      return false;
    }
  }
  policy_flags.max_clients = setup.max_clients;
  out.options.heartbeat = setup.heartbeat;
  out.options.drain_timeout = setup.drain_timeout;
  auto dir = config::DataDir::open(setup.data_dir, &error);
  if (!dir) {
    *failure = error;
    return false;
  }
  bool created = false;
  auto identity = config::load_or_create_key(dir->file("server_key"), &created, &error);
  if (!identity) {
    *failure = error;
    return false;
  }
  if (created) observe::log_info("created the server identity key {}", dir->file("server_key"));
  auto keys = crypto::AuthorizedKeys::load(dir->file("authorized_keys"), &error);
  if (!keys) {
    *failure = error;
    return false;
  }
  // config.yaml's policy keys, under the flags (SIGHUP reads them again).
  policy_flags.config_path = file.path;
  auto settings = config::server_settings_from(file, &error);
  if (!settings) {
    *failure = error;
    return false;
  }
  for (const std::string& warning : settings->warnings) observe::log_warn("{}", warning);
  auto effective = effective_policy(policy_flags, *settings, &error);
  if (!effective) {
    *failure = error;
    return false;
  }
  for (const std::string& note : effective->notes) observe::log_info("{}", note);
  out.options.policy = effective->policy;
  auto& admission = out.options.admission;
  admission.max_clients = effective->max_clients;
  admission.trust_first_client = setup.trust_first_client;
  admission.params.max_streams = setup.max_streams;
  admission.params.initial_window = setup.stream_window;
  admission.params.heartbeat_ms =
      static_cast<std::uint32_t>(out.options.heartbeat.interval.count());
  if (!settle_token(setup, *dir, keys->empty(), admission, failure)) return false;
  if (setup.trust_first_client && keys->empty()) {
    observe::log_warn(
        "--trust-first-client: the first client to connect will be enrolled "
        "without a token; its fingerprint will be logged");
  }
  if (setup.transport == tunnel::Transport::tls &&
      !prepare_tls(setup, *dir, out.options, failure)) {
    return false;
  }
  out.data_dir = dir->path();
  out.identity.emplace(std::move(identity).value());
  out.keys.emplace(std::move(keys).value());
  return true;
}

bool settle_listen_port(ServerOptions& options, std::string* failure) {
  auto probe = net::listen_tcp(options.listen, net::ReusePort::no, 1);
  if (!probe) {
    *failure = "cannot listen on " + options.listen.to_string() + ": " + probe.error().message();
    return false;
  }
  options.listen = *net::local_address(probe->get());
  return true;
}

ServerStart start_on_every_core(runtime::Engine& engine, Server& server, std::string* failure) {
  std::atomic<int> failed{0};
  std::atomic<unsigned> tried{0};
  auto running = engine.start([&](runtime::Reactor& reactor) {
    if (auto ok = server.start_on(reactor); !ok) {
      failed = ok.error().value();
      server.stop_on(reactor);
    }
    tried.fetch_add(1);
    tried.notify_all();
  });
  if (!running) {
    *failure = "cannot start the runtime: " + engine.backend_reason();
    return ServerStart::runtime_failed;
  }
  for (unsigned seen = tried.load(); seen < engine.size(); seen = tried.load()) tried.wait(seen);
  if (failed) {
    *failure =
        "cannot listen on " + server.failed_address() + ": " + std::strerror(failed);
    engine.stop();
    return ServerStart::listen_failed;
  }
  return ServerStart::listening;
}

}  // namespace ringtunnel::server
