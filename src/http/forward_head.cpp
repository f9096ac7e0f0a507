// SPDX-License-Identifier: MIT
// append_forwarded_request / append_forwarded_response.
#include "http/forward_head.hpp"

#include <string_view>
#include <vector>

#include "http/head_rules.hpp"

namespace ringtunnel::http {
namespace {

// The options of every Connection field, lower-case ("close", "x-secret").
std::vector<std::string> connection_options(const std::vector<HeaderField>& fields) {
  std::vector<std::string> options;
  for (const HeaderField& field : fields) {
    if (!equals_ignoring_case(field.name, "connection")) continue;
    std::string_view rest = field.value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string option(trim_whitespace(rest.substr(0, comma)));
      for (char& c : option) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      if (!option.empty()) options.push_back(std::move(option));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  return options;
}

bool is_hop_by_hop(std::string_view name, const std::vector<std::string>& options, bool upgrade) {
  for (std::string_view fixed : {"connection", "keep-alive", "proxy-connection", "te"}) {
    if (equals_ignoring_case(name, fixed)) return true;
  }
  if (equals_ignoring_case(name, "upgrade")) return !upgrade;
  // The fields that frame and route the message are never dropped because Connection names
  // them: "Connection: content-length" would otherwise strip the length the ingress used, and
  // the service would read the body as a request of its own (smuggled past the checks).
  for (std::string_view framing : {"host", "content-length", "transfer-encoding"}) {
    if (equals_ignoring_case(name, framing)) return false;
  }
  for (const std::string& option : options) {
    if (equals_ignoring_case(name, option)) {
      // "Connection: upgrade" names Upgrade, which an upgrade keeps.
      return !(upgrade && option == "upgrade");
    }
  }
  return false;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

void append_forwarded_request(const RequestHead& head, const ForwardedFor& forwarded,
                              std::string& out) {
  const bool upgrade = head.upgrade.has_value();
  const auto options = connection_options(head.fields);
  out.append(head.method);
  out.push_back(' ');
  out.append(head.target);
  out.append(head.version == HttpVersion::http_1_0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  for (const HeaderField& field : head.fields) {
    if (is_hop_by_hop(field.name, options, upgrade)) continue;
    if (equals_ignoring_case(field.name, "x-forwarded-for") ||
        equals_ignoring_case(field.name, "x-forwarded-proto") ||
        equals_ignoring_case(field.name, "x-forwarded-host") ||
        equals_ignoring_case(field.name, "forwarded")) {
      continue;
    }
    append_field(out, field.name, field.value);
  }
  append_field(out, "X-Forwarded-For", forwarded.visitor_ip);
  append_field(out, "X-Forwarded-Proto", forwarded.proto);
  append_field(out, "X-Forwarded-Host", forwarded.host);
  if (upgrade) {
    append_field(out, "Connection", "upgrade");
  } else if (head.keep_alive == KeepAlive::no) {
    append_field(out, "Connection", "close");
  } else if (head.version == HttpVersion::http_1_0) {
    append_field(out, "Connection", "keep-alive");
  }
  out.append("\r\n");
}

void append_forwarded_response(const ResponseHead& head, bool close, std::string& out) {
  const bool switching = head.status == 101;
  const auto options = connection_options(head.fields);
  out.append(head.version == HttpVersion::http_1_0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.append(std::to_string(head.status));
  out.push_back(' ');
  out.append(head.reason);
  out.append("\r\n");
  for (const HeaderField& field : head.fields) {
    if (is_hop_by_hop(field.name, options, switching)) continue;
    append_field(out, field.name, field.value);
  }
  if (switching) {
    append_field(out, "Connection", "upgrade");
  } else if (close) {
    append_field(out, "Connection", "close");
  }
  out.append("\r\n");
}

}  // namespace ringtunnel::http
