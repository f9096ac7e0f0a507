// SPDX-License-Identifier: MIT
// assert_failed: the message, a stack trace (symbolised under the sanitizers), abort.
#include "runtime/assert.hpp"

#include <execinfo.h>

#include <cstdio>
#include <cstdlib>

// Provided by the sanitizer runtimes when they are linked; null otherwise.
extern "C" void __sanitizer_print_stack_trace() __attribute__((weak));

namespace ringtunnel::detail {

void assert_failed(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "ringtunnel: invariant broken: %s at %s:%d\n", expr, file, line);
  if (__sanitizer_print_stack_trace != nullptr) {
    __sanitizer_print_stack_trace();
  } else {
    void* frames[64];
    const int depth = ::backtrace(frames, 64);
    ::backtrace_symbols_fd(frames, depth, 2);
  }
  std::abort();
}

}  // namespace ringtunnel::detail
