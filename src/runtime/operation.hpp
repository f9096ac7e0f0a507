// SPDX-License-Identifier: MIT
// Operation: one in-flight kernel request, embedded in whoever waits for it (no allocation).
#pragma once

#include <cstdint>

namespace ringtunnel::runtime {

/// Completion flags a backend reports, mirroring io_uring's CQE flags in a backend-neutral form.
enum CompletionFlag : uint32_t {
  kMore = 1u << 0,          ///< a multishot operation stays armed; more completions follow
  kBufferSelected = 1u << 1,///< the result carries a provided buffer; its id is in buffer_id
  kNotification = 1u << 2,  ///< send_zc: the kernel released the buffer (the final completion)
};

/// One request to a backend. The owner sets `on_complete` before submitting and keeps the object
/// alive (and unmoved) until the final completion (the one without kMore) has been delivered.
/// A backend calls `on_complete` from the reactor loop only, never from inside a submit call.
struct Operation {
  using CompleteFn = void (*)(Operation& op, int result, uint32_t flags, uint16_t buffer_id);

  CompleteFn on_complete = nullptr;
  /// Set by the backend while the kernel (or the epoll backend) holds the operation.
  bool in_flight = false;
};

}  // namespace ringtunnel::runtime
