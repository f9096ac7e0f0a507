// SPDX-License-Identifier: MIT
// Client and server handshakes in memory: secrets, session records, negotiation, tokens, order.
#include "protocol/handshake.hpp"

#include <catch2/catch.hpp>
#include <cerrno>

#include "crypto/fingerprint.hpp"
#include "crypto/x25519.hpp"
#include "protocol/frame.hpp"
#include "protocol/payload.hpp"
#include "protocol/wire.hpp"
#include "tunnel/client_handshake.hpp"
#include "tunnel/server_handshake.hpp"
#include "tunnel_test_support.hpp"

using namespace ringtunnel;
using namespace ringtunnel::tunnel;
using namespace ringtunnel::tunnel::test;
using crypto::AeadAlgorithm;
using protocol::Reason;

namespace {

const Clock::time_point kNow{};

// One record carrying the given frames, sealed by `sealer`.
template <typename... Frames>
Bytes record_of(RecordSealer& sealer, const Frames&... frames) {
  Bytes plaintext;
  protocol::ByteWriter writer(plaintext);
  const bool appended = (protocol::append_frame(writer, 0, frames).ok() && ...);
  REQUIRE(appended);
  Bytes record(RecordSealer::sealed_size(plaintext.size()));
  REQUIRE(must(sealer.seal(plaintext, record)) == record.size());
  return record;
}

// Opens `record` (a copy) and returns the types of its frames, or the error.
Result<std::vector<protocol::FrameType>> frames_in(RecordOpener& opener, Bytes record) {
  auto opened = opener.open(record);
  if (!opened) return opened.error();
  protocol::FrameReader reader{std::span(record).subspan(4, *opened)};
  std::vector<protocol::FrameType> types;
  while (true) {
    auto frame = reader.next();
    if (!frame) return frame.error();
    if (!*frame) return types;
    types.push_back((*frame)->type);
  }
}

bool has_key_update(const std::vector<protocol::FrameType>& types) {
  return std::find(types.begin(), types.end(), protocol::FrameType::key_update) != types.end();
}

// Sends a PING from `from` to `to`, with a key update when `update` says so.
void exchange(SessionRecords& from, SessionRecords& to, bool update) {
  const Bytes record = update ? record_of(from.sealer, protocol::Ping{7}, protocol::KeyUpdate{})
                              : record_of(from.sealer, protocol::Ping{7});
  if (update) REQUIRE(from.sealer.update_key(kNow).ok());
  const auto types = must(frames_in(to.opener, record));
  CHECK(types.front() == protocol::FrameType::ping);
  if (has_key_update(types)) REQUIRE(to.opener.update_key().ok());
}

}  // namespace

TEST_CASE("a full handshake leaves both sides with matching secrets", "[tunnel][handshake]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  Run run(client_key, server_key);
  run.client_hello = body_of(must(run.client.client_hello()));
  run.server_hello = body_of(must(run.server.on_client_hello(run.client_hello)));
  const ServerIdentity server = must(run.client.on_server_hello(run.server_hello));
  CHECK(server.key == server_key.public_key());
  CHECK(server.fingerprint == crypto::fingerprint(server_key.public_key()));

  const ClientClaim claim = run.auth();
  CHECK(claim.client_identity == client_key.public_key());
  CHECK(claim.client_fingerprint == crypto::fingerprint(client_key.public_key()));
  CHECK_FALSE(claim.token_valid);
  CHECK(claim.client_name == "laptop.example");

  const AuthParams params{32768, 100000, 16, 5000, "welcome"};
  auto [client, server_side] = run.finish(params);
  CHECK(client.aead == AeadAlgorithm::aes_256_gcm);
  CHECK(server_side.aead == client.aead);
  CHECK(same(client.c2s_secret, server_side.c2s_secret));
  CHECK(same(client.s2c_secret, server_side.s2c_secret));
  CHECK_FALSE(same(client.c2s_secret, client.s2c_secret));
  CHECK(client.params == params);
  CHECK(server_side.params == params);
  CHECK(client.peer == server);
  CHECK(server_side.peer.key == client_key.public_key());
  CHECK(server_side.peer.fingerprint == claim.client_fingerprint);
}

TEST_CASE("records flow both ways and survive key updates on both sides", "[tunnel][handshake]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  for (auto aeads :
       {std::vector{AeadAlgorithm::aes_256_gcm}, std::vector{AeadAlgorithm::chacha20_poly1305}}) {
    Run run(client_key, server_key, std::nullopt, std::nullopt, aeads);
    auto [c, s] = run.all();
    CHECK(c.aead == aeads.front());
    SessionRecords client = must(session_records(c, protocol::Role::client, kNow));
    SessionRecords server = must(session_records(s, protocol::Role::server, kNow));
    // Openers that never update, to show the old keys stop working.
    RecordOpener stale_at_server = must(RecordOpener::create(c.aead, c.c2s_secret.span()));
    RecordOpener stale_at_client = must(RecordOpener::create(c.aead, c.s2c_secret.span()));

    // The client switches its sending key and the server follows: the update record itself
    // opens under the old key, the next one only under the new key.
    const Bytes update = record_of(client.sealer, protocol::Ping{1}, protocol::KeyUpdate{});
    REQUIRE(client.sealer.update_key(kNow).ok());
    CHECK(has_key_update(must(frames_in(server.opener, update))));
    CHECK(has_key_update(must(frames_in(stale_at_server, update))));
    REQUIRE(server.opener.update_key().ok());
    const Bytes after = record_of(client.sealer, protocol::Ping{2});
    CHECK(must(frames_in(server.opener, after)).size() == 1);
    CHECK(frames_in(stale_at_server, after).error() == Reason::decrypt_failed);

    // The same from the server, after some traffic.
    for (int i = 0; i < 3; ++i) {
      exchange(client, server, false);
      const Bytes record = record_of(server.sealer, protocol::Ping{3});
      CHECK(must(frames_in(client.opener, record)).size() == 1);
      CHECK(must(frames_in(stale_at_client, record)).size() == 1);
    }
    const Bytes server_update = record_of(server.sealer, protocol::KeyUpdate{});
    REQUIRE(server.sealer.update_key(kNow).ok());
    CHECK(has_key_update(must(frames_in(client.opener, server_update))));
    CHECK(has_key_update(must(frames_in(stale_at_client, server_update))));
    REQUIRE(client.opener.update_key().ok());
    const Bytes late = record_of(server.sealer, protocol::Ping{4});
    CHECK(frames_in(stale_at_client, late).error() == Reason::decrypt_failed);
    CHECK(must(frames_in(client.opener, late)).size() == 1);

    // Further updates in both directions keep the two ends in step.
    for (int i = 0; i < 3; ++i) {
      exchange(client, server, i % 2 == 0);
      exchange(server, client, i % 2 == 1);
    }
    exchange(client, server, false);
    exchange(server, client, false);
  }
}

TEST_CASE("session records reject reflection, reordering and duplicates", "[tunnel][handshake]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  Run run(client_key, server_key);
  auto [c, s] = run.all();
  SessionRecords client = must(session_records(c, protocol::Role::client, kNow));
  SessionRecords server = must(session_records(s, protocol::Role::server, kNow));

  SECTION("a client record reflected back to the client") {
    const Bytes record = record_of(client.sealer, protocol::Ping{1});
    CHECK(frames_in(client.opener, record).error() == Reason::decrypt_failed);
  }
  SECTION("out of order") {
    const Bytes first = record_of(client.sealer, protocol::Ping{1});
    const Bytes second = record_of(client.sealer, protocol::Ping{2});
    CHECK(frames_in(server.opener, second).error() == Reason::decrypt_failed);
    CHECK(frames_in(server.opener, first).error() == Reason::decrypt_failed);
  }
  SECTION("duplicated") {
    const Bytes first = record_of(server.sealer, protocol::Ping{1});
    CHECK(must(frames_in(client.opener, first)).size() == 1);
    CHECK(frames_in(client.opener, first).error() == Reason::decrypt_failed);
  }
}

TEST_CASE("every handshake has its own secrets", "[tunnel][handshake]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  Run first(client_key, server_key);
  Run second(client_key, server_key);
  auto [a, unused_a] = first.all();
  auto [b, unused_b] = second.all();
  CHECK_FALSE(same(a.c2s_secret, b.c2s_secret));
  CHECK_FALSE(same(a.s2c_secret, b.s2c_secret));
  CHECK(first.client_hello != second.client_hello);
  CHECK(first.server_hello != second.server_hello);
}

TEST_CASE("the AEAD is the client's first choice the server supports", "[tunnel][handshake]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  struct Case {
    std::vector<AeadAlgorithm> client, server;
    AeadAlgorithm chosen;
  };
  const std::vector<Case> cases = {
      {{AeadAlgorithm::chacha20_poly1305, AeadAlgorithm::aes_256_gcm},
       default_aeads(),
       AeadAlgorithm::chacha20_poly1305},
      {default_aeads(), {AeadAlgorithm::chacha20_poly1305}, AeadAlgorithm::chacha20_poly1305},
      {default_aeads(), default_aeads(), AeadAlgorithm::aes_256_gcm},
  };
  for (const Case& c : cases) {
    Run run(client_key, server_key, std::nullopt, std::nullopt, c.client, c.server);
    auto [client, server] = run.all();
    CHECK(client.aead == c.chosen);
    CHECK(server.aead == c.chosen);
  }
}

TEST_CASE("no common AEAD: the server refuses and the client reports it", "[tunnel][handshake]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  ClientHandshake client(client_key, std::nullopt, "c", {AeadAlgorithm::aes_256_gcm});
  ServerHandshake server(server_key, {AeadAlgorithm::chacha20_poly1305});
  const Bytes hello = body_of(must(client.client_hello()));
  CHECK(server.on_client_hello(hello).error() == Reason::aead_unsupported);
  const Bytes refusal = body_of(server.refusal_hello());
  const auto decoded = must(protocol::decode_server_hello(refusal));
  CHECK(protocol::is_refusal(decoded));
  CHECK(protocol::refusal_reason(decoded) == Reason::aead_unsupported);
  CHECK(client.on_server_hello(refusal).error() == Reason::aead_unsupported);
  CHECK(client.client_auth_record().error() == std::errc::invalid_argument);  // final
}

TEST_CASE("a client hello outside version 1 or malformed is refused", "[tunnel][handshake]") {
  const auto server_key = new_key();
  protocol::ClientHello hello;
  hello.min_version = 2;
  hello.max_version = 3;
  hello.aeads = {protocol::Aead::aes_256_gcm};
  hello.client_ephemeral = crypto::x25519_generate().public_key;
  {
    ServerHandshake server(server_key);
    CHECK(server.on_client_hello(must(protocol::encode(hello))).error() ==
          Reason::version_unsupported);
    const auto refusal = must(protocol::decode_server_hello(body_of(server.refusal_hello())));
    CHECK(protocol::refusal_reason(refusal) == Reason::version_unsupported);
  }
  {
    hello.min_version = 1;  // a range that includes 1 is fine
    ServerHandshake server(server_key);
    CHECK(server.on_client_hello(must(protocol::encode(hello))).ok());
    CHECK(server.refusal_hello().empty());
  }
  {
    ServerHandshake server(server_key);
    CHECK(server.on_client_hello(text("RTUN")).error() == Reason::handshake_malformed);
    CHECK_FALSE(server.refusal_hello().empty());
  }
  {
    hello.client_ephemeral = {};  // the all-zero point has small order
    ServerHandshake server(server_key);
    CHECK(server.on_client_hello(must(protocol::encode(hello))).error() ==
          Reason::handshake_malformed);
  }
}

TEST_CASE("the token MAC is valid only for the right token", "[tunnel][handshake]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  struct Case {
    std::optional<std::string> client, server;
    bool valid;
  };
  const std::vector<Case> cases = {
      {"correct horse", "correct horse", true},
      {"correct horse", "correct horsf", false},
      {"correct horse", std::nullopt, false},
      {std::nullopt, "correct horse", false},
      {"", "", false},
      {std::nullopt, std::nullopt, false},
  };
  for (const Case& c : cases) {
    INFO("client token " << c.client.value_or("(none)") << ", server token "
                         << c.server.value_or("(none)"));
    Run run(client_key, server_key, c.client, c.server);
    run.hellos();
    CHECK(run.auth().token_valid == c.valid);
    auto [client, server] = run.finish();  // the verdict is the caller's; the handshake goes on
    CHECK(same(client.c2s_secret, server.c2s_secret));
  }
}

TEST_CASE("a server refusal reaches the client with its reason and message",
          "[tunnel][handshake]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  Run run(client_key, server_key);
  run.hellos();
  (void)run.auth();
  Bytes record = must(run.server.refuse(Reason::unknown_key, "key not in authorized_keys"));
  CHECK(run.client.on_auth_result(record).error() == Reason::unknown_key);
  CHECK(run.client.server_message() == "key not in authorized_keys");
  CHECK(run.server.accept({}).error() == std::errc::invalid_argument);
  CHECK(run.server.refuse(Reason::unknown_key, "again").error() == std::errc::invalid_argument);

  // A long message is cut to 255 bytes on a UTF-8 boundary.
  Run other(client_key, server_key);
  other.hellos();
  (void)other.auth();
  std::string long_message = "x";
  for (int i = 0; i < 200; ++i) long_message += "é";
  record = must(other.server.refuse(Reason::bad_token, long_message));
  CHECK(other.client.on_auth_result(record).error() == Reason::bad_token);
  CHECK(other.client.server_message().size() == 255);
  CHECK(other.client.server_message() == long_message.substr(0, 255));
}

TEST_CASE("accept checks the parameters it sends", "[tunnel][handshake]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  Run run(client_key, server_key);
  run.hellos();
  (void)run.auth();
  AuthParams bad;
  bad.max_frame = 0;
  CHECK(run.server.accept(bad).error() == Reason::handshake_malformed);
  // The client can still be told.
  Bytes record = must(run.server.refuse(Reason::internal_error, "misconfigured"));
  CHECK(run.client.on_auth_result(record).error() == Reason::internal_error);
}

TEST_CASE("client input it cannot send is refused before anything is sent", "[tunnel][handshake]") {
  const auto key = new_key();
  const auto server_key = new_key();
  CHECK(ClientHandshake(key, std::nullopt, "c", {}).client_hello().error() ==
        Reason::handshake_malformed);
  CHECK(ClientHandshake(key, std::nullopt, "c", {AeadAlgorithm{7}}).client_hello().error() ==
        std::errc::operation_not_supported);
  ClientHandshake long_name(key, std::nullopt, std::string(65, 'n'));
  CHECK(long_name.client_hello().error() == Reason::handshake_malformed);
  CHECK(long_name.client_auth_record().error() == std::errc::invalid_argument);
  ClientHandshake not_utf8(key, std::nullopt, "\xff");
  CHECK(not_utf8.client_hello().error() == Reason::handshake_malformed);
  // 64 bytes is fine.
  Run run(key, server_key);
  run.client = ClientHandshake(key, std::nullopt, std::string(64, 'n'));
  run.hellos();
  CHECK(run.auth().client_name == std::string(64, 'n'));
}

TEST_CASE("client methods called out of order fail and change nothing", "[tunnel][handshake]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  Run run(client_key, server_key);
  Bytes junk(40, std::byte{1});
  const auto out_of_order = std::errc::invalid_argument;
  CHECK(run.client.on_server_hello(junk).error() == out_of_order);
  CHECK(run.client.client_auth_record().error() == out_of_order);
  CHECK(run.client.on_auth_result(junk).error() == out_of_order);
  run.client_hello = body_of(must(run.client.client_hello()));
  CHECK(run.client.client_hello().error() == out_of_order);
  CHECK(run.client.client_auth_record().error() == out_of_order);
  CHECK(run.client.on_auth_result(junk).error() == out_of_order);
  run.server_hello = body_of(must(run.server.on_client_hello(run.client_hello)));
  (void)must(run.client.on_server_hello(run.server_hello));
  CHECK(run.client.on_server_hello(run.server_hello).error() == out_of_order);
  CHECK(run.client.on_auth_result(junk).error() == out_of_order);
  (void)run.auth();
  CHECK(run.client.client_auth_record().error() == out_of_order);
  auto [client, server] = run.finish();
  CHECK(same(client.c2s_secret, server.c2s_secret));
  CHECK(run.client.on_auth_result(junk).error() == out_of_order);
  CHECK(run.client.client_hello().error() == out_of_order);
}

TEST_CASE("server methods called out of order fail and change nothing", "[tunnel][handshake]") {
  const auto client_key = new_key();
  const auto server_key = new_key();
  Run run(client_key, server_key);
  Bytes junk(40, std::byte{1});
  const auto out_of_order = std::errc::invalid_argument;
  CHECK(run.server.on_client_auth(junk, std::nullopt).error() == out_of_order);
  CHECK(run.server.accept({}).error() == out_of_order);
  CHECK(run.server.refuse(Reason::unknown_key, "no").error() == out_of_order);
  run.client_hello = body_of(must(run.client.client_hello()));
  run.server_hello = body_of(must(run.server.on_client_hello(run.client_hello)));
  CHECK(run.server.on_client_hello(run.client_hello).error() == out_of_order);
  CHECK(run.server.accept({}).error() == out_of_order);
  CHECK(run.server.refuse(Reason::ok, "ok is no refusal").error() == out_of_order);
  (void)must(run.client.on_server_hello(run.server_hello));
  (void)run.auth();
  CHECK(run.server.on_client_auth(junk, std::nullopt).error() == out_of_order);
  auto [client, server] = run.finish();
  CHECK(same(client.s2c_secret, server.s2c_secret));
  CHECK(run.server.accept({}).error() == out_of_order);
  CHECK(run.server.refuse(Reason::unknown_key, "too late").error() == out_of_order);
}
