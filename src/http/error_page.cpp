// SPDX-License-Identifier: MIT
// error_response: status line, fixed headers, an escaped page.
#include "http/error_page.hpp"

#include <cstdint>

namespace ringtunnel::http {
namespace {

void append_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : text) {
    const auto byte = static_cast<std::uint8_t>(c);
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (byte < 0x20 || byte >= 0x7f) {
          out += "&#x";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xf];
          out += ';';
        } else {
          out += c;
        }
    }
  }
}

}  // namespace

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 421:
      return "Misdirected Request";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

std::string error_response(int status, std::string_view detail) {
  const std::string code = std::to_string(status);
  const std::string_view phrase = reason_phrase(status);
  std::string body = "<!doctype html>\n<html><head><title>" + code + " " + std::string(phrase) +
                     "</title></head>\n<body><h1>" + code + " " + std::string(phrase) +
                     "</h1>\n<p>";
  append_escaped(body, detail);
  body += "</p>\n</body></html>\n";
  std::string response = "HTTP/1.1 " + code + " " + std::string(phrase) +
                         "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " +
                         std::to_string(body.size()) +
                         "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff"
                         "\r\nConnection: close\r\n\r\n";
  return response + body;
}

}  // namespace ringtunnel::http
