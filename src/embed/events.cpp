// SPDX-License-Identifier: MIT
// EventScope: log lines to the embedder's handler; the shared builder checks.
#include "embed/events.hpp"

#include "config/token_input.hpp"
#include "observe/log.hpp"

namespace ringtunnel::embed {
namespace {

// The two level lists are the same five, in the same order: the mapping is a cast.
constexpr bool same(Event::Level a, observe::LogLevel b) {
  return static_cast<int>(a) == static_cast<int>(b);
}
static_assert(same(Event::Level::trace, observe::LogLevel::trace) &&
              same(Event::Level::debug, observe::LogLevel::debug) &&
              same(Event::Level::info, observe::LogLevel::info) &&
              same(Event::Level::warn, observe::LogLevel::warn) &&
              same(Event::Level::error, observe::LogLevel::error));

Event::Level to_event_level(observe::LogLevel level) {
  return static_cast<Event::Level>(static_cast<int>(level));  // never `off`: no line has it
}

observe::LogLevel to_log_level(Event::Level level) {
  return static_cast<observe::LogLevel>(static_cast<int>(level));
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
                            "': the embedding API offers only the native transport so far (the "
                            "CLI has --transport tls)");
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
