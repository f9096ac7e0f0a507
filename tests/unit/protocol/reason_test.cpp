// SPDX-License-Identifier: MIT
// Reason codes: names, the error category, comparison of detailed errors with reasons.
#include "protocol/reason.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "protocol/problem.hpp"

using namespace ringtunnel::protocol;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;

TEST_CASE("every reason code of section 5 has its number and name", "[protocol][reason]") {
  const std::pair<Reason, const char*> table[] = {
      {Reason::ok, "ok"},
      {Reason::protocol_error, "protocol_error"},
      {Reason::handshake_malformed, "handshake_malformed"},
      {Reason::handshake_timeout, "handshake_timeout"},
      {Reason::version_unsupported, "version_unsupported"},
      {Reason::aead_unsupported, "aead_unsupported"},
      {Reason::decrypt_failed, "decrypt_failed"},
      {Reason::bad_signature, "bad_signature"},
      {Reason::unknown_key, "unknown_key"},
      {Reason::bad_token, "bad_token"},
      {Reason::identity_changed, "identity_changed"},
      {Reason::internal_error, "internal_error"},
      {Reason::idle_timeout, "idle_timeout"},
      {Reason::port_not_allowed, "port_not_allowed"},
      {Reason::host_not_allowed, "host_not_allowed"},
      {Reason::connect_refused, "connect_refused"},
      {Reason::connect_failed, "connect_failed"},
      {Reason::too_many_streams, "too_many_streams"},
      {Reason::server_full, "server_full"},
      {Reason::going_away, "going_away"},
      {Reason::flow_control, "flow_control"},
      {Reason::frame_too_large, "frame_too_large"},
      {Reason::server_busy, "server_busy"},
      {Reason::rate_limited, "rate_limited"},
      {Reason::stream_reset, "stream_reset"},
      {Reason::shutting_down, "shutting_down"},
      {Reason::certificate_rejected, "certificate_rejected"},
      {Reason::tls_failed, "tls_failed"},
      {Reason::port_in_use, "port_in_use"},
      {Reason::port_claimed, "port_claimed"},
      {Reason::name_claimed, "name_claimed"},
      {Reason::name_reserved, "name_reserved"},
      {Reason::no_ingress, "no_ingress"},
  };
  const int codes[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 16, 17, 18, 19,
                       20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35};
  static_assert(std::size(table) == std::size(codes));
  for (std::size_t i = 0; i < std::size(table); ++i) {
    CHECK(static_cast<int>(table[i].first) == codes[i]);
    CHECK_THAT(to_string(table[i].first), Equals(table[i].second));
    CHECK(is_known(table[i].first));
  }
  for (int unassigned : {13, 14, 15, 36, 255, 65535}) {
    CHECK_THAT(to_string(static_cast<Reason>(unassigned)), Equals("unknown"));
    CHECK_FALSE(is_known(static_cast<Reason>(unassigned)));
  }
}

TEST_CASE("a Reason converts to an error_code of the protocol category", "[protocol][reason]") {
  const std::error_code ec = Reason::decrypt_failed;
  CHECK(ec.category() == protocol_category());
  CHECK_THAT(std::string(ec.category().name()), Equals("ringtunnel.protocol"));
  CHECK(ec.value() == 6);
  CHECK_THAT(ec.message(), Equals("decrypt_failed"));
  CHECK(ec == Reason::decrypt_failed);
  CHECK(ec != Reason::protocol_error);
  CHECK(reason_of(ec) == Reason::decrypt_failed);
  CHECK_FALSE(make_error_code(Reason::ok));
  CHECK_THAT(make_error_code(static_cast<Reason>(99)).message(), Equals("unknown reason 99"));
}

TEST_CASE("detailed errors compare equal to the reason they carry", "[protocol][reason]") {
  const std::error_code ec = make_error(Problem::frame_type_unknown, 42);
  CHECK(ec);
  CHECK(ec == Reason::protocol_error);
  CHECK(Reason::protocol_error == ec);
  CHECK(ec != Reason::frame_too_large);
  CHECK(reason_of(ec) == Reason::protocol_error);
  CHECK_THAT(ec.message(), Equals("frame type 42 is unknown (protocol_error)"));
  // Exact error_code comparison stays exact.
  CHECK(ec != make_error_code(Reason::protocol_error));
}

TEST_CASE("foreign and empty error codes map to internal_error and ok", "[protocol][reason]") {
  const std::error_code foreign = std::make_error_code(std::errc::connection_reset);
  CHECK(reason_of(foreign) == Reason::internal_error);
  CHECK(foreign != Reason::internal_error);
  CHECK(reason_of(std::error_code{}) == Reason::ok);
  CHECK(std::error_code{} == Reason::ok);
}

TEST_CASE("detailed messages name the field, the number and the rule", "[protocol][reason]") {
  CHECK_THAT(make_error(Problem::too_long, Field::open_host, 300).message(),
             Equals("OPEN host is 300 bytes; the limit is 255 (protocol_error)"));
  CHECK_THAT(make_error(Problem::bad_value, Field::client_hello_aead_count, 9).message(),
             Equals("ClientHello aead_count is 9; it must be 1..8 (handshake_malformed)"));
  CHECK_THAT(make_error(Problem::truncated, Field::client_hello_aeads).message(),
             Equals("ClientHello is truncated in aeads (handshake_malformed)"));
  CHECK_THAT(make_error(Problem::trailing_bytes, Field::ping, 1).message(),
             Equals("PING has 1 trailing byte (protocol_error)"));
  CHECK_THAT(make_error(Problem::over_window, Field::window_increment).message(),
             Equals("WINDOW increment exceeds 2147483647, the largest window (flow_control)"));
  CHECK_THAT(make_error(Problem::session_frame_on_stream, 8).message(),
             Contains("session frame PING (type 8)"));
  // Numbers too large for the packed code say so instead of lying.
  CHECK_THAT(make_error(Problem::record_too_long, 4294967295U).message(),
             Equals("record length is more than 16777214; the limit is 66576 (frame_too_large)"));
  CHECK_THAT(make_error(Problem::too_long, Field::open_host, 1U << 20).message(),
             Contains("is more than 262142 bytes"));
}

TEST_CASE("error values that no encoder makes still print", "[protocol][reason]") {
  const std::error_code garbage(-1, protocol_category());
  CHECK(reason_of(garbage) == Reason::internal_error);
  CHECK_FALSE(garbage.message().empty());
  const std::error_code bad_field(static_cast<int>(1U << 24 | 63U << 18), protocol_category());
  CHECK_THAT(bad_field.message(), Contains("unknown field"));
}
