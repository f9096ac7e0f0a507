// SPDX-License-Identifier: MIT
// ClientSetup: everything a client needs before its engine starts, from plain settings (the
// CLI's flags or an embedder's builder): the server, the forwards, trust, the data dir's key.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/client.hpp"
#include "crypto/ed25519.hpp"
#include "protocol/limits.hpp"
#include "tunnel/heartbeat.hpp"
#include "tunnel/transport.hpp"

namespace ringtunnel::client {

struct ClientSetup {
  std::string server_host;  ///< a name or an address; IPv6 with or without brackets
  std::uint16_t server_port = 9000;
  std::vector<std::string> forwards;  ///< `-L` texts
  std::vector<std::string> exposes;   ///< `-R` texts
  std::vector<std::string> http;      ///< `--http NAME=[HOST:]PORT` texts
  std::vector<std::string> https;     ///< `--https NAME=[HOST:]PORT` texts
  /// `--local-addr [HOST:]PORT`: one more --http, named `tunnel_id` (default: from the key).
  std::optional<std::string> local_addr;
  std::optional<std::string> tunnel_id;
  std::string bind = "localhost";     ///< BIND for a forward that names none
  std::optional<std::string> token;
  bool accept_new_host = false;
  std::optional<std::string> server_fingerprint;  ///< "SHA256:..." the server must present
  bool interactive = false;  ///< may ask on the terminal whether to trust a new server
  unsigned sessions = 0;     ///< 0: one per reactor
  std::chrono::milliseconds connect_wait{std::chrono::seconds(10)};
  std::chrono::milliseconds udp_idle_timeout{std::chrono::seconds(60)};
  std::uint32_t udp_max_flows = 1024;
  std::uint32_t stream_window = protocol::kDefaultWindow;
  tunnel::HeartbeatConfig heartbeat;
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(10)};
  std::string client_name = "localhost";  ///< shown in the server's log
  std::optional<std::string> data_dir;    ///< nullopt: $RINGTUNNEL_DATA_DIR, else ~/.ringtunnel
  std::optional<std::string> key_file;    ///< default <data dir>/key
  std::optional<std::string> known_hosts_file;  ///< default <data dir>/known_hosts
  tunnel::Transport transport = tunnel::Transport::native;
  /// TLS transport. Without tls_ca the certificate's key is pinned in known_hosts like the
  /// native host key; with it ("system": the system's roots) the chain and the name
  /// (tls_server_name, default the server host) are checked instead.
  std::optional<std::string> tls_ca;
  std::optional<std::string> tls_server_name;
  std::string tls_cert;  ///< client certificate for a server that asks for one (mTLS)
  std::string tls_key;
  bool tls_insecure_skip_verify = false;  ///< check nothing (warned on every connect)
};

struct PreparedClient {
  ClientOptions options;
  std::optional<crypto::Ed25519PrivateKey> identity;
  std::string data_dir;
};

/// Parses and checks the forwards (no two on one local port), the server and the fingerprint,
/// opens the data dir (0700) and reads or makes the client key (logged when made). False with
/// one sentence in `*failure` when it cannot. Blocking file I/O: before the engine starts.
bool prepare_client(const ClientSetup& setup, PreparedClient& out, std::string* failure);

/// Parses `-L` texts with `bind` as the default BIND; two tunnels of one protocol on the same
/// local address and port are refused. False with one sentence in `*failure`.
bool parse_forwards(const std::vector<std::string>& texts, const std::string& bind,
                    std::vector<ForwardSpec>& out, std::string* failure);

/// "SHA256:" and 43 base64 characters.
bool valid_fingerprint(const std::string& text);

}  // namespace ringtunnel::client
