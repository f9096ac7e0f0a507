// SPDX-License-Identifier: MIT
// An embedded ringtunnel server: `embedded_server DATA_DIR [PORT]`. It listens on 127.0.0.1,
// prints its identity and enrolment token, and runs until SIGINT or SIGTERM (this program's
// signals are its own: the library handles none).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ringtunnel/server.hpp>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR [PORT]\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 9000);
  ringtunnel::Server server = ringtunnel::Server::builder()
                                  .bind("127.0.0.1")
                                  .port(port)
                                  .data_dir(argv[1])
                                  .threads(2)
                                  .log_to_stderr()
                                  .build();
  // Block the stop signals before start() so the library's threads inherit the mask and this
  // thread alone waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  if (auto started = server.start(); !started) {
    std::fprintf(stderr, "cannot start the server: %s\n", started.message().c_str());
    return 1;
  }
  std::printf("listening on 127.0.0.1:%u\nidentity %s\n", server.port(),
              server.fingerprint().c_str());
  if (auto token = server.token()) std::printf("token %s\n", token->c_str());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  const ringtunnel::Status status = server.status();
  server.stop();
  std::printf("stopped: %llu session(s), %llu stream(s), %llu bytes in, %llu bytes out\n",
              static_cast<unsigned long long>(status.sessions_total),
              static_cast<unsigned long long>(status.streams_total),
              static_cast<unsigned long long>(status.bytes_in),
              static_cast<unsigned long long>(status.bytes_out));
  return 0;
}
