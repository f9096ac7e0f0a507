// SPDX-License-Identifier: MIT
// What both handshake roles share: the outcome types (Established, ...) and record-0 helpers.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crypto/aead.hpp"
#include "crypto/ed25519.hpp"
#include "protocol/frame.hpp"
#include "protocol/handshake.hpp"
#include "protocol/limits.hpp"
#include "runtime/result.hpp"
#include "tunnel/key_schedule.hpp"
#include "tunnel/record_layer.hpp"

namespace ringtunnel::tunnel {

/// The AEADs a side offers or accepts unless told otherwise, in preference order:
/// AES-256-GCM, ChaCha20-Poly1305.
[[nodiscard]] std::vector<crypto::AeadAlgorithm> default_aeads();

/// The other end's long-term Ed25519 key and its "SHA256:..." fingerprint (known_hosts form).
struct PeerIdentity {
  crypto::Ed25519PublicKey key{};
  std::string fingerprint;
  bool operator==(const PeerIdentity&) const = default;
};
/// What ClientHandshake::on_server_hello returns: the caller checks it against known_hosts.
using ServerIdentity = PeerIdentity;

/// The session parameters an AuthResult(ok) carries (protocol.md §1), and its message.
struct AuthParams {
  std::uint32_t max_frame = protocol::kMaxFramePayload;
  std::uint32_t initial_window = protocol::kDefaultWindow;
  std::uint32_t max_streams = protocol::kMaxStreams;
  std::uint32_t heartbeat_ms = static_cast<std::uint32_t>(protocol::kDefaultHeartbeat.count());
  std::string message;  ///< free text for the client's log, UTF-8, at most 255 bytes
  bool operator==(const AuthParams&) const = default;
};

/// A finished handshake: the negotiated AEAD, the first traffic secret of each direction
/// (ts_c2s_0, ts_s2c_0), the server's parameters and who the peer is. Move-only: the secrets
/// wipe themselves. Hand them to RecordSealer/RecordOpener (session_records) and drop this.
struct Established {
  crypto::AeadAlgorithm aead = crypto::AeadAlgorithm::aes_256_gcm;
  Secret c2s_secret;
  Secret s2c_secret;
  AuthParams params;
  PeerIdentity peer;
};

/// What ServerHandshake::on_client_auth learnt: who the client claims to be (its signature
/// over th1 verified) and whether its token MAC matched. Admission is the caller's decision.
struct ClientClaim {
  crypto::Ed25519PublicKey client_identity{};
  std::string client_fingerprint;
  bool token_valid = false;
  bool token_presented = false;  ///< a token MAC was sent, valid or not
  std::string client_name;
  /// TLS transport with --tls-client-ca: the client's certificate chained to that CA, which
  /// admits it as authorized_keys would (the certificate is the credential).
  bool certificate_verified = false;
  std::string certificate_subject;  ///< of that certificate, for logs
};

/// Both directions of a session's record layer, as seen from one end.
struct SessionRecords {
  RecordSealer sealer;  ///< what this end sends
  RecordOpener opener;  ///< what the peer sends
};

/// The record layer for `self` (the client seals with c2s and opens s2c; the server the
/// reverse), with sending keys started at `now`.
/// Errors: as RecordSealer::create / RecordOpener::create.
[[nodiscard]] Result<SessionRecords> session_records(const Established& established,
                                                     protocol::Role self, Clock::time_point now);

// ---- helpers shared by ClientHandshake and ServerHandshake --------------------------------

/// The error a handshake method returns when called in the wrong state (a caller bug): EINVAL.
[[nodiscard]] std::error_code handshake_out_of_order() noexcept;

/// The wire id of an AEAD and back (the numbering is the same).
[[nodiscard]] protocol::Aead to_wire(crypto::AeadAlgorithm algorithm) noexcept;
[[nodiscard]] crypto::AeadAlgorithm from_wire(protocol::Aead aead) noexcept;

/// The AuthResult(ok) that carries `params`, and back (both transports send it, §1 and §6).
[[nodiscard]] protocol::AuthResult accepting_result(const AuthParams& params);
[[nodiscard]] AuthParams params_of(protocol::AuthResult result);

/// The AuthResult refusing with `why`, its message cut to 255 bytes on a UTF-8 boundary.
[[nodiscard]] protocol::AuthResult refusing_result(protocol::Reason why, std::string message);

/// The ClientAuth name's limits (kMaxClientName bytes of UTF-8), checked before anything is
/// sent. Errors: a detailed too_long / not_utf8 code (handshake_malformed).
[[nodiscard]] Result<void> check_client_name(const std::string& name);

/// A PeerIdentity for `key`.
[[nodiscard]] PeerIdentity make_identity(const crypto::Ed25519PublicKey& key);

/// hs_c2s_key and hs_s2c_key as AeadKeys: derived from `prk` and used as AEAD keys as they are
/// (traffic keys, unlike these, go through key()). The same in both roles.
struct HandshakeAeadKeys {
  crypto::AeadKey c2s;
  crypto::AeadKey s2c;
};
[[nodiscard]] Result<HandshakeAeadKeys> handshake_aead_keys(crypto::AeadAlgorithm algorithm,
                                                            SecretView prk);

/// `plaintext` sealed as record 0 under `key`, ready to send (ClientAuth, AuthResult).
[[nodiscard]] Result<std::vector<std::byte>> seal_handshake_record(
    crypto::AeadKey& key, std::span<const std::byte> plaintext);

}  // namespace ringtunnel::tunnel
