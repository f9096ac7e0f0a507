// SPDX-License-Identifier: MIT
// collect_live_status: every reactor visited for its share of a role's live state, merged.
// Behind `ringtunnel status` (the control socket) and the library's status().
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "observe/live_status.hpp"
#include "ringtunnel/status.hpp"
#include "runtime/engine.hpp"

namespace ringtunnel::embed {

/// Runs on each reactor's own thread and returns that core's share.
using CoreSnapshot = std::function<observe::LiveStatus(runtime::Reactor&)>;

/// Visits every reactor of a running `engine` (waiting up to 2 s) and merges the shares, with
/// role, pid, version, address and uptime since `started` filled in. Blocks: not on a reactor.
observe::LiveStatus collect_live_status(runtime::Engine& engine, const std::string& role,
                                        const std::string& address,
                                        std::chrono::steady_clock::time_point started,
                                        const CoreSnapshot& snapshot);

/// The public snapshot of a merged live status.
Status to_public(const observe::LiveStatus& live);

}  // namespace ringtunnel::embed
