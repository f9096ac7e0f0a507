// SPDX-License-Identifier: MIT
// The TLS transport's handshake over a socket: TLS 1.3, then ClientAuth / AuthResult inside it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "crypto/ed25519.hpp"
#include "crypto/tls/tls.hpp"
#include "runtime/result.hpp"
#include "runtime/task.hpp"
#include "tunnel/handshake.hpp"
#include "tunnel/handshake_io.hpp"

namespace ringtunnel::tunnel {

// protocol.md §6. After the TLS handshake both ends export 32 bytes (kTlsExporterLabel); the
// client sends its ClientAuth inside TLS, signed over kTlsClientSignatureLabel and that value,
// and the server answers with AuthResult, both as `u16 length || body` application data.
// Then frames flow as application data (TlsChannel). The server's identity is its
// certificate: pinned like the native host key (Verify::pin: `trust` sees the certificate's
// pin), or checked by the TLS library against a CA and a name (Verify::ca).
//
// Errors: as run_client_handshake / run_server_handshake, plus certificate_rejected and
// tls_failed with the TLS library's words in `*tls_error`.

/// A finished TLS handshake: the connection (for TlsChannel), the session parameters, who the
/// peer is and what the socket held behind the last handshake record.
struct TlsHandshakeResult {
  std::unique_ptr<crypto::tls::TlsConnection> connection;
  AuthParams params;
  PeerIdentity peer;  ///< the server's certificate pin (client), the client's key (server)
  ClientClaim claim;  ///< server side: what the client claimed
  Leftover leftover;
};

/// What the client authenticates with inside TLS.
struct TlsClientCredentials {
  const crypto::Ed25519PrivateKey* identity = nullptr;  ///< borrowed for the call
  std::optional<std::string> token;                     ///< wiped once its MAC key is made
  std::string client_name;
};

/// The client's half within `timeout`. `trust` (may be empty, for Verify::ca and insecure) is
/// asked about the certificate's pin, as the native handshake asks about the host key.
runtime::Task<Result<TlsHandshakeResult>> run_client_tls_handshake(
    int fd, const crypto::tls::TlsContext& context, TlsClientCredentials credentials,
    TrustDecision trust, std::chrono::milliseconds timeout, std::string* server_message,
    std::string* tls_error);

/// The server's half within `timeout`: TLS, ClientAuth (checked against `token`), `admit`,
/// AuthResult. A refusal is sent to the client and returned as the error.
runtime::Task<Result<TlsHandshakeResult>> run_server_tls_handshake(
    int fd, const crypto::tls::TlsContext& context, std::optional<std::string> token,
    AdmissionDecision admit, std::chrono::milliseconds timeout, ClientClaim* claim_out,
    std::string* tls_error);

}  // namespace ringtunnel::tunnel
