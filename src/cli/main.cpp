// SPDX-License-Identifier: MIT
// ringtunnel: the command-line front end over the library.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "ringtunnel/version.hpp"
#include "runtime/backend.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ringtunnel: a secure TCP/UDP tunnel on a thread-per-core io_uring engine."};
  app.require_subcommand(1);
  auto* version = app.add_subcommand("version", "Print the version and the I/O backend this host supports");
  version->callback([] {
    std::string why_not;
    bool uring = ringtunnel::runtime::io_uring_available(&why_not);
    std::printf("ringtunnel %s\nio_uring: %s\n", ringtunnel::kVersion,
                uring ? "available" : ("unavailable (" + why_not + "); epoll will be used").c_str());
  });
  CLI11_PARSE(app, argc, argv);
  return 0;
}
