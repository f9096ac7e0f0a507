// SPDX-License-Identifier: MIT
// Runs ClientHandshake / ServerHandshake over a socket on the current reactor, with a deadline.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/reason.hpp"
#include "runtime/result.hpp"
#include "runtime/task.hpp"
#include "tunnel/client_handshake.hpp"
#include "tunnel/handshake_reader.hpp"
#include "tunnel/server_handshake.hpp"

namespace ringtunnel::tunnel {

// The state machines decide; these coroutines only move their bytes. Both read the peer's
// messages through one buffer, so bytes that arrive behind the last handshake message (the
// peer's first frames) are handed to the session as `leftover`, never lost.
//
// Errors are protocol reasons (compare with `error == Reason::x`) or errno codes from the
// socket (ETIMEDOUT once the deadline passed, ECONNRESET, EPIPE; ECONNABORTED when the peer
// closed mid-handshake). Must run on a reactor thread; `fd` is borrowed.


/// What the client learnt: the traffic secrets, and the server's own words if it refused.
struct ClientHandshakeResult {
  Established established;
  Leftover leftover;
};

/// Decides whether the client trusts the server identity it was shown (known_hosts, a prompt):
/// ok to continue; an error (e.g. identity_changed, bad_signature) ends the handshake.
using TrustDecision = std::function<runtime::Task<Result<void>>(const ServerIdentity&)>;

/// The client's half: ClientHello, ServerHello (then `trust`), ClientAuth, AuthResult, all
/// within `timeout`. On a refusal the server's message is in `*server_message` (if non-null).
runtime::Task<Result<ClientHandshakeResult>> run_client_handshake(
    int fd, ClientHandshake& handshake, TrustDecision trust, std::chrono::milliseconds timeout,
    std::string* server_message);

/// The server's verdict on a client claim: parameters to accept with, or a refusal.
struct Admission {
  protocol::Reason reason = protocol::Reason::ok;  ///< ok: accept with `params`
  std::string message;                             ///< for the client's log (refusals)
  AuthParams params;
};

/// Decides admission for a verified claim (authorized_keys, token, max clients).
using AdmissionDecision = std::function<runtime::Task<Admission>(const ClientClaim&)>;

struct ServerHandshakeResult {
  Established established;
  ClientClaim claim;
  Leftover leftover;
};

/// The server's half: ClientHello (a refusal hello is sent for what cannot be negotiated),
/// ServerHello, ClientAuth (a failed check is refused with its reason so the client learns
/// why), `admit`, AuthResult, all within `timeout`. A refusal returns its reason as the error;
/// `*claim_out` (if non-null) then holds what the client claimed, when it got that far.
runtime::Task<Result<ServerHandshakeResult>> run_server_handshake(
    int fd, ServerHandshake& handshake, std::optional<std::string> token, AdmissionDecision admit,
    std::chrono::milliseconds timeout, ClientClaim* claim_out);

}  // namespace ringtunnel::tunnel
