// SPDX-License-Identifier: MIT
// CoreMessage: what one reactor sends another: a handler plus an optional socket and bytes.
#pragma once

#include <cstdint>
#include <vector>

#include "net/unique_fd.hpp"

namespace ringtunnel::runtime {

class Reactor;

/// A message crossing cores. The handler runs on the target reactor's thread and owns the message
/// for the call (it may move the fd and bytes out). Used to hand a connection (fd plus the bytes
/// already read from it) to the core that owns its tunnel, and for control-plane events.
struct CoreMessage {
  using Handler = void (*)(Reactor& target, CoreMessage& message);

  Handler handler = nullptr;
  net::UniqueFd fd;
  std::vector<std::byte> bytes;
  uint64_t arg = 0;
  void* context = nullptr;  ///< must outlive delivery; owned by whoever sent it
};

}  // namespace ringtunnel::runtime
