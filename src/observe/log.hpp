// SPDX-License-Identifier: MIT
// Logging for the whole program: levels, text or JSON lines, stderr or a file (spdlog inside).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <functional>

#include <string>
#include <string_view>
#include <utility>

namespace ringtunnel::observe {

// The only interface the rest of the tree uses for logging. spdlog is included only in
// log.cpp, so no other file depends on it. Every function may be called from any thread and
// none throws. Between init_logging and shutdown_logging no log call blocks a reactor on I/O:
// lines go to a bounded queue (8192 lines) drained by one background thread, "rt-log". Before
// init and after shutdown, lines are written to stderr as text, synchronously.

enum class LogLevel : int { trace = 0, debug = 1, info = 2, warn = 3, error = 4, off = 5 };

struct LogOptions {
  LogLevel level = LogLevel::info;
  bool json = false;       ///< one JSON object per line instead of text
  std::string file;        ///< append to this file (created 0600); empty: stderr
  std::string component;   ///< "server", "client": a field of every line
  bool color = false;      ///< text on stderr only: paint the levels (for a terminal)
};

/// What a line is about, besides its message: JSON lines carry these as fields (`session`,
/// `client`, `tunnel`, `stream`) so a log pipeline can filter on them; text lines show only the
/// message, which names them already. Empty (0) members are left out.
struct LogFields {
  std::string_view session;  ///< the session's log name
  std::string_view client;   ///< the client key's fingerprint
  std::string_view tunnel;   ///< the tunnel's name (its -L text)
  std::uint32_t stream = 0;  ///< the stream id within the session
};

/// Sets up the process logger. Call on the main thread, before the engine starts.
/// Returns false with one sentence in `*error` (naming the file and why) when the log file
/// cannot be opened; the previous logging setup then stays in force. Before it is called, lines
/// at info and above go to stderr as text. A second call replaces the first setup (draining it);
/// init after shutdown starts logging again. A file that does not exist is created with mode
/// 0600; an existing one is appended to and keeps its mode.
bool init_logging(const LogOptions& options, std::string* error);

/// Writes every queued line, stops the background writer and, if lines were dropped, writes one
/// last line saying how many. Safe to call twice; later log calls go to stderr synchronously at
/// the level last configured. Also run by atexit once init_logging has succeeded.
void shutdown_logging() noexcept;

/// True when a line at `level` would be written (cheap: one relaxed atomic load).
bool log_enabled(LogLevel level) noexcept;

/// Writes one line. Never throws; if the queue is full the oldest line is dropped and counted.
void log_message(LogLevel level, std::string_view message) noexcept;

/// Writes one line with `fields` (see LogFields). Never throws.
void log_message(LogLevel level, const LogFields& fields, std::string_view message) noexcept;

/// Opens the log file again by its name (after logrotate moved it away): later lines go to the
/// new file. True when there is no log file. Blocking file I/O: not on a reactor. False, with
/// one sentence in `*error`, when it cannot be opened; lines then still go to the old file.
bool reopen_log_file(std::string* error);

/// For embedders: every line written from now on also goes to `sink`, with its level and its
/// message (fields left out), on the thread that logs it (a reactor: keep it short, never
/// block), until remove_line_sink. Returns the id to remove it with. Thread-safe.
using LineSink = std::function<void(LogLevel level, std::string_view message)>;
std::uint64_t add_line_sink(LineSink sink);
void remove_line_sink(std::uint64_t id) noexcept;

/// Whether lines go to stderr while no logger is set up (before init_logging); on by default.
/// A library whose embedder did not ask for log output turns it off.
void set_stderr_fallback(bool on) noexcept;
/// The least severe level written (init_logging sets it too).
void set_log_level(LogLevel level) noexcept;

/// Lines dropped (oldest first) because the queue was full, since the last init_logging; after
/// shutdown, the final count of that session. Reported once at shutdown.
unsigned long long log_dropped() noexcept;

/// "trace", "debug", "info", "warn", "error" or "off" (exactly) into `*out`; false, leaving
/// `*out` untouched, for anything else.
bool parse_log_level(std::string_view name, LogLevel* out) noexcept;

template <typename... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (!log_enabled(level)) return;
  try {
    log_message(level, fmt::format(format, std::forward<Args>(args)...));
  } catch (...) {
    log_message(level, "(log line could not be formatted)");
  }
}

template <typename... Args>
void log_with(LogLevel level, const LogFields& fields, fmt::format_string<Args...> format,
              Args&&... args) {
  if (!log_enabled(level)) return;
  try {
    log_message(level, fields, fmt::format(format, std::forward<Args>(args)...));
  } catch (...) {
    log_message(level, fields, "(log line could not be formatted)");
  }
}

template <typename... Args>
void log_trace(fmt::format_string<Args...> format, Args&&... args) {
  log(LogLevel::trace, format, std::forward<Args>(args)...);
}
template <typename... Args>
void log_debug(fmt::format_string<Args...> format, Args&&... args) {
  log(LogLevel::debug, format, std::forward<Args>(args)...);
}
template <typename... Args>
void log_info(fmt::format_string<Args...> format, Args&&... args) {
  log(LogLevel::info, format, std::forward<Args>(args)...);
}
template <typename... Args>
void log_warn(fmt::format_string<Args...> format, Args&&... args) {
  log(LogLevel::warn, format, std::forward<Args>(args)...);
}
template <typename... Args>
void log_error(fmt::format_string<Args...> format, Args&&... args) {
  log(LogLevel::error, format, std::forward<Args>(args)...);
}

}  // namespace ringtunnel::observe
