// SPDX-License-Identifier: MIT
// ExposureRegistry: first claim wins, the same key takes over, only the holder releases.
#include "server/exposure_registry.hpp"

#include <catch2/catch.hpp>

using ringtunnel::TransportProtocol;
using ringtunnel::crypto::PublicKey;
using ringtunnel::server::ExposureHolder;
using ringtunnel::server::ExposureRegistry;
using Outcome = ExposureRegistry::Outcome;

namespace {

PublicKey key_of(unsigned char fill) {
  PublicKey key{};
  key.fill(static_cast<std::byte>(fill));
  return key;
}

}  // namespace

TEST_CASE("a free port goes to the first key; another key is refused", "[server][exposure]") {
  ExposureRegistry registry;
  const ExposureHolder alice{key_of(1), 0, 11};
  const ExposureHolder bob{key_of(2), 1, 21};
  CHECK(registry.claim(TransportProtocol::tcp, 8080, alice).outcome == Outcome::granted);
  const auto refused = registry.claim(TransportProtocol::tcp, 8080, bob);
  CHECK(refused.outcome == Outcome::claimed);
  CHECK(refused.previous.exposure == 11);  // who refuses it (the server keeps it to itself)
  CHECK(registry.size() == 1);
  // TCP and UDP are apart: the same number over UDP is free.
  CHECK(registry.claim(TransportProtocol::udp, 8080, bob).outcome == Outcome::granted);
  CHECK(registry.size() == 2);
}

TEST_CASE("the same key takes its port over and the old holder's release is ignored",
          "[server][exposure]") {
  ExposureRegistry registry;
  const ExposureHolder stale{key_of(1), 1, 11};
  const ExposureHolder fresh{key_of(1), 0, 12};
  REQUIRE(registry.claim(TransportProtocol::tcp, 443, stale).outcome == Outcome::granted);
  const auto over = registry.claim(TransportProtocol::tcp, 443, fresh);
  CHECK(over.outcome == Outcome::taken_over);
  CHECK(over.previous.core == 1);
  CHECK(over.previous.exposure == 11);
  // The stale session ends later: its release must not free the port the new one holds.
  registry.release(TransportProtocol::tcp, 443, 11);
  CHECK(registry.size() == 1);
  CHECK(registry.claim(TransportProtocol::tcp, 443, {key_of(2), 0, 31}).outcome ==
        Outcome::claimed);
  // The holder's own release frees it for anyone.
  registry.release(TransportProtocol::tcp, 443, 12);
  CHECK(registry.size() == 0);
  CHECK(registry.claim(TransportProtocol::tcp, 443, {key_of(2), 0, 31}).outcome ==
        Outcome::granted);
}

TEST_CASE("releasing a port nobody holds changes nothing", "[server][exposure]") {
  ExposureRegistry registry;
  registry.release(TransportProtocol::udp, 53, 7);
  CHECK(registry.size() == 0);
}
