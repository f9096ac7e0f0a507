// SPDX-License-Identifier: MIT
// wolfCrypt error codes recorded per thread, reported like OpenSSL's error queue.
#include "crypto/library_error.hpp"

#include "crypto/wolfssl/wolfcrypt.hpp"
// After wolfcrypt.hpp (options.h first).
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace ringtunnel::crypto::detail {
namespace {

// The latest wolfCrypt error this thread's crypto calls recorded (0: none since the last take).
thread_local int t_last_error = 0;

void describe(int code, char* text, std::size_t size) noexcept {
  if (code == 0) {
    std::snprintf(text, size, "unknown error");
  } else {
    std::snprintf(text, size, "wolfCrypt error %d: %s", code, wc_GetErrorString(code));
  }
}

}  // namespace

int note_library_error(int code) noexcept {
  if (code != 0) t_last_error = code;
  return code;
}

std::string take_library_error() {
  char text[256];
  describe(std::exchange(t_last_error, 0), text, sizeof text);
  return text;
}

void library_failure(const char* what) noexcept {
  char text[256];
  describe(t_last_error, text, sizeof text);
  std::fprintf(stderr, "ringtunnel: crypto: %s (%s)\n", what, text);
  std::abort();
}

}  // namespace ringtunnel::crypto::detail
