// SPDX-License-Identifier: MIT
// An embedded ringtunnel client:
//   `embedded_client SERVER_HOST SERVER_PORT FORWARD DATA_DIR [TOKEN]`
// e.g. `embedded_client 127.0.0.1 9000 15432:5432 /tmp/client-data <token>`. It trusts the
// server on first use (pins it in DATA_DIR/known_hosts), prints where each forward listens and
// the events it sees, and runs until SIGINT or SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ringtunnel/client.hpp>
#include <string>

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s SERVER_HOST SERVER_PORT FORWARD DATA_DIR [TOKEN]\n", argv[0]);
    return 2;
  }
  auto builder = ringtunnel::Client::builder();
  builder.server(argv[1], static_cast<std::uint16_t>(std::atoi(argv[2])))
      .forward(argv[3])
      .data_dir(argv[4])
      .accept_new_host()
      .threads(2)
      .on_event([](const ringtunnel::Event& event) {
        // Runs on the library's threads: keep it short.
        if (event.level >= ringtunnel::Event::Level::info) {
          std::fprintf(stderr, "event: %s\n", event.message.c_str());
        }
      });
  if (argc > 5) builder.token(argv[5]);
  ringtunnel::Client client = builder.build();
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  if (auto started = client.start(); !started) {
    std::fprintf(stderr, "cannot start the client: %s\n", started.message().c_str());
    return 1;
  }
  for (const ringtunnel::ForwardSpec& forward : client.forwards()) {
    std::printf("forwarding %s\n", forward.name().c_str());
  }
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  const ringtunnel::Status status = client.status();
  client.stop();
  std::printf("stopped: %llu stream(s), %llu bytes out, %llu bytes in\n",
              static_cast<unsigned long long>(status.streams_total),
              static_cast<unsigned long long>(status.bytes_out),
              static_cast<unsigned long long>(status.bytes_in));
  return 0;
}
