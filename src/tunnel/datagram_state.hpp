// SPDX-License-Identifier: MIT
// What a UDP stream keeps beyond a TCP one (internal to stream.cpp and stream_datagram.cpp).
#pragma once

#include <cstddef>
#include <vector>

#include "protocol/reason.hpp"
#include "runtime/cancellation.hpp"
#include "runtime/timer_heap.hpp"
#include "tunnel/stream.hpp"

namespace ringtunnel::tunnel {

struct Stream::DatagramState {
  DatagramPath path;
  // Accepter: datagrams that came before our OPEN_OK (at most kMaxEarlyDatagrams, counted
  // against kEarlyDataLimit like TCP early data), sent once the upstream socket is up.
  std::vector<std::vector<std::byte>> early;
  // Opener: datagrams that did not fit the early allowance, sent once OPEN_OK arrives.
  std::vector<std::vector<std::byte>> held;
  std::size_t held_bytes = 0;
  std::size_t early_sent = 0;      // opener: datagrams sent before OPEN_OK
  std::size_t early_received = 0;  // accepter: datagrams received before OPEN_OK
  runtime::Clock::time_point last_active;
  runtime::Cancellation pump_cancel;  // ends the pump's wait for a datagram
  protocol::Reason end = protocol::Reason::ok;
};

}  // namespace ringtunnel::tunnel
