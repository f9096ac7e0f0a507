// SPDX-License-Identifier: MIT
// error_response: a complete response with an escaped detail.
#include "http/error_page.hpp"

#include <catch2/catch.hpp>
#include <string>

using ringtunnel::http::error_response;
using ringtunnel::http::reason_phrase;

TEST_CASE("error pages are complete responses with escaped details", "[error_page]") {
  const std::string page = error_response(502, "<script>alert('x')</script> & \x01");
  CHECK(page.starts_with("HTTP/1.1 502 Bad Gateway\r\n"));
  CHECK(page.find("Connection: close\r\n") != std::string::npos);
  CHECK(page.find("Cache-Control: no-store\r\n") != std::string::npos);
  CHECK(page.find("<script>") == std::string::npos);
  CHECK(page.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#x01;") !=
        std::string::npos);
  const auto split = page.find("\r\n\r\n");
  REQUIRE(split != std::string::npos);
  const std::string body = page.substr(split + 4);
  CHECK(page.find("Content-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
  CHECK(reason_phrase(404) == "Not Found");
  CHECK(reason_phrase(421) == "Misdirected Request");
  CHECK(reason_phrase(431) == "Request Header Fields Too Large");
  CHECK(reason_phrase(504) == "Gateway Timeout");
  CHECK(reason_phrase(299) == "Error");
}
