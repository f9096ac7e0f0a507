// SPDX-License-Identifier: MIT
// ServerSetup: everything a server needs before its engine starts, from plain settings (the
// CLI's flags or an embedder's builder): the listen address, the policy, the data dir's
// identity key, authorized_keys and enrolment token.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config_file.hpp"
#include "crypto/authorized_keys.hpp"
#include "crypto/ed25519.hpp"
#include "protocol/limits.hpp"
#include "runtime/engine.hpp"
#include "server/server.hpp"
#include "tunnel/heartbeat.hpp"
#include "tunnel/transport.hpp"

namespace ringtunnel::server {

struct ServerSetup {
  std::string bind = "0.0.0.0";  ///< an IP address (IPv6 with or without brackets), localhost
  std::uint16_t port = 9000;     ///< 0: any free port (the real one is in options.listen)
  /// Where exposed ports (-R) listen: an IP address, localhost, 0.0.0.0 or ::.
  std::string expose_bind = "0.0.0.0";
  /// The ingress: ADDR:PORT each (empty: off), the domain names live under, how long a
  /// client's service has to answer, and NAME=SHA256:... reservations.
  std::string http_bind;
  std::string https_bind;
  std::string domain;
  std::chrono::milliseconds http_timeout{std::chrono::seconds(60)};
  std::vector<std::string> reserved_names;
  std::optional<std::string> data_dir;  ///< nullopt: $RINGTUNNEL_DATA_DIR, else ~/.ringtunnel
  std::optional<std::string> token;     ///< nullopt: the server_token file in the data dir
  bool trust_first_client = false;
  /// The policy as given (flags); absent ones come from config.yaml, else the defaults.
  std::optional<unsigned> max_clients;
  std::optional<std::string> allowed_ports;
  std::optional<std::string> allowed_hosts;
  std::uint32_t max_streams = 8192;
  std::uint32_t stream_window = protocol::kDefaultWindow;
  tunnel::HeartbeatConfig heartbeat;
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(10)};
  std::string host_name = "localhost";  ///< named in the client command printed at first start
  tunnel::Transport transport = tunnel::Transport::native;
  /// TLS transport: the certificate chain and key (both empty: a self-signed certificate for
  /// the identity key, made in the data dir), and the CA client certificates must chain to
  /// (empty: no client certificates asked for).
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
};

struct PreparedServer {
  ServerOptions options;
  std::optional<crypto::Ed25519PrivateKey> identity;
  std::optional<crypto::AuthorizedKeys> keys;
  std::string data_dir;
};

/// Checks `setup`, opens the data dir (0700), reads or makes the identity key, authorized_keys
/// and token, and settles the policy with `file` (config.yaml's policy keys; an empty
/// ConfigFile for none). Logs what it creates and decides (info, warn); false with one sentence
/// in `*failure` when it cannot. Blocking file I/O: before the engine starts.
bool prepare_server(const ServerSetup& setup, const config::ConfigFile& file, PreparedServer& out,
                    std::string* failure);

/// Listens once on `options.listen` without SO_REUSEPORT and closes it: a port another program
/// holds fails here, on the calling thread, with one sentence in `*failure`; port 0 becomes the
/// one real port every reactor then listens on.
bool settle_listen_port(ServerOptions& options, std::string* failure);

enum class ServerStart {
  listening,       ///< every reactor listens
  runtime_failed,  ///< the engine did not start (no backend, a reactor could not be built)
  listen_failed,   ///< a reactor could not listen: the engine is stopping (join it)
};

/// Starts `engine` with `server` on every reactor and waits until each has tried to listen.
/// On a failure `*failure` gets one sentence.
ServerStart start_on_every_core(runtime::Engine& engine, Server& server, std::string* failure);

}  // namespace ringtunnel::server
