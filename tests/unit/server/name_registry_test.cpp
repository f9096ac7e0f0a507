// SPDX-License-Identifier: MIT
// NameRegistry: reservations, first claim wins, the same key takes over, HTTP and TLS apart.
#include "server/name_registry.hpp"

#include <catch2/catch.hpp>

using ringtunnel::IngressKind;
using ringtunnel::crypto::PublicKey;
using ringtunnel::server::ExposureHolder;
using ringtunnel::server::NameRegistry;
using Outcome = NameRegistry::Outcome;

namespace {

PublicKey key_of(unsigned char fill) {
  PublicKey key{};
  key.fill(static_cast<std::byte>(fill));
  return key;
}

const std::string kAliceFp = "SHA256:" + std::string(43, 'A');
const std::string kBobFp = "SHA256:" + std::string(43, 'B');

}  // namespace

TEST_CASE("a free name goes to the first key; another key is refused", "[server][names]") {
  NameRegistry names;
  const ExposureHolder alice{key_of(1), 0, 11};
  const ExposureHolder bob{key_of(2), 1, 21};
  CHECK(names.claim(IngressKind::http, "app", alice, kAliceFp).outcome == Outcome::granted);
  const auto refused = names.claim(IngressKind::http, "app", bob, kBobFp);
  CHECK(refused.outcome == Outcome::claimed);
  CHECK(refused.previous.exposure == 11);
  REQUIRE(names.find(IngressKind::http, "app").has_value());
  CHECK(names.find(IngressKind::http, "app")->exposure == 11);
  CHECK_FALSE(names.find(IngressKind::http, "other").has_value());
  // HTTP and TLS names are apart: the same name on the TLS ingress is free.
  CHECK_FALSE(names.find(IngressKind::tls, "app").has_value());
  CHECK(names.claim(IngressKind::tls, "app", bob, kBobFp).outcome == Outcome::granted);
  CHECK(names.size() == 2);
}

TEST_CASE("the same key takes its name over; the old holder's release is ignored",
          "[server][names]") {
  NameRegistry names;
  const ExposureHolder stale{key_of(1), 1, 11};
  const ExposureHolder fresh{key_of(1), 0, 12};
  REQUIRE(names.claim(IngressKind::http, "app", stale, kAliceFp).outcome == Outcome::granted);
  const auto taken = names.claim(IngressKind::http, "app", fresh, kAliceFp);
  CHECK(taken.outcome == Outcome::taken_over);
  CHECK(taken.previous.exposure == 11);
  CHECK(taken.previous.core == 1);
  names.release(IngressKind::http, "app", 11);  // the stale session ends later
  REQUIRE(names.find(IngressKind::http, "app").has_value());
  CHECK(names.find(IngressKind::http, "app")->exposure == 12);
  names.release(IngressKind::http, "app", 12);
  CHECK_FALSE(names.find(IngressKind::http, "app").has_value());
  CHECK(names.size() == 0);
}

TEST_CASE("a reserved name goes only to its key, even while free", "[server][names]") {
  NameRegistry names({{"app", kAliceFp}});
  const ExposureHolder alice{key_of(1), 0, 11};
  const ExposureHolder bob{key_of(2), 0, 21};
  CHECK(names.claim(IngressKind::http, "app", bob, kBobFp).outcome == Outcome::reserved);
  CHECK(names.claim(IngressKind::tls, "app", bob, kBobFp).outcome == Outcome::reserved);
  CHECK(names.size() == 0);
  CHECK(names.claim(IngressKind::http, "app", alice, kAliceFp).outcome == Outcome::granted);
  // Other names are first come, first served.
  CHECK(names.claim(IngressKind::http, "web", bob, kBobFp).outcome == Outcome::granted);
}
