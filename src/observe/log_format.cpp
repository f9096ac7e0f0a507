// SPDX-License-Identifier: MIT
// The text and JSON line formats, and the fields a payload may carry ahead of its message.
#include "observe/log_format.hpp"

#include <spdlog/pattern_formatter.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

namespace ringtunnel::observe::detail {
namespace {

std::string_view level_name(spdlog::level::level_enum level) {
  const int index = static_cast<int>(level);
  return kLevelNames[index < 0 ? 0 : index > 4 ? 4 : index];  // spdlog's critical: "error"
}

PayloadParts split(const spdlog::details::log_msg& msg) {
  return split_payload({msg.payload.data(), msg.payload.size()});
}

// spdlog's %l spells "warning"; ours is "warn", padded to five so the messages line up.
class PaddedLevelFlag final : public spdlog::custom_flag_formatter {
 public:
  explicit PaddedLevelFlag(bool color) : color_(color) {}
  void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/,
              spdlog::memory_buf_t& dest) override {
    const std::string_view name = level_name(msg.level);
    const std::string_view paint = !color_                             ? ""
                                   : msg.level >= spdlog::level::err   ? "\x1b[31m"
                                   : msg.level == spdlog::level::warn  ? "\x1b[33m"
                                   : msg.level <= spdlog::level::debug ? "\x1b[2m"
                                                                       : "";
    dest.append(paint.data(), paint.data() + paint.size());
    dest.append(name.data(), name.data() + name.size());
    if (!paint.empty()) {
      constexpr std::string_view reset = "\x1b[0m";
      dest.append(reset.data(), reset.data() + reset.size());
    }
    for (std::size_t i = name.size(); i < 5; ++i) dest.push_back(' ');
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<PaddedLevelFlag>(color_);
  }

 private:
  bool color_;
};

// The message without the fields (text lines name the session in the message already), made
// safe for a terminal and a line-based reader: a peer's text (a client name, a tunnel name)
// cannot carry an escape sequence or forge a line. Control bytes but the tab become '?', and a
// line break is followed by at least two spaces of indentation, so a continuation line never
// looks like a log line of its own.
class MessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/,
              spdlog::memory_buf_t& dest) override {
    const std::string_view message = split(msg).message;
    for (std::size_t i = 0; i < message.size(); ++i) {
      const auto byte = static_cast<unsigned char>(message[i]);
      if (byte == '\n') {
        dest.push_back('\n');
        if (i + 1 >= message.size() || message[i + 1] != ' ') {
          dest.push_back(' ');
          dest.push_back(' ');
        }
      } else if ((byte < 0x20 && byte != '\t') || byte == 0x7f) {
        dest.push_back('?');
      } else {
        dest.push_back(static_cast<char>(byte));
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<MessageFlag>();
  }
};

class JsonFormatter final : public spdlog::formatter {
 public:
  explicit JsonFormatter(std::string_view component)
      : component_(component.empty() ? "" : ",\"component\":" + json_string(component)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    using namespace std::chrono;
    const auto since_epoch = msg.time.time_since_epoch();
    const auto whole = duration_cast<seconds>(since_epoch);
    const std::time_t time = static_cast<std::time_t>(whole.count());
    std::tm utc{};
    gmtime_r(&time, &utc);
    const PayloadParts parts = split(msg);
    fmt::format_to(fmt::appender(dest),
                   "{{\"ts\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z\",\"level\":\"{}\"{},"
                   "\"msg\":{}{}{}}}\n",
                   utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                   utc.tm_sec, duration_cast<milliseconds>(since_epoch - whole).count(),
                   level_name(msg.level), component_, json_string(parts.message),
                   parts.fields.empty() ? "" : ",", parts.fields);
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>(*this);
  }

 private:
  std::string component_;  // `,"component":"server"`, or empty to omit the field
};

}  // namespace

PayloadParts split_payload(std::string_view payload) {
  if (payload.empty() || payload.front() != kFieldsMark) return {{}, payload};
  const auto end = payload.find(kFieldsMark, 1);
  if (end == std::string_view::npos) return {{}, payload};
  return {payload.substr(1, end - 1), payload.substr(end + 1)};
}

std::string json_string(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::unique_ptr<spdlog::formatter> text_formatter(std::string_view component, bool color) {
  std::string pattern = "%Y-%m-%d %H:%M:%S.%e %* ";
  for (const char c : component) {
    if (c == '%') pattern += '%';  // the component is data, not pattern flags
    pattern += c;
  }
  if (!component.empty()) pattern += ": ";
  pattern += "%&";
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<PaddedLevelFlag>('*', color)
      .add_flag<MessageFlag>('&')
      .set_pattern(std::move(pattern));
  return formatter;
}

std::unique_ptr<spdlog::formatter> json_formatter(std::string_view component) {
  return std::make_unique<JsonFormatter>(component);
}

}  // namespace ringtunnel::observe::detail
