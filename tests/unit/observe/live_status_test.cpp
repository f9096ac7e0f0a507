// SPDX-License-Identifier: MIT
// LiveStatus JSON: what a running process writes is what `status` reads; anything else from the
// socket is refused with a reason, never half-read.
#include "observe/live_status.hpp"

#include <catch2/catch.hpp>

using ringtunnel::observe::live_status_from_json;
using ringtunnel::observe::LiveSession;
using ringtunnel::observe::LiveStatus;
using ringtunnel::observe::to_json;

TEST_CASE("a live status survives the trip through JSON", "[observe][status]") {
  LiveStatus status;
  status.role = "server";
  status.pid = 4242;
  status.version = "0.1.0";
  status.uptime_seconds = 12.5;
  status.address = "[::1]:9000";
  status.state = "draining";
  status.tunnels = {"localhost:15432:localhost:5432 listening on 127.0.0.1:15432"};
  status.sessions.push_back(
      LiveSession{"client SHA256:abc (vm) \"quoted\"\n", 1, 3.0, 0.25, 2, 100, 200});
  status.sessions.push_back(LiveSession{"second", 0, 1.0, std::nullopt, 0, 0, 0});
  status.sessions_total = 7;
  status.streams_total = 9;
  status.bytes_in = 1ull << 40;
  status.bytes_out = 5;
  status.complete = false;
  const std::string text = to_json(status);
  CHECK(text.find('\n') == std::string::npos);  // one line: the socket's framing
  std::string error;
  auto back = live_status_from_json(text, &error);
  REQUIRE(back);
  CHECK(back->role == "server");
  CHECK(back->pid == 4242);
  CHECK(back->address == "[::1]:9000");
  CHECK(back->state == "draining");
  CHECK(back->tunnels == status.tunnels);
  REQUIRE(back->sessions.size() == 2);
  CHECK(back->sessions[0].name == status.sessions[0].name);
  CHECK(back->sessions[0].rtt_ms == 0.25);
  CHECK_FALSE(back->sessions[1].rtt_ms);
  CHECK(back->bytes_in == (1ull << 40));
  CHECK_FALSE(back->complete);
}

TEST_CASE("a status answer of the wrong shape is refused with a reason", "[observe][status]") {
  std::string error;
  CHECK_FALSE(live_status_from_json("not json", &error));
  CHECK(error == "not a JSON object");
  CHECK_FALSE(live_status_from_json("[1,2]", &error));
  CHECK_FALSE(live_status_from_json(R"({"pid":"many"})", &error));
  CHECK(error == "field 'pid' has the wrong type");
  CHECK_FALSE(live_status_from_json(R"({"sessions":{}})", &error));
  CHECK(error == "field 'sessions' is not a list");
  CHECK_FALSE(live_status_from_json(R"({"sessions":[{"bytes_in":-1}]})", &error));
  CHECK(error == "field 'bytes_in' has the wrong type");
  CHECK_FALSE(live_status_from_json(R"({"sessions":[7]})", &error));
  CHECK(error == "a session is not an object");
  // Unknown fields (a newer process) are ignored; missing ones keep their defaults.
  auto minimal = live_status_from_json(R"({"role":"client","extra":{"x":1}})", &error);
  REQUIRE(minimal);
  CHECK(minimal->role == "client");
  CHECK(minimal->sessions.empty());
}
