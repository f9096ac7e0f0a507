// SPDX-License-Identifier: MIT
// Backoff: 1, 2, 4 ... 30 s, each within ±10 %, and back to 1 s after reset.
#include "client/backoff.hpp"

#include <catch2/catch.hpp>
#include <set>

using ringtunnel::client::Backoff;
using namespace std::chrono_literals;

namespace {
bool within_ten_percent(Backoff::Duration got, Backoff::Duration base) {
  return got >= base * 9 / 10 && got <= base * 11 / 10;
}
}  // namespace

TEST_CASE("backoff doubles from 1 s to a 30 s cap, with ±10 % jitter", "[client][backoff]") {
  Backoff backoff(1s, 30s, 42);
  const Backoff::Duration expected[] = {1s, 2s, 4s, 8s, 16s, 30s, 30s, 30s};
  for (const auto base : expected) {
    const auto got = backoff.next();
    INFO("base " << base.count() << " ms, got " << got.count() << " ms");
    CHECK(within_ten_percent(got, base));
  }
  backoff.reset();
  CHECK(within_ten_percent(backoff.next(), 1s));
  CHECK(within_ten_percent(backoff.next(), 2s));
}

TEST_CASE("backoff jitter differs between clients", "[client][backoff]") {
  std::set<Backoff::Duration::rep> firsts;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) firsts.insert(Backoff(1s, 30s, seed).next().count());
  CHECK(firsts.size() > 10);  // 20 clients do not all come back in the same millisecond
}

TEST_CASE("backoff survives a very long outage without overflow", "[client][backoff]") {
  Backoff backoff(1s, 30s, 7);
  for (int i = 0; i < 10'000; ++i) (void)backoff.next();
  CHECK(within_ten_percent(backoff.next(), 30s));
}
