// SPDX-License-Identifier: MIT
// EventScope: log lines to the embedder's handler; the shared builder checks.
#include "embed/events.hpp"

#include "config/token_input.hpp"
#include "observe/log.hpp"

namespace ringtunnel::embed {
namespace {

Event::Level to_event_level(observe::LogLevel level) {
  switch (level) {
    case observe::LogLevel::trace:
      return Event::Level::trace;
    case observe::LogLevel::debug:
      return Event::Level::debug;
    case observe::LogLevel::info:
      return Event::Level::info;
    case observe::LogLevel::warn:
      return Event::Level::warn;
    default:
      return Event::Level::error;
  }
}

observe::LogLevel to_log_level(Event::Level level) {
  switch (level) {
    case Event::Level::trace:
      return observe::LogLevel::trace;
    case Event::Level::debug:
      return observe::LogLevel::debug;
    case Event::Level::info:
      return observe::LogLevel::info;
    case Event::Level::warn:
      return observe::LogLevel::warn;
    case Event::Level::error:
      return observe::LogLevel::error;
  }
  return observe::LogLevel::info;
}

}  // namespace

void EventScope::begin(const EmbedCommon& common) {
  observe::set_stderr_fallback(common.log_to_stderr);
  observe::set_log_level(to_log_level(common.log_level));
  handler_ = common.on_event;
  if (handler_ && sink_ == 0) {
    sink_ = observe::add_line_sink(
        [handler = handler_](observe::LogLevel level, std::string_view text) {
          handler(Event{Event::Kind::log, to_event_level(level), std::string(text)});
        });
  }
}

void EventScope::end() {
  if (sink_ != 0) observe::remove_line_sink(std::exchange(sink_, 0));
}

void EventScope::emit(Event::Kind kind, const std::string& message) const {
  if (handler_) handler_(Event{kind, Event::Level::info, message});
}

Outcome check_common(const EmbedCommon& common, std::optional<std::string>* token) {
  if (common.transport != "native") {
    return Outcome::failure("transport '" + common.transport +
                            "': this version has only the native transport");
  }
  if (!valid_backend_name(common.engine.backend)) {
    return Outcome::failure("io backend '" + common.engine.backend +
                            "': expected auto, io_uring or epoll");
  }
  if (!*token && common.token_file) {
    std::vector<std::string> warnings;
    std::string error;
    if (!config::resolve_token(std::nullopt, common.token_file, token, &warnings, &error)) {
      return Outcome::failure(error);
    }
    for (const std::string& warning : warnings) observe::log_warn("{}", warning);
  }
  return {};
}

}  // namespace ringtunnel::embed
