// SPDX-License-Identifier: MIT
// tunnel_engine_options: the measured defaults for a tunnel's engine.
#include "embed/engine_setup.hpp"

namespace ringtunnel::embed {

runtime::EngineOptions tunnel_engine_options(const EngineChoice& choice) {
  runtime::EngineOptions options;
  options.threads = choice.threads;
  options.backend = choice.backend == "io_uring" ? runtime::BackendChoice::io_uring
                    : choice.backend == "epoll"  ? runtime::BackendChoice::epoll
                                                 : runtime::BackendChoice::automatic;
  // Streams hold provided buffers while their data waits for the session writer: a bigger
  // ring than the relay's, of 64 KiB buffers (one buffer is one DATA frame of the largest
  // size, half the receives and sends of 32 KiB ones). It costs address space only until
  // bytes land in it.
  options.reactor.buffer_count = 1024;
  options.reactor.buffer_size = 64 * 1024;
  options.reactor.idle_poll = std::chrono::microseconds(choice.idle_poll_us);
  // Measured on 2 vCPUs shared with a load generator and a sink: pinned reactors moved 25%
  // less data and doubled the ping-pong latency, because they could not leave the CPU the
  // producing or consuming process needed.
  constexpr unsigned kPinFromCpus = 4;
  options.pin_threads = choice.pin == "yes" || choice.pin == "true" ||
                        (choice.pin == "auto" && runtime::online_cpus() >= kPinFromCpus);
  options.handle_signals = choice.handle_signals;
  return options;
}

bool valid_backend_name(const std::string& name) {
  return name == "auto" || name == "io_uring" || name == "epoll";
}

}  // namespace ringtunnel::embed
