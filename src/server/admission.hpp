// SPDX-License-Identifier: MIT
// Admission: who may start a handshake and who is let in (keys, token, max clients, rate limit).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <set>
#include <vector>
#include <optional>
#include <string>
#include <unordered_map>

#include "crypto/authorized_keys.hpp"
#include "net/socket_address.hpp"
#include "protocol/limits.hpp"
#include "protocol/reason.hpp"
#include "tunnel/handshake.hpp"
#include "tunnel/handshake_io.hpp"

namespace ringtunnel::server {

struct AdmissionOptions {
  std::optional<std::string> token;  ///< enrolment token (--token or server_token); none: off
  bool trust_first_client = false;   ///< enrol the first key while authorized_keys is empty
  unsigned max_clients = 10;         ///< distinct client keys with a live session
  std::size_t max_pending = protocol::kMaxUnauthenticatedConnections;
  std::size_t max_failures = protocol::kMaxAuthFailures;  ///< per source address per interval
  std::chrono::seconds failure_interval = protocol::kAuthFailureInterval;
  tunnel::AuthParams params;         ///< what admitted clients are told (AuthResult)
};

/// The server's admission state. It is shared by every core's accepted connections, so it
/// lives on one reactor (core 0) and the others reach it with runtime::call_on: no locks.
/// Enrolment appends to authorized_keys there (a rare, small, blocking write).
class Admission {
 public:
  using Clock = std::chrono::steady_clock;

  Admission(crypto::AuthorizedKeys keys, AdmissionOptions options);

  /// At accept, before reading anything: ok, server_busy (too many handshakes in progress) or
  /// rate_limited (too many failed authentications from this address lately). On ok a
  /// handshake is counted as pending until end_handshake.
  protocol::Reason begin_handshake(const net::SocketAddress& from, Clock::time_point now);
  /// The handshake that begin_handshake allowed has ended; `failed` counts against `from`.
  void end_handshake(const net::SocketAddress& from, bool failed, Clock::time_point now);

  /// The verdict on a verified claim: accept (the key is authorized, or enrolled now through
  /// the token or --trust-first-client) with the session parameters, or refuse with
  /// unknown_key / bad_token / server_full / internal_error and a sentence for the client.
  tunnel::Admission decide(const tunnel::ClientClaim& claim, const net::SocketAddress& from);

  /// A session of `key` has ended (the key stops counting once its last session ends).
  void session_ended(const crypto::PublicKey& key);

  std::size_t active_clients() const noexcept { return active_.size(); }
  std::size_t pending() const noexcept { return pending_; }
  const crypto::AuthorizedKeys& authorized() const noexcept { return keys_; }
  /// A re-read authorized_keys takes effect for the next handshakes. Returns the keys with
  /// sessions now that are no longer in it (the caller closes those sessions).
  std::vector<crypto::PublicKey> replace_keys(crypto::AuthorizedKeys keys);
  /// A reloaded client limit: applies to the next handshakes (nobody connected is dropped).
  void set_max_clients(unsigned max_clients) noexcept { options_.max_clients = max_clients; }
  unsigned max_clients() const noexcept { return options_.max_clients; }

 private:
  tunnel::Admission accept(const crypto::PublicKey& key);
  tunnel::Admission refuse(protocol::Reason reason, std::string message) const;
  std::optional<tunnel::Admission> enrol(const tunnel::ClientClaim& claim,
                                         const net::SocketAddress& from, const char* how);
  std::deque<Clock::time_point>& failures_of(const std::string& host, Clock::time_point now);

  crypto::AuthorizedKeys keys_;
  AdmissionOptions options_;
  std::map<crypto::PublicKey, unsigned> active_;  // key -> live sessions
  std::set<crypto::PublicKey> certified_;  // active keys admitted by a client certificate
  std::unordered_map<std::string, std::deque<Clock::time_point>> failures_;  // by address
  std::size_t pending_ = 0;
};

/// The address part of `address` (no port): what the failure limit counts by.
std::string host_of(const net::SocketAddress& address);

}  // namespace ringtunnel::server
