// SPDX-License-Identifier: MIT
// ServerHandshake: the server's side of docs/protocol.md §1 as a sans-I/O state machine.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/aead.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/x25519.hpp"
#include "protocol/reason.hpp"
#include "runtime/result.hpp"
#include "tunnel/handshake.hpp"
#include "tunnel/key_schedule.hpp"

namespace ringtunnel::tunnel {

/// Runs one server handshake: bytes in, bytes out, no I/O. In order, each once:
///
///   on_client_hello(body)          → send the framed ServerHello (or, on failure, send
///                                    refusal_hello() and close)
///   on_client_auth(record, token)  → who the client is (signature verified) and whether its
///                                    token MAC matched; the caller decides admission
///   accept(params) or refuse(...)  → send the AuthResult record; on accept, the traffic
///                                    secrets (Established)
///
/// refuse() may also follow a failed on_client_auth (e.g. bad_signature), so the client
/// learns why. A method called out of order fails with handshake_out_of_order() (EINVAL)
/// and changes nothing; any other failure is final (secrets wiped). Errors are protocol
/// Reasons except for library failures (errno codes). The handshake deadline (10 s) is the
/// caller's.
///
/// Secrets: the ephemeral private key and the shared secret are wiped before
/// on_client_hello returns, prk once the traffic secrets exist.
/// Lifetime: `identity` is borrowed and must outlive this object. Threads: one at a time.
class ServerHandshake {
 public:
  /// `supported`: the AEADs this server accepts; the client's first that is also here (and
  /// provided by this build) wins.
  explicit ServerHandshake(const crypto::Ed25519PrivateKey& identity,
                           std::vector<crypto::AeadAlgorithm> supported = default_aeads());

  ServerHandshake(ServerHandshake&&) noexcept = default;
  ServerHandshake& operator=(ServerHandshake&&) noexcept = default;
  ServerHandshake(const ServerHandshake&) = delete;
  ServerHandshake& operator=(const ServerHandshake&) = delete;
  ~ServerHandshake() = default;

  /// Negotiates from the ClientHello `body` (without its length prefix) and returns the framed,
  /// signed ServerHello; the handshake keys are derived.
  /// Errors (refusal_hello() then holds the framed refusal ServerHello to send before closing):
  /// handshake_malformed for a body that does not decode or an ephemeral key of small order;
  /// version_unsupported when the client's range excludes version 1; aead_unsupported when
  /// no offered AEAD is supported here.
  [[nodiscard]] Result<std::vector<std::byte>> on_client_hello(std::span<const std::byte> body);

  /// The framed refusal ServerHello after on_client_hello failed; empty otherwise.
  [[nodiscard]] const std::vector<std::byte>& refusal_hello() const noexcept {
    return refusal_hello_;
  }

  /// Opens the ClientAuth `record` (whole, header included; opened in place) with hs_c2s_key,
  /// verifies the client's signature over th1 and compares its token MAC (constant time) with
  /// the MAC of `expected_token` (none, or empty: token_valid is false).
  /// Errors: decrypt_failed; handshake_malformed when it does not decode; bad_signature.
  [[nodiscard]] Result<ClientClaim> on_client_auth(std::span<std::byte> record,
                                                   std::optional<std::string_view> expected_token);

  /// Admits the client: the AuthResult(ok) record carrying `params`, and the traffic secrets
  /// (Established.peer is the client). Errors: handshake_malformed when `params` break the
  /// AuthResult limits (max_frame 1..65536, initial_window ≤ 2^31-1, heartbeat_ms ≥ 1,
  /// message ≤ 255 bytes of UTF-8); refuse() is still possible then.
  [[nodiscard]] Result<std::pair<std::vector<std::byte>, Established>> accept(
      const AuthParams& params);

  /// Refuses the client: the AuthResult record with `reason` (not ok) and `message` (cut to
  /// 255 bytes; dropped if not UTF-8). Valid once the handshake keys exist and no AuthResult
  /// was produced, also after on_client_auth failed. Everything is wiped afterwards.
  [[nodiscard]] Result<std::vector<std::byte>> refuse(protocol::Reason reason, std::string message);

 private:
  enum class State { start, hello_sent, claimed, established, refused, failed };

  Result<crypto::AeadAlgorithm> negotiate(const protocol::ClientHello& hello) const;
  Result<std::vector<std::byte>> signed_server_hello(std::span<const std::byte> client_hello,
                                                     crypto::AeadAlgorithm aead,
                                                     const crypto::X25519KeyPair& ephemeral) const;
  Result<void> derive_handshake_keys(std::span<const std::byte, kSecretSize> shared);
  std::error_code refuse_hello(std::error_code error);
  void wipe_secrets() noexcept;
  std::error_code fail(std::error_code error) noexcept;

  const crypto::Ed25519PrivateKey* identity_;  // borrowed: outlives this object
  std::vector<crypto::AeadAlgorithm> supported_;
  State state_ = State::start;
  std::vector<std::byte> refusal_hello_;
  crypto::AeadAlgorithm aead_ = crypto::AeadAlgorithm::aes_256_gcm;
  TranscriptHash th1_{};
  TranscriptHash th2_{};
  Secret prk_;
  std::optional<crypto::AeadKey> hs_c2s_;
  std::optional<crypto::AeadKey> hs_s2c_;  // kept after a failure so refuse() can still seal
  PeerIdentity client_;
};

}  // namespace ringtunnel::tunnel
