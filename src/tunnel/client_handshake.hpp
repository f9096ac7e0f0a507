// SPDX-License-Identifier: MIT
// ClientHandshake: the client's side of docs/protocol.md §1 as a sans-I/O state machine.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crypto/aead.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/x25519.hpp"
#include "runtime/result.hpp"
#include "tunnel/handshake.hpp"
#include "tunnel/key_schedule.hpp"

namespace ringtunnel::tunnel {

/// Runs one client handshake: bytes in, bytes out, no I/O. The methods must be called in
/// this order, each once:
///
///   client_hello()         → send the framed ClientHello
///   on_server_hello(body)  → the server's identity, signature verified; the caller checks it
///                            against known_hosts and only continues if it trusts it
///   client_auth_record()   → send the ClientAuth record
///   on_auth_result(record) → the traffic secrets (Established), or the server's refusal
///
/// A method called out of order fails with handshake_out_of_order() (EINVAL) and changes
/// nothing. Any other failure is final: the secrets are wiped and every later call fails;
/// close the connection. Errors are protocol Reasons (compare with `error == Reason::x`)
/// except for library failures (errno codes; reason_of() maps them to internal_error).
///
/// Secrets: the ephemeral private key is wiped once the shared secret is computed, the shared
/// secret once prk exists, the token key once ClientAuth is sealed, prk once the traffic
/// secrets exist. Lifetime: `identity` is borrowed and must outlive this object.
/// Threads: one thread at a time.
class ClientHandshake {
 public:
  /// `token` (the server's enrolment token, optional: an empty one counts as none) is turned
  /// into its MAC key at once and the string is wiped. `aeads` is the offer, in preference
  /// order (1..8 algorithms this build supports).
  ClientHandshake(const crypto::Ed25519PrivateKey& identity, std::optional<std::string> token,
                  std::string client_name,
                  std::vector<crypto::AeadAlgorithm> aeads = default_aeads());

  ClientHandshake(ClientHandshake&&) noexcept = default;
  ClientHandshake& operator=(ClientHandshake&&) noexcept = default;
  ClientHandshake(const ClientHandshake&) = delete;
  ClientHandshake& operator=(const ClientHandshake&) = delete;
  ~ClientHandshake() = default;

  /// The framed ClientHello (`u16 length || body`) with a fresh random and ephemeral key.
  /// Errors: EOPNOTSUPP if an offered AEAD is not provided by this build; handshake_malformed
  /// for an empty or over-long offer, or a client name over 64 bytes or not UTF-8.
  [[nodiscard]] Result<std::vector<std::byte>> client_hello();

  /// Checks the ServerHello `body` (without its length prefix) and derives the handshake keys.
  /// Errors: the refusal's reason for a version-0 ServerHello; handshake_malformed for a body
  /// that does not decode or an ephemeral key of small order; version_unsupported /
  /// aead_unsupported for a version or AEAD the client did not offer (no downgrade);
  /// bad_signature when the signature does not verify under server_identity.
  [[nodiscard]] Result<ServerIdentity> on_server_hello(std::span<const std::byte> body);

  /// ClientAuth sealed as record 0 with hs_c2s_key: the client's identity, its signature over
  /// th1, the token MAC if a token was given, and the client name.
  /// Errors: only library failures (the client name was checked by client_hello()).
  [[nodiscard]] Result<std::vector<std::byte>> client_auth_record();

  /// Opens the AuthResult `record` (whole, header included; opened in place) with hs_s2c_key.
  /// Errors: decrypt_failed; handshake_malformed when it does not decode; the server's status
  /// when it refused (its message is then in server_message()).
  [[nodiscard]] Result<Established> on_auth_result(std::span<std::byte> record);

  /// The message of the server's AuthResult refusal ("" before one arrived).
  [[nodiscard]] const std::string& server_message() const noexcept { return server_message_; }

 private:
  enum class State { start, hello_sent, server_verified, auth_sent, established, failed };

  Result<void> check_server_hello(const protocol::ServerHello& hello,
                                  std::span<const std::byte> body) const;
  Result<void> derive_handshake_keys(const protocol::ServerHello& hello,
                                     std::span<const std::byte> body);
  std::error_code fail(std::error_code error) noexcept;

  const crypto::Ed25519PrivateKey* identity_;  // borrowed: outlives this object
  std::optional<Secret> token_key_;
  std::string client_name_;
  std::vector<crypto::AeadAlgorithm> offered_;
  State state_ = State::start;
  crypto::X25519KeyPair ephemeral_;
  std::vector<std::byte> client_hello_body_;
  TranscriptHash th1_{};
  TranscriptHash th2_{};
  Secret prk_;
  crypto::AeadAlgorithm aead_ = crypto::AeadAlgorithm::aes_256_gcm;
  std::optional<crypto::AeadKey> hs_c2s_;
  std::optional<crypto::AeadKey> hs_s2c_;
  PeerIdentity server_;
  std::string server_message_;
};

}  // namespace ringtunnel::tunnel
