// SPDX-License-Identifier: MIT
// Attacks on the handshake: MITM substitutions, tampering, replay, downgrade, forged ClientAuth.
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>

#include "crypto/x25519.hpp"
#include "protocol/handshake.hpp"
#include "tunnel/client_handshake.hpp"
#include "tunnel/key_schedule.hpp"
#include "tunnel/server_handshake.hpp"
#include "tunnel_test_support.hpp"

using namespace ringtunnel;
using namespace ringtunnel::tunnel;
using namespace ringtunnel::tunnel::test;
using crypto::AeadAlgorithm;
using protocol::Reason;

namespace {

// Offsets in a ServerHello body.
constexpr std::size_t kVersionAt = 4;
constexpr std::size_t kAeadAt = 5;
constexpr std::size_t kEphemeralAt = 4 + 1 + 1 + 32;
constexpr std::size_t kIdentityAt = kEphemeralAt + 32;
constexpr std::size_t kSignatureAt = kIdentityAt + 32;

void put(Bytes& body, std::size_t at, std::span<const std::byte> bytes) {
  std::memcpy(body.data() + at, bytes.data(), bytes.size());
}

// Signs a ServerHello body as the server with `key` would, for `client_hello`.
void sign_as(Bytes& server_hello, const Bytes& client_hello, const crypto::Ed25519PrivateKey& key) {
  const auto digest =
      transcript_hash(client_hello, protocol::server_hello_signed_part(server_hello));
  put(server_hello, kSignatureAt,
      key.sign(protocol::signature_input(protocol::kServerSignatureLabel, digest)));
}

// A client written from the key schedule alone, which can build any ClientAuth it likes.
struct ManualClient {
  crypto::X25519KeyPair ephemeral = crypto::x25519_generate();
  Bytes client_hello;
  TranscriptHash th1{};
  std::optional<crypto::AeadKey> c2s, s2c;

  Bytes hello() {
    protocol::ClientHello h;
    h.client_ephemeral = ephemeral.public_key;
    h.aeads = {protocol::Aead::aes_256_gcm};
    client_hello = must(protocol::encode(h));
    return client_hello;
  }

  void on_server_hello(const Bytes& server_hello) {
    const auto h = must(protocol::decode_server_hello(server_hello));
    auto shared = must(crypto::x25519_shared(ephemeral.private_key, h.server_ephemeral));
    th1 = transcript_hash(client_hello, server_hello);
    const Secret prk = handshake_prk(th1, shared);
    const HandshakeKeys keys = handshake_keys(prk.span());
    c2s.emplace(must(crypto::AeadKey::create(AeadAlgorithm::aes_256_gcm, keys.c2s.span())));
    s2c.emplace(must(crypto::AeadKey::create(AeadAlgorithm::aes_256_gcm, keys.s2c.span())));
  }

  // ClientAuth for `identity`, signed by `signer` over `label || 0 || digest`.
  Bytes auth_record(const crypto::Ed25519PrivateKey& identity,
                    const crypto::Ed25519PrivateKey& signer, std::string_view label,
                    std::span<const std::byte, 32> digest,
                    std::optional<protocol::Bytes32> mac = std::nullopt) {
    protocol::ClientAuth auth;
    auth.client_identity = identity.public_key();
    auth.signature = signer.sign(protocol::signature_input(label, digest));
    auth.token_mac = mac;
    auth.client_name = "manual";
    return must(seal_handshake_record(*c2s, must(protocol::encode(auth))));
  }

  Result<protocol::AuthResult> auth_result(Bytes record) {
    auto opened = open_record(*s2c, 0, record);
    if (!opened) return opened.error();
    return protocol::decode_auth_result(std::span(record).subspan(4, *opened));
  }
};

protocol::Bytes32 mac_of(std::string_view token, std::span<const std::byte, 32> th1) {
  const Secret key = token_key(token);
  const Secret mac = token_mac(key.span(), th1);
  protocol::Bytes32 out;
  std::copy(mac.span().begin(), mac.span().end(), out.begin());
  return out;
}

}  // namespace

TEST_CASE("a MITM that swaps the server's ephemeral or identity key fails the signature",
          "[tunnel][attack]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  const auto mitm_key = new_key();
  const auto mitm_ephemeral = crypto::x25519_generate();

  SECTION("ephemeral key swapped") {
    Run run(client_key, server_key);
    run.client_hello = body_of(must(run.client.client_hello()));
    Bytes hello = body_of(must(run.server.on_client_hello(run.client_hello)));
    put(hello, kEphemeralAt, mitm_ephemeral.public_key);
    CHECK(run.client.on_server_hello(hello).error() == Reason::bad_signature);
  }
  SECTION("identity key swapped") {
    Run run(client_key, server_key);
    run.client_hello = body_of(must(run.client.client_hello()));
    Bytes hello = body_of(must(run.server.on_client_hello(run.client_hello)));
    put(hello, kIdentityAt, mitm_key.public_key());
    CHECK(run.client.on_server_hello(hello).error() == Reason::bad_signature);
  }
  SECTION("both swapped and re-signed: valid, but the fingerprint gives the MITM away") {
    Run run(client_key, server_key);
    run.client_hello = body_of(must(run.client.client_hello()));
    Bytes hello = body_of(must(run.server.on_client_hello(run.client_hello)));
    put(hello, kEphemeralAt, mitm_ephemeral.public_key);
    put(hello, kIdentityAt, mitm_key.public_key());
    sign_as(hello, run.client_hello, mitm_key);
    const ServerIdentity seen = must(run.client.on_server_hello(hello));
    CHECK(seen.key == mitm_key.public_key());
    CHECK(seen.fingerprint != make_identity(server_key.public_key()).fingerprint);
  }
  SECTION("the client's ephemeral key swapped on the way to the server") {
    Run run(client_key, server_key);
    Bytes hello = body_of(must(run.client.client_hello()));
    put(hello, 4 + 1 + 1 + 32, mitm_ephemeral.public_key);
    const Bytes reply = body_of(must(run.server.on_client_hello(hello)));
    CHECK(run.client.on_server_hello(reply).error() == Reason::bad_signature);
  }
}

TEST_CASE("a flipped bit anywhere in the ServerHello is refused for the right reason",
          "[tunnel][attack]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  Run reference(client_key, server_key);
  reference.hellos();
  const std::size_t size = reference.server_hello.size();
  REQUIRE(size == protocol::kServerHelloSize);
  for (std::size_t i = 0; i < size; ++i) {
    for (uint8_t bit : {0x01, 0x80}) {
      Run run(client_key, server_key);
      run.client_hello = body_of(must(run.client.client_hello()));
      Bytes hello = body_of(must(run.server.on_client_hello(run.client_hello)));
      hello[i] ^= std::byte{bit};
      // aes_256_gcm (1) is chosen: 1^1 = 0 is malformed, 0x81 was never offered.
      Reason expected = Reason::bad_signature;
      if (i < kVersionAt) expected = Reason::handshake_malformed;
      if (i == kVersionAt) {
        expected = bit == 0x01 ? Reason::handshake_malformed : Reason::version_unsupported;
      }
      if (i == kAeadAt) {
        expected = bit == 0x01 ? Reason::handshake_malformed : Reason::aead_unsupported;
      }
      INFO("byte " << i << " bit " << int{bit});
      CHECK(run.client.on_server_hello(hello).error() == expected);
    }
  }
}

TEST_CASE("a flipped bit anywhere in the ClientHello stops the handshake", "[tunnel][attack]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  Run reference(client_key, server_key);
  reference.hellos();
  for (std::size_t i = 0; i < reference.client_hello.size(); ++i) {
    for (uint8_t bit : {0x01, 0x80}) {
      Run run(client_key, server_key);
      Bytes hello = body_of(must(run.client.client_hello()));
      hello[i] ^= std::byte{bit};
      INFO("byte " << i << " bit " << int{bit});
      auto reply = run.server.on_client_hello(hello);
      if (!reply) continue;  // the server refused it
      const auto seen = run.client.on_server_hello(body_of(*reply));
      REQUIRE_FALSE(seen.ok());
      const Reason why = protocol::reason_of(seen.error());
      CHECK((why == Reason::bad_signature || why == Reason::aead_unsupported));
    }
  }
}

TEST_CASE("a flipped bit anywhere in ClientAuth or AuthResult fails decryption",
          "[tunnel][attack]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  Run reference(client_key, server_key, "token", "token");
  (void)reference.all();

  for (std::size_t i = 0; i < reference.client_auth.size(); ++i) {
    Run run(client_key, server_key, "token", "token");
    run.hellos();
    Bytes record = must(run.client.client_auth_record());
    record[i] ^= std::byte{0x01};
    INFO("ClientAuth byte " << i);
    CHECK(run.server.on_client_auth(record, "token").error() == Reason::decrypt_failed);
  }
  for (std::size_t i = 0; i < reference.auth_result.size(); ++i) {
    Run run(client_key, server_key);
    run.hellos();
    (void)run.auth();
    Bytes record = must(run.server.accept({})).first;
    record[i] ^= std::byte{0x80};
    INFO("AuthResult byte " << i);
    CHECK(run.client.on_auth_result(record).error() == Reason::decrypt_failed);
  }
}

TEST_CASE("a ClientAuth or AuthResult replayed from another session fails", "[tunnel][attack]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  Run earlier(client_key, server_key, "token", "token");
  (void)earlier.all();

  Run now(client_key, server_key, "token", "token");
  now.hellos();
  Bytes replayed = earlier.client_auth;
  CHECK(now.server.on_client_auth(replayed, "token").error() == Reason::decrypt_failed);

  Run later(client_key, server_key);
  later.hellos();
  (void)later.auth();
  Bytes old_result = earlier.auth_result;
  CHECK(later.client.on_auth_result(old_result).error() == Reason::decrypt_failed);
}

TEST_CASE("a downgrade of the AEAD or version is refused", "[tunnel][attack]") {
  const auto client_key = new_key();
  const auto server_key = new_key();

  SECTION("the server hello names an AEAD the client did not offer") {
    Run run(client_key, server_key, std::nullopt, std::nullopt, {AeadAlgorithm::chacha20_poly1305});
    run.client_hello = body_of(must(run.client.client_hello()));
    Bytes hello = body_of(must(run.server.on_client_hello(run.client_hello)));
    hello[kAeadAt] = std::byte{1};                 // aes_256_gcm
    sign_as(hello, run.client_hello, server_key);  // even with a valid signature
    CHECK(run.client.on_server_hello(hello).error() == Reason::aead_unsupported);
  }
  SECTION("the offer is stripped on the way: the server's pick is not in the real offer") {
    Run run(client_key, server_key, std::nullopt, std::nullopt, {AeadAlgorithm::chacha20_poly1305});
    Bytes hello = body_of(must(run.client.client_hello()));
    hello.back() = std::byte{1};  // the one offered AEAD becomes aes_256_gcm
    const Bytes reply = body_of(must(run.server.on_client_hello(hello)));
    CHECK(run.client.on_server_hello(reply).error() == Reason::aead_unsupported);
  }
  SECTION("the offer is reordered on the way: the transcript no longer matches") {
    Run run(client_key, server_key, std::nullopt, std::nullopt,
            {AeadAlgorithm::chacha20_poly1305, AeadAlgorithm::aes_256_gcm});
    Bytes hello = body_of(must(run.client.client_hello()));
    std::swap(hello[hello.size() - 1], hello[hello.size() - 2]);
    const Bytes reply = body_of(must(run.server.on_client_hello(hello)));
    CHECK(run.client.on_server_hello(reply).error() == Reason::bad_signature);
  }
  SECTION("another version, even signed") {
    Run run(client_key, server_key);
    run.client_hello = body_of(must(run.client.client_hello()));
    Bytes hello = body_of(must(run.server.on_client_hello(run.client_hello)));
    hello[kVersionAt] = std::byte{2};
    sign_as(hello, run.client_hello, server_key);
    CHECK(run.client.on_server_hello(hello).error() == Reason::version_unsupported);
  }
  SECTION("an injected version-0 refusal ends the handshake with its reason") {
    Run run(client_key, server_key);
    run.client_hello = body_of(must(run.client.client_hello()));
    const Bytes refusal = must(protocol::encode(protocol::make_refusal(Reason::server_busy)));
    CHECK(run.client.on_server_hello(refusal).error() == Reason::server_busy);
    CHECK(run.client.client_auth_record().error() == std::errc::invalid_argument);
  }
  SECTION("a server ephemeral of small order, even signed") {
    Run run(client_key, server_key);
    run.client_hello = body_of(must(run.client.client_hello()));
    Bytes hello = body_of(must(run.server.on_client_hello(run.client_hello)));
    put(hello, kEphemeralAt, std::array<std::byte, 32>{});
    sign_as(hello, run.client_hello, server_key);
    CHECK(run.client.on_server_hello(hello).error() == Reason::handshake_malformed);
  }
}

TEST_CASE("the server checks the client's signature and token binding", "[tunnel][attack]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  const auto other_key = new_key();

  auto start = [&](ManualClient& client, ServerHandshake& server) {
    const Bytes reply = body_of(must(server.on_client_hello(client.hello())));
    client.on_server_hello(reply);
  };

  SECTION("a correct manual client is admitted (the schedule interoperates)") {
    ManualClient client;
    ServerHandshake server(server_key);
    start(client, server);
    Bytes record = client.auth_record(client_key, client_key, protocol::kClientSignatureLabel,
                                      client.th1, mac_of("tok", client.th1));
    const ClientClaim claim = must(server.on_client_auth(record, "tok"));
    CHECK(claim.client_identity == client_key.public_key());
    CHECK(claim.token_valid);
    CHECK(claim.client_name == "manual");
    const auto result = must(client.auth_result(must(server.accept({})).first));
    CHECK(result.status == Reason::ok);
  }
  SECTION("an identity the signer does not hold") {
    ManualClient client;
    ServerHandshake server(server_key);
    start(client, server);
    Bytes record =
        client.auth_record(client_key, other_key, protocol::kClientSignatureLabel, client.th1);
    CHECK(server.on_client_auth(record, std::nullopt).error() == Reason::bad_signature);
    // The client is told why.
    const Bytes refusal = must(server.refuse(Reason::bad_signature, "signature does not verify"));
    const auto result = must(client.auth_result(refusal));
    CHECK(result.status == Reason::bad_signature);
    CHECK(result.message == "signature does not verify");
  }
  SECTION("a signature under the server's label") {
    ManualClient client;
    ServerHandshake server(server_key);
    start(client, server);
    Bytes record =
        client.auth_record(client_key, client_key, protocol::kServerSignatureLabel, client.th1);
    CHECK(server.on_client_auth(record, std::nullopt).error() == Reason::bad_signature);
  }
  SECTION("a signature and token MAC taken from an earlier session") {
    ManualClient first;
    ServerHandshake first_server(server_key);
    start(first, first_server);
    ManualClient second;
    ServerHandshake second_server(server_key);
    start(second, second_server);
    REQUIRE(first.th1 != second.th1);
    Bytes stale_signature =
        second.auth_record(client_key, client_key, protocol::kClientSignatureLabel, first.th1);
    CHECK(second_server.on_client_auth(stale_signature, std::nullopt).error() ==
          Reason::bad_signature);

    ManualClient third;
    ServerHandshake third_server(server_key);
    start(third, third_server);
    Bytes stale_mac = third.auth_record(client_key, client_key, protocol::kClientSignatureLabel,
                                        third.th1, mac_of("tok", first.th1));
    CHECK_FALSE(must(third_server.on_client_auth(stale_mac, "tok")).token_valid);
  }
}
