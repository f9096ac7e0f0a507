// SPDX-License-Identifier: MIT
// EventScope: an embedded client's or server's events: its handler on the process's log lines
// while it runs, plus ready/stopped, and the checks both builders share.
#pragma once

#include <cstdint>
#include <string>

#include "embed/configs.hpp"
#include "ringtunnel/error.hpp"

namespace ringtunnel::embed {

class EventScope {
 public:
  EventScope() = default;
  ~EventScope() { end(); }
  EventScope(const EventScope&) = delete;
  EventScope& operator=(const EventScope&) = delete;

  /// From start(): stderr on or off and the level (process-wide), the handler on log lines.
  void begin(const EmbedCommon& common);
  /// From stop(), after the threads joined: the handler stops getting lines.
  void end();
  /// A ready/stopped event to the handler, on this thread.
  void emit(Event::Kind kind, const std::string& message) const;

 private:
  EventHandler handler_;
  std::uint64_t sink_ = 0;
};

/// The checks and the token file both builders share: the transport is one this version has,
/// the backend name is known, the token file (if any) is read into `*token`.
Outcome check_common(const EmbedCommon& common, std::optional<std::string>* token);

}  // namespace ringtunnel::embed
