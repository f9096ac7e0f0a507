// SPDX-License-Identifier: MIT
// ringtunnel: the command-line front end over the library.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/client_command.hpp"
#include "cli/config_command.hpp"
#include "cli/status_command.hpp"
#include "cli/server_command.hpp"
#include "observe/log.hpp"
#include "ringtunnel/version.hpp"
#include "runtime/backend.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ringtunnel: a secure TCP and UDP tunnel on a thread-per-core io_uring engine.\n"
               "  ringtunnel server                         on the machine with the services\n"
               "  ringtunnel client --ip HOST -L 15432:5432  where you want them\n"
               "  ringtunnel connect dev                    a profile of config.yaml (config init)"};
  app.require_subcommand(1);
  int exit_code = 0;
  auto* version = app.add_subcommand("version", "Print the version and the I/O backend this host supports");
  version->callback([] {
    std::string why_not;
    bool uring = ringtunnel::runtime::io_uring_available(&why_not);
    std::printf("ringtunnel %s\nio_uring: %s\n", ringtunnel::kVersion,
                uring ? "available" : ("unavailable (" + why_not + "); epoll will be used").c_str());
  });
  ringtunnel::cli::add_server_command(app, exit_code);
  ringtunnel::cli::add_client_command(app, exit_code);
  ringtunnel::cli::add_connect_command(app, exit_code);
  ringtunnel::cli::add_config_command(app, exit_code);
  ringtunnel::cli::add_status_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  ringtunnel::observe::shutdown_logging();
  return exit_code;
}
