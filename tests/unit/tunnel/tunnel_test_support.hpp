// SPDX-License-Identifier: MIT
// Helpers for the tunnel tests: byte strings, must(), and a whole handshake run in memory.
#pragma once

#include <catch2/catch.hpp>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "crypto/ed25519.hpp"
#include "protocol/handshake.hpp"
#include "protocol/reason.hpp"
#include "runtime/result.hpp"
#include "tunnel/client_handshake.hpp"
#include "tunnel/handshake.hpp"
#include "tunnel/server_handshake.hpp"

namespace ringtunnel::tunnel::test {

using Bytes = std::vector<std::byte>;

/// Text as bytes.
inline Bytes text(std::string_view s) {
  Bytes out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

/// The value of a Result that must have succeeded (the test stops with its error otherwise).
template <typename T>
T must(Result<T> result) {
  INFO("error: " << result.error().message());
  REQUIRE(result.ok());
  return std::move(result).value();
}

/// The body of a framed plaintext handshake message (`u16 length || body`), length checked.
inline Bytes body_of(const Bytes& framed) {
  REQUIRE(framed.size() >= protocol::kHandshakeLengthSize);
  const auto length =
      protocol::handshake_message_length(std::span<const std::byte, protocol::kHandshakeLengthSize>(
          framed.data(), protocol::kHandshakeLengthSize));
  REQUIRE(length.ok());
  REQUIRE(*length == framed.size() - protocol::kHandshakeLengthSize);
  return Bytes(framed.begin() + protocol::kHandshakeLengthSize, framed.end());
}

/// `body` with its u16 length prefix (for a ServerHello the test has rewritten).
inline Bytes framed(const Bytes& body) {
  return must(protocol::frame_handshake_message(body));
}

/// A fresh identity key (no file).
inline crypto::Ed25519PrivateKey new_key() {
  return crypto::Ed25519PrivateKey::generate();
}

/// The messages of one handshake, step by step, with both state machines. Each step checks
/// that the step succeeded and keeps the bytes it produced, so a test can tamper with them.
struct Run {
  ClientHandshake client;
  ServerHandshake server;
  std::optional<std::string> expected_token;
  Bytes client_hello;  // bodies (no length prefix)
  Bytes server_hello;
  Bytes client_auth;  // whole records
  Bytes auth_result;

  Run(const crypto::Ed25519PrivateKey& client_key, const crypto::Ed25519PrivateKey& server_key,
      std::optional<std::string> token = std::nullopt,
      std::optional<std::string> server_token = std::nullopt,
      std::vector<crypto::AeadAlgorithm> client_aeads = default_aeads(),
      std::vector<crypto::AeadAlgorithm> server_aeads = default_aeads())
      : client(client_key, std::move(token), "laptop.example", std::move(client_aeads)),
        server(server_key, std::move(server_aeads)),
        expected_token(std::move(server_token)) {}

  void hellos() {
    client_hello = body_of(must(client.client_hello()));
    server_hello = body_of(must(server.on_client_hello(client_hello)));
    (void)must(client.on_server_hello(server_hello));
  }

  ClientClaim auth() {
    client_auth = must(client.client_auth_record());
    Bytes record = client_auth;  // opened in place; keep the original for tampering tests
    return must(server.on_client_auth(record, expected_token));
  }

  std::pair<Established, Established> finish(const AuthParams& params = {}) {
    auto [record, server_side] = must(server.accept(params));
    auth_result = record;
    Established client_side = must(client.on_auth_result(record));
    return {std::move(client_side), std::move(server_side)};
  }

  std::pair<Established, Established> all(const AuthParams& params = {}) {
    hellos();
    (void)auth();
    return finish(params);
  }
};

/// True when two secrets hold the same bytes.
inline bool same(const Secret& a, const Secret& b) {
  return std::equal(a.span().begin(), a.span().end(), b.span().begin());
}

}  // namespace ringtunnel::tunnel::test
