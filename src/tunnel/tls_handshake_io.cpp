// SPDX-License-Identifier: MIT
// TLS handshake I/O: drive the TLS library over the socket, then ClientAuth and AuthResult.
#include "tunnel/tls_handshake_io.hpp"

#include <cerrno>

#include "crypto/secure_buffer.hpp"
#include "protocol/handshake.hpp"
#include "protocol/reason.hpp"
#include "tunnel/client_auth.hpp"
#include "tunnel/handshake_reader.hpp"

namespace ringtunnel::tunnel {
namespace {

namespace tls = crypto::tls;
using protocol::Reason;
using runtime::Task;
using Clock = std::chrono::steady_clock;

std::error_code reason(Reason r) noexcept {
  return protocol::make_error_code(r);
}

// Runs the TLS handshake to its end, sending each flight (and, on failure, the alert).
Task<Result<void>> drive_tls(int fd, tls::TlsConnection& connection, MessageReader& reader,
                             std::string* tls_error) {
  for (;;) {
    std::vector<std::byte> flight;
    auto step = connection.handshake(reader.buffered(), &flight);
    if (step) reader.drop_bytes(step->consumed);
    if (!flight.empty()) {
      auto sent = co_await send_before(fd, flight, reader.deadline());
      if (!sent && step) co_return sent.error();
    }
    if (!step) {
      if (tls_error) *tls_error = connection.error_text();
      co_return step.error();
    }
    if (step->done) co_return Result<void>{};
    if (auto more = co_await reader.read_more(); !more) co_return more.error();
  }
}

// The 32 bytes the client's signature and token MAC are bound to.
Result<std::array<std::byte, kSecretSize>> auth_binding(const tls::TlsConnection& connection) {
  auto exported = connection.export_key(protocol::kTlsExporterLabel, kSecretSize);
  if (!exported) return exported.error();
  std::array<std::byte, kSecretSize> binding{};
  std::copy(exported->begin(), exported->end(), binding.begin());
  crypto::secure_wipe(*exported);
  return binding;
}

// Sends one `u16 length || body` message as application data.
Task<Result<void>> send_message(int fd, tls::TlsConnection& connection,
                                std::span<const std::byte> body, Clock::time_point deadline) {
  auto framed = protocol::frame_handshake_message(body);
  if (!framed) co_return framed.error();
  std::vector<std::byte> wire(connection.sealed_size(framed->size()));
  const std::span<const std::byte> pieces[1] = {*framed};
  auto written = connection.write(pieces, wire);
  crypto::secure_wipe(*framed);
  if (!written) co_return written.error();
  co_return co_await send_before(fd, std::span(wire).first(*written), deadline);
}

// Reads one `u16 length || body` message from application data. The peer sends it in records
// of its own: plaintext behind it in the same record is handshake_malformed.
Task<Result<std::vector<std::byte>>> read_message(tls::TlsConnection& connection,
                                                  MessageReader& reader, std::string* tls_error) {
  std::vector<std::byte> plaintext;
  std::vector<std::byte> scratch(tls::kMaxTlsPlaintext);
  for (;;) {
    auto record = co_await reader.next_tls_record();
    if (!record) co_return record.error();
    auto n = connection.read_record(*record, scratch);
    reader.drop();
    if (!n) {
      if (tls_error) *tls_error = connection.error_text();
      co_return n.error();
    }
    plaintext.insert(plaintext.end(), scratch.begin(), scratch.begin() + *n);
    if (plaintext.size() < protocol::kHandshakeLengthSize) continue;
    auto length = protocol::handshake_message_length(
        std::span<const std::byte, protocol::kHandshakeLengthSize>(plaintext.data(), 2));
    if (!length) co_return length.error();
    const std::size_t whole = protocol::kHandshakeLengthSize + *length;
    if (plaintext.size() > whole) co_return reason(Reason::handshake_malformed);
    if (plaintext.size() == whole) {
      co_return std::vector<std::byte>(plaintext.begin() + 2, plaintext.end());
    }
  }
}

}  // namespace

Task<Result<TlsHandshakeResult>> run_client_tls_handshake(
    int fd, const tls::TlsContext& context, TlsClientCredentials credentials, TrustDecision trust,
    std::chrono::milliseconds timeout, std::string* server_message, std::string* tls_error) {
  std::optional<Secret> token_key_secret;
  if (credentials.token && !credentials.token->empty()) {
    token_key_secret.emplace(token_key(*credentials.token));
    crypto::secure_wipe(std::as_writable_bytes(std::span(*credentials.token)));
  }
  if (auto named = check_client_name(credentials.client_name); !named) co_return named.error();
  auto connection = context.new_connection();
  if (!connection) co_return connection.error();
  MessageReader reader(fd, Clock::now() + timeout);
  if (auto done = co_await drive_tls(fd, **connection, reader, tls_error); !done) {
    co_return done.error();
  }
  const tls::PeerCertificate& certificate = (*connection)->peer();
  PeerIdentity server{{}, certificate.pin};
  if (trust) {
    if (certificate.pin.empty()) {
      if (tls_error) *tls_error = "the server sent no certificate key this client can pin";
      co_return reason(Reason::certificate_rejected);
    }
    // The trust decision may ask a person; the deadline does not run while it waits.
    const auto asked_at = Clock::now();
    if (auto trusted = co_await trust(server); !trusted) co_return trusted.error();
    reader.extend_deadline(Clock::now() - asked_at);
  }
  auto binding = auth_binding(**connection);
  if (!binding) co_return binding.error();
  auto auth = make_client_auth(*credentials.identity, token_key_secret, credentials.client_name,
                               protocol::kTlsClientSignatureLabel, *binding);
  token_key_secret.reset();
  if (!auth) co_return auth.error();
  auto sent = co_await send_message(fd, **connection, *auth, reader.deadline());
  crypto::secure_wipe(*auth);
  if (!sent) co_return sent.error();
  auto body = co_await read_message(**connection, reader, tls_error);
  if (!body) co_return body.error();
  auto result = protocol::decode_auth_result(*body);
  if (!result) co_return result.error();
  if (result->status != Reason::ok) {
    if (server_message) *server_message = result->message;
    co_return reason(result->status);
  }
  TlsHandshakeResult done;
  done.connection = std::move(*connection);
  done.params = params_of(std::move(result).value());
  done.peer = std::move(server);
  done.leftover = reader.leftover();
  co_return done;
}

Task<Result<TlsHandshakeResult>> run_server_tls_handshake(int fd, const tls::TlsContext& context,
                                                          std::optional<std::string> token,
                                                          AdmissionDecision admit,
                                                          std::chrono::milliseconds timeout,
                                                          ClientClaim* claim_out,
                                                          std::string* tls_error) {
  auto connection = context.new_connection();
  if (!connection) co_return connection.error();
  MessageReader reader(fd, Clock::now() + timeout);
  if (auto done = co_await drive_tls(fd, **connection, reader, tls_error); !done) {
    co_return done.error();
  }
  auto binding = auth_binding(**connection);
  if (!binding) co_return binding.error();
  auto body = co_await read_message(**connection, reader, tls_error);
  if (!body) co_return body.error();
  std::optional<std::string_view> expected;
  if (token) expected = *token;
  auto claim = check_client_auth(*body, protocol::kTlsClientSignatureLabel, *binding, expected);
  crypto::secure_wipe(*body);
  Admission admission;
  if (!claim) {
    admission.reason = protocol::reason_of(claim.error());
    admission.message = claim.error().message();
  } else {
    const tls::PeerCertificate& certificate = (*connection)->peer();
    claim->certificate_verified = certificate.chain_verified;
    claim->certificate_subject = certificate.subject;
    if (claim_out) *claim_out = *claim;
    admission = co_await admit(*claim);
  }
  auto encoded = protocol::encode(admission.reason == Reason::ok
                                      ? accepting_result(admission.params)
                                      : refusing_result(admission.reason, admission.message));
  if (!encoded) co_return encoded.error();
  auto sent = co_await send_message(fd, **connection, *encoded, reader.deadline());
  if (admission.reason != Reason::ok) {
    co_return claim ? reason(admission.reason) : claim.error();
  }
  if (!sent) co_return sent.error();
  TlsHandshakeResult done;
  done.connection = std::move(*connection);
  done.params = admission.params;
  done.peer = make_identity(claim->client_identity);
  done.claim = std::move(claim).value();
  done.leftover = reader.leftover();
  co_return done;
}

}  // namespace ringtunnel::tunnel
