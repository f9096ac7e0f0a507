// SPDX-License-Identifier: MIT
// Handshake I/O: framed hellos and records read through one buffer, sends, the deadline.
#include "tunnel/handshake_io.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "protocol/handshake.hpp"
#include "protocol/record.hpp"
#include "runtime/io.hpp"
#include "tunnel/handshake_reader.hpp"
#include "tunnel/record_layer.hpp"

namespace ringtunnel::tunnel {
namespace {

using protocol::Reason;
using runtime::Task;
using Clock = std::chrono::steady_clock;

Clock::time_point deadline_after(std::chrono::milliseconds timeout) {
  return Clock::now() + timeout;
}

}  // namespace

Task<Result<ClientHandshakeResult>> run_client_handshake(int fd, ClientHandshake& handshake,
                                                         TrustDecision trust,
                                                         std::chrono::milliseconds timeout,
                                                         std::string* server_message) {
  MessageReader reader(fd, deadline_after(timeout));
  auto hello = handshake.client_hello();
  if (!hello) co_return hello.error();
  if (auto sent = co_await send_before(fd, *hello, reader.deadline()); !sent) {
    co_return sent.error();
  }
  auto server_hello = co_await reader.next_hello();
  if (!server_hello) co_return server_hello.error();
  auto identity = handshake.on_server_hello(*server_hello);
  reader.drop();
  if (!identity) co_return identity.error();
  // The trust decision may ask a person; the deadline does not run while it waits.
  const auto asked_at = Clock::now();
  if (auto trusted = co_await trust(*identity); !trusted) co_return trusted.error();
  reader.extend_deadline(Clock::now() - asked_at);
  auto auth = handshake.client_auth_record();
  if (!auth) co_return auth.error();
  if (auto sent = co_await send_before(fd, *auth, reader.deadline()); !sent) co_return sent.error();
  auto record = co_await reader.next_record();
  if (!record) co_return record.error();
  auto established = handshake.on_auth_result(*record);
  if (!established) {
    if (server_message) *server_message = handshake.server_message();
    co_return established.error();
  }
  co_return ClientHandshakeResult{std::move(established).value(), reader.leftover()};
}

Task<Result<ServerHandshakeResult>> run_server_handshake(int fd, ServerHandshake& handshake,
                                                         std::optional<std::string> token,
                                                         AdmissionDecision admit,
                                                         std::chrono::milliseconds timeout,
                                                         ClientClaim* claim_out) {
  MessageReader reader(fd, deadline_after(timeout));
  auto client_hello = co_await reader.next_hello();
  if (!client_hello) co_return client_hello.error();
  auto server_hello = handshake.on_client_hello(*client_hello);
  reader.drop();
  if (!server_hello) {
    // Tell the client what could not be agreed on (unsigned: nothing is agreed to sign with).
    if (!handshake.refusal_hello().empty()) {
      (void)co_await send_before(fd, handshake.refusal_hello(), reader.deadline());
    }
    co_return server_hello.error();
  }
  if (auto sent = co_await send_before(fd, *server_hello, reader.deadline()); !sent) {
    co_return sent.error();
  }
  auto record = co_await reader.next_record();
  if (!record) co_return record.error();
  std::optional<std::string_view> expected;
  if (token) expected = *token;
  auto claim = handshake.on_client_auth(*record, expected);
  reader.drop();
  Admission admission;
  if (!claim) {
    admission.reason = protocol::reason_of(claim.error());
    admission.message = claim.error().message();
  } else {
    if (claim_out) *claim_out = *claim;
    admission = co_await admit(*claim);
  }
  if (admission.reason != Reason::ok) {
    auto refusal = handshake.refuse(admission.reason, admission.message);
    if (refusal) (void)co_await send_before(fd, *refusal, reader.deadline());
    co_return claim ? protocol::make_error_code(admission.reason) : claim.error();
  }
  auto accepted = handshake.accept(admission.params);
  if (!accepted) co_return accepted.error();
  if (auto sent = co_await send_before(fd, accepted->first, reader.deadline()); !sent) {
    co_return sent.error();
  }
  co_return ServerHandshakeResult{std::move(accepted->second), std::move(claim).value(),
                                  reader.leftover()};
}

}  // namespace ringtunnel::tunnel
