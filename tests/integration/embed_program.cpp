// SPDX-License-Identifier: MIT
// A program an embedder would write, built by embed_install_test.sh against the *installed*
// headers and libringtunnel (pkg-config): a server and a client in one process, a forward to a
// local echo service, 1 MiB through it checked byte for byte, status snapshots, the errors
// start() reports, and a clean stop. Exit 0 only if every check held.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <ringtunnel/client.hpp>
#include <ringtunnel/server.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

int failures = 0;
std::vector<std::string> temp_dirs;  // removed at the end

void check(bool condition, const std::string& what) {
  if (!condition) {
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
    ++failures;
  }
}

std::string temp_dir(const char* name) {
  std::string pattern = std::string("/tmp/rt-embed-") + name + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  temp_dirs.push_back(pattern);
  return pattern;
}

// One echo connection at a time on 127.0.0.1, until stopped.
struct Echo {
  int listener = -1;
  std::uint16_t port = 0;
  std::atomic<bool> stop{false};
  std::thread thread;

  Echo() {
    listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        ::listen(listener, 8) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      std::abort();
    }
    port = ntohs(address.sin_port);
    thread = std::thread([this] {
      while (!stop) {
        const int connection = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (connection < 0) continue;
        char buffer[65536];
        for (ssize_t got; (got = ::read(connection, buffer, sizeof buffer)) > 0;) {
          for (ssize_t sent = 0; sent < got;) {
            const ssize_t n = ::write(connection, buffer + sent, static_cast<size_t>(got - sent));
            if (n <= 0) break;
            sent += n;
          }
        }
        ::close(connection);
      }
    });
  }
  ~Echo() {
    stop = true;
    ::shutdown(listener, SHUT_RDWR);  // wakes accept
    thread.join();
    ::close(listener);
  }
};

// Connects to 127.0.0.1:port, sends `payload` (half-closing after it), reads everything back.
std::vector<unsigned char> round_trip(std::uint16_t port,
                                      const std::vector<unsigned char>& payload) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  timeval limit{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  std::vector<unsigned char> back;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return back;
  }
  std::thread writer([&] {
    for (std::size_t sent = 0; sent < payload.size();) {
      const ssize_t n = ::write(fd, payload.data() + sent, payload.size() - sent);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
  });
  unsigned char buffer[65536];
  for (ssize_t got; (got = ::read(fd, buffer, sizeof buffer)) > 0;) {
    back.insert(back.end(), buffer, buffer + got);
  }
  writer.join();
  ::close(fd);
  return back;
}

// A port nothing listens on right now (bound to 0, read back, closed): for the exposed port.
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace

int main() {
  Echo echo;
  const std::string server_dir = temp_dir("server");
  const std::string client_dir = temp_dir("client");
  const std::uint16_t exposed = free_port();
  ringtunnel::Server server = ringtunnel::Server::builder()
                                  .bind("127.0.0.1")
                                  .expose_bind("127.0.0.1")
                                  .port(0)
                                  .data_dir(server_dir)
                                  .allowed_ports(std::to_string(echo.port) + "," +
                                                 std::to_string(exposed))
                                  .threads(2)
                                  .log_to_stderr()  // the test's log, if it fails
                                  .build();
  check(server.status().state == "stopped", "a server not started reports 'stopped'");
  if (auto started = server.start(); !started) {
    std::fprintf(stderr, "FAIL: server.start(): %s\n", started.message().c_str());
    return 1;
  }
  check(server.port() != 0, "the server reports the port it got");
  check(server.fingerprint().rfind("SHA256:", 0) == 0, "the server reports its identity");
  check(server.token().has_value(), "a fresh data dir gives an enrolment token");

  std::mutex events_mutex;
  std::vector<ringtunnel::Event> events;
  const std::string forward = "127.0.0.1:0:127.0.0.1:" + std::to_string(echo.port);
  ringtunnel::Client client = ringtunnel::Client::builder()
                                  .server("127.0.0.1", server.port())
                                  .forward(forward)
                                  .expose(std::to_string(exposed) + ":" + std::to_string(echo.port))
                                  .data_dir(client_dir)
                                  .server_fingerprint(server.fingerprint())
                                  .token(server.token().value_or(""))
                                  .threads(2)
                                  .sessions(1)
                                  .log_to_stderr()
                                  .on_event([&](const ringtunnel::Event& event) {
                                    std::lock_guard lock(events_mutex);
                                    events.push_back(event);
                                  })
                                  .build();
  if (auto started = client.start(std::chrono::seconds(20)); !started) {
    std::fprintf(stderr, "FAIL: client.start(): %s\n", started.message().c_str());
    return 1;
  }
  const auto forwards = client.forwards();
  check(forwards.size() == 1 && forwards[0].local_port != 0, "the forward reports its real port");
  std::vector<unsigned char> payload(1 << 20);
  std::mt19937 random(12345);
  for (auto& byte : payload) byte = static_cast<unsigned char>(random());
  const auto back = round_trip(forwards.empty() ? 0 : forwards[0].local_port, payload);
  check(back == payload, "1 MiB came back through the tunnel unchanged (got " +
                             std::to_string(back.size()) + " bytes)");
  // The other direction: a visitor on the server's exposed port reaches the client's echo.
  const auto visited = round_trip(exposed, payload);
  check(visited == payload, "1 MiB came back through the exposed port unchanged (got " +
                                std::to_string(visited.size()) + " bytes)");
  const ringtunnel::Status client_status = client.status();
  check(client_status.state == "running", "the client is running: " + client_status.state);
  check(client_status.sessions.size() == 1, "the client has its one session");
  check(client_status.bytes_out >= payload.size() && client_status.bytes_in >= payload.size(),
        "the client's counters moved with the traffic: " + std::to_string(client_status.bytes_out));
  check(client_status.tunnels.size() == 1, "the client lists its tunnel");
  const ringtunnel::Status server_status = server.status();
  check(server_status.sessions.size() == 1 && server_status.streams_total >= 1,
        "the server sees one session and the stream");

  // start() says why it cannot: a server that is not the pinned one, and no server at all.
  ringtunnel::Client impostor = ringtunnel::Client::builder()
                                    .server("127.0.0.1", server.port())
                                    .forward("127.0.0.1:0:127.0.0.1:1")
                                    .data_dir(temp_dir("impostor"))
                                    .server_fingerprint("SHA256:" + std::string(43, 'A'))
                                    .threads(1)
                                    .build();
  const ringtunnel::Outcome refused = impostor.start(std::chrono::seconds(20));
  check(!refused && refused.message().find("SHA256:" + std::string(43, 'A')) != std::string::npos,
        "a wrong fingerprint is refused naming it: " + refused.message());
  ringtunnel::Client nowhere = ringtunnel::Client::builder()
                                   .server("127.0.0.1", 1)
                                   .forward("127.0.0.1:0:127.0.0.1:1")
                                   .data_dir(temp_dir("nowhere"))
                                   .accept_new_host()
                                   .threads(1)
                                   .build();
  const ringtunnel::Outcome unreachable = nowhere.start(std::chrono::milliseconds(1500));
  check(!unreachable && unreachable.message().find("no session to 127.0.0.1:1 within") == 0,
        "an unreachable server times out with the reason: " + unreachable.message());
  ringtunnel::Client bad =
      ringtunnel::Client::builder().server("127.0.0.1", 1).forward("x").build();
  const ringtunnel::Outcome bad_spec = bad.start();
  check(!bad_spec && bad_spec.message().find("-L 'x'") == 0,
        "a bad forward is reported as the CLI would: " + bad_spec.message());

  client.stop();
  check(client.status().state == "stopped", "a stopped client reports 'stopped'");
  server.stop();
  bool ready = false, stopped = false;
  {
    std::lock_guard lock(events_mutex);
    for (const auto& event : events) {
      ready |= event.kind == ringtunnel::Event::Kind::ready;
      stopped |= event.kind == ringtunnel::Event::Kind::stopped;
    }
    check(events.size() > 2, "log lines reached the event handler");
  }
  check(ready && stopped, "the handler saw 'ready' and 'stopped'");
  for (const std::string& dir : temp_dirs) std::filesystem::remove_all(dir);
  if (failures == 0)
    std::printf("embed: 1 MiB through an embedded server and client; all checks ok\n");
  return failures == 0 ? 0 : 1;
}
