// SPDX-License-Identifier: MIT
// RequestLog: a fixed ring, oldest first, the oldest overwritten.
#include "server/request_log.hpp"

#include <catch2/catch.hpp>

using ringtunnel::server::RequestLog;
using ringtunnel::server::RequestRecord;

namespace {

RequestRecord record(int status) {
  RequestRecord r;
  r.status = status;
  r.method = "GET";
  return r;
}

}  // namespace

TEST_CASE("the request log keeps the last records, oldest first", "[server][request_log]") {
  RequestLog log(3);
  CHECK(log.snapshot().empty());
  log.push(record(200));
  log.push(record(201));
  REQUIRE(log.snapshot().size() == 2);
  CHECK(log.snapshot()[0].status == 200);
  CHECK(log.snapshot()[1].status == 201);
  for (int status = 202; status < 210; ++status) log.push(record(status));
  const auto held = log.snapshot();
  REQUIRE(held.size() == 3);  // memory stays fixed however many pass
  CHECK(held[0].status == 207);
  CHECK(held[1].status == 208);
  CHECK(held[2].status == 209);
  CHECK(log.total() == 10);
  CHECK(log.capacity() == 3);
}
