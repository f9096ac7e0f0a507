// SPDX-License-Identifier: MIT
// The one Catch2 main shared by every test binary. With RINGTUNNEL_TEST_BACKEND=io_uring on a
// host where io_uring cannot be set up, it exits 77 (meson's "skipped") and says why.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runtime/backend.hpp"

int main(int argc, char** argv) {
  const char* backend = std::getenv("RINGTUNNEL_TEST_BACKEND");
  if (backend && std::string(backend) == "io_uring") {
    std::string why;
    if (!ringtunnel::runtime::io_uring_available(&why)) {
      std::printf("SKIP: io_uring is unavailable on this host: %s\n", why.c_str());
      return 77;
    }
  }
  return Catch::Session().run(argc, argv);
}
