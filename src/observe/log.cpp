// SPDX-License-Identifier: MIT
// Logging: a minimal stand-in writing text lines to stderr (the spdlog version replaces it).
#include "observe/log.hpp"

#include <atomic>
#include <cstdio>

namespace ringtunnel::observe {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::info)};
const char* level_name(LogLevel level) {
  static const char* const names[] = {"trace", "debug", "info", "warn", "error", "off"};
  return names[static_cast<int>(level)];
}
}  // namespace

bool init_logging(const LogOptions& options, std::string* /*error*/) {
  g_level.store(static_cast<int>(options.level), std::memory_order_relaxed);
  return true;
}
void shutdown_logging() noexcept { std::fflush(stderr); }
bool log_enabled(LogLevel level) noexcept {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed) &&
         level != LogLevel::off;
}
void log_message(LogLevel level, std::string_view message) noexcept {
  std::fprintf(stderr, "[%s] %.*s\n", level_name(level), static_cast<int>(message.size()),
               message.data());
}
unsigned long long log_dropped() noexcept { return 0; }
bool parse_log_level(std::string_view name, LogLevel* out) noexcept {
  static const char* const names[] = {"trace", "debug", "info", "warn", "error", "off"};
  for (int i = 0; i < 6; ++i) {
    if (name == names[i]) {
      *out = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}
}  // namespace ringtunnel::observe
