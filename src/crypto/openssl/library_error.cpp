// SPDX-License-Identifier: MIT
// OpenSSL error queue helpers used by every src/crypto implementation file.
#include "crypto/library_error.hpp"

#include <openssl/err.h>

#include <cstdio>
#include <cstdlib>

namespace ringtunnel::crypto::detail {

std::string take_library_error() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

void library_failure(const char* what) noexcept {
  char text[256] = "unknown error";
  if (const unsigned long code = ERR_peek_last_error(); code != 0) {
    ERR_error_string_n(code, text, sizeof text);
  }
  std::fprintf(stderr, "ringtunnel: crypto: %s (%s)\n", what, text);
  std::abort();
}

}  // namespace ringtunnel::crypto::detail
