// SPDX-License-Identifier: MIT
// How a log line looks: text (optionally coloured) or one JSON object, and the fields a line
// may carry besides its message. Internal to src/observe (spdlog types).
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

#include "observe/log.hpp"

namespace ringtunnel::observe::detail {

inline constexpr std::string_view kLevelNames[] = {"trace", "debug", "info",
                                                   "warn",  "error", "off"};

// Our levels trace..error have spdlog's numbers (trace=0 .. err=4), so the mapping is a cast.
inline spdlog::level::level_enum to_spdlog(LogLevel level) {
  return static_cast<spdlog::level::level_enum>(static_cast<int>(level));
}

/// `2026-12-01 18:11:15.123 info  server: message`, local time; `color` paints the level
/// (ANSI: debug dim, warn yellow, error red), for a terminal.
std::unique_ptr<spdlog::formatter> text_formatter(std::string_view component, bool color);

/// `{"ts":"2026-12-01T18:11:15.123Z","level":"info","component":"server","msg":"...",
/// "session":"...",...}`: UTC, any bytes escaped (a line always parses).
std::unique_ptr<spdlog::formatter> json_formatter(std::string_view component);

/// A JSON string literal for any bytes (control characters escaped, bad UTF-8 replaced).
std::string json_string(std::string_view text);

/// Payloads that carry fields start with kFieldsMark, then the fields as JSON members
/// (`"session":"..","tunnel":".."`), kFieldsMark again, then the message. A plain message that
/// starts with the mark (peer text) has it replaced before it is queued.
inline constexpr char kFieldsMark = '\x1e';

/// A payload split into its fields (JSON members, maybe empty) and its message.
struct PayloadParts {
  std::string_view fields;
  std::string_view message;
};
PayloadParts split_payload(std::string_view payload);

}  // namespace ringtunnel::observe::detail
