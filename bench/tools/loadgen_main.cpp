// SPDX-License-Identifier: MIT
// ringtunnel-loadgen: a neutral TCP and UDP load generator (plain sockets + epoll, no ringtunnel code).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "loadgen_commands.hpp"
#include "loadgen_util.hpp"

using namespace loadgen;

namespace {

/// A HOST:PORT option that parses into an Endpoint, reporting bad input as a usage error.
CLI::Option* add_endpoint(CLI::App& app, const std::string& name, std::string& text,
                          const std::string& help) {
  return app.add_option(name, text, help + " (A.B.C.D:PORT or [v6]:PORT)")
      ->check([](const std::string& value) {
        std::string error;
        return parse_endpoint(value, error) ? std::string() : error;
      });
}

Endpoint endpoint_of(const std::string& text) {
  std::string error;
  return *parse_endpoint(text, error);  // already validated by the option's check
}

void add_json_flag(CLI::App& app, bool& json) {
  app.add_flag("--json", json, "print the results as one JSON object");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "ringtunnel-loadgen: echo/sink server and load clients over plain sockets + epoll. "
      "Exit status: 0 ok, 1 the run failed, 2 usage."};
  app.require_subcommand(1);

  std::string listen_text = "127.0.0.1:0";
  std::string mode_text = "echo";
  ServerOptions server;
  auto* server_cmd = app.add_subcommand("server", "echo or sink server until SIGTERM/SIGINT");
  add_endpoint(*server_cmd, "--listen", listen_text, "address to listen on; port 0 = any")
      ->capture_default_str();
  server_cmd->add_option("--mode", mode_text, "echo: write back what is read; sink: discard")
      ->check(CLI::IsMember({"echo", "sink"}))
      ->capture_default_str();
  server_cmd->add_option("--threads", server.threads, "worker threads (one epoll each)")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  add_json_flag(*server_cmd, server.json);

  std::string connect_text;
  const auto add_connect = [&](CLI::App& cmd) {
    add_endpoint(cmd, "--connect", connect_text, "server to connect to")->required();
  };

  ThroughputOptions throughput;
  auto* throughput_cmd =
      app.add_subcommand("throughput", "N streams send to a sink for S seconds; Gbit/s");
  add_connect(*throughput_cmd);
  throughput_cmd->add_option("--seconds", throughput.seconds, "sending time")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  throughput_cmd->add_option("--streams", throughput.streams, "concurrent connections")
      ->check(CLI::Range(1u, 10000u))
      ->capture_default_str();
  throughput_cmd->add_option("--chunk", throughput.chunk, "bytes per send()")
      ->check(CLI::Range(std::size_t{1}, std::size_t{16} << 20))
      ->capture_default_str();
  throughput_cmd
      ->add_option("--drain-timeout", throughput.drain_timeout,
                   "seconds to wait for the sink to close after the half-close")
      ->capture_default_str();
  add_json_flag(*throughput_cmd, throughput.json);

  PingpongOptions pingpong;
  auto* pingpong_cmd =
      app.add_subcommand("pingpong", "request/response round trips on one connection; RTT us");
  add_connect(*pingpong_cmd);
  pingpong_cmd->add_option("--count", pingpong.count, "measured round trips")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}))
      ->capture_default_str();
  pingpong_cmd->add_option("--size", pingpong.size, "request and response size in bytes")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  pingpong_cmd->add_option("--warmup", pingpong.warmup, "unrecorded round trips first")
      ->capture_default_str();
  pingpong_cmd->add_option("--timeout", pingpong.timeout, "give up after this many seconds")
      ->capture_default_str();
  pingpong_cmd->add_option("--seconds", pingpong.seconds,
                           "stop measuring after this long (0: after --count round trips)")
      ->capture_default_str();
  add_json_flag(*pingpong_cmd, pingpong.json);

  HoldOptions hold;
  auto* hold_cmd = app.add_subcommand("hold", "open N echo-checked connections and hold them idle");
  add_connect(*hold_cmd);
  hold_cmd->add_option("--connections", hold.connections, "connections to hold")
      ->check(CLI::Range(1u, 1'000'000u))
      ->capture_default_str();
  hold_cmd->add_option("--seconds", hold.seconds, "hold time (SIGTERM ends it early, exit 0)")
      ->capture_default_str();
  hold_cmd->add_option("--connect-window", hold.connect_window, "connects in flight at once")
      ->check(CLI::Range(1u, 100'000u))
      ->capture_default_str();
  hold_cmd->add_option("--timeout", hold.timeout, "seconds allowed to establish them all")
      ->capture_default_str();
  add_json_flag(*hold_cmd, hold.json);

  VerifyOptions verify;
  auto* verify_cmd = app.add_subcommand(
      "verify", "N concurrent connections echo random payloads; checks length and hash");
  add_connect(*verify_cmd);
  verify_cmd->add_option("--connections", verify.connections, "concurrent connections")
      ->check(CLI::Range(1u, 1'000'000u))
      ->capture_default_str();
  verify_cmd->add_option("--min-bytes", verify.min_bytes, "smallest payload")
      ->capture_default_str();
  verify_cmd->add_option("--max-bytes", verify.max_bytes, "largest payload")->capture_default_str();
  verify_cmd->add_option("--seed", verify.seed, "payload and length seed")->capture_default_str();
  verify_cmd->add_option("--connect-window", verify.connect_window, "connects in flight at once")
      ->check(CLI::Range(1u, 100'000u))
      ->capture_default_str();
  verify_cmd->add_option("--timeout", verify.timeout, "fail if not done within this many seconds")
      ->capture_default_str();
  add_json_flag(*verify_cmd, verify.json);

  RateOptions rate;
  auto* rate_cmd = app.add_subcommand(
      "rate", "N workers loop connect, 1-byte echo, close for S seconds; streams/s");
  add_connect(*rate_cmd);
  rate_cmd->add_option("--parallel", rate.parallel, "workers, each with one stream at a time")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  rate_cmd->add_option("--seconds", rate.seconds, "time during which new streams start")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  rate_cmd->add_option("--timeout", rate.timeout, "a stream slower than this many seconds fails")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  add_json_flag(*rate_cmd, rate.json);

  UdpEchoOptions udp_echo;
  auto* udp_echo_cmd = app.add_subcommand("udp-echo", "UDP echo server until SIGTERM/SIGINT");
  add_endpoint(*udp_echo_cmd, "--listen", listen_text, "address to bind; port 0 = any")
      ->capture_default_str();

  UdpPingpongOptions udp_pingpong;
  auto* udp_pingpong_cmd =
      app.add_subcommand("udp-pingpong", "datagram round trips against a UDP echo; RTT us");
  add_connect(*udp_pingpong_cmd);
  udp_pingpong_cmd->add_option("--count", udp_pingpong.count, "timed round trips")
      ->capture_default_str();
  udp_pingpong_cmd->add_option("--size", udp_pingpong.size, "datagram bytes (8-65507)")
      ->check(CLI::Range(8, 65507))
      ->capture_default_str();
  udp_pingpong_cmd->add_option("--warmup", udp_pingpong.warmup, "untimed round trips first")
      ->capture_default_str();
  udp_pingpong_cmd->add_option("--timeout", udp_pingpong.timeout, "seconds for the whole run")
      ->capture_default_str();
  udp_pingpong_cmd->add_option("--seconds", udp_pingpong.seconds,
                               "stop measuring after this long (0: after --count round trips)")
      ->capture_default_str();
  add_json_flag(*udp_pingpong_cmd, udp_pingpong.json);

  UdpThroughputOptions udp_throughput;
  auto* udp_throughput_cmd = app.add_subcommand(
      "udp-throughput", "datagrams to a UDP echo, a window in flight, for S seconds; Gbit/s");
  add_connect(*udp_throughput_cmd);
  udp_throughput_cmd->add_option("--seconds", udp_throughput.seconds, "how long")
      ->capture_default_str();
  udp_throughput_cmd->add_option("--size", udp_throughput.size, "datagram bytes (1-65507)")
      ->check(CLI::Range(1, 65507))
      ->capture_default_str();
  udp_throughput_cmd->add_option("--window", udp_throughput.window, "datagrams in flight")
      ->check(CLI::Range(1u, 4096u))
      ->capture_default_str();
  add_json_flag(*udp_throughput_cmd, udp_throughput.json);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }

  raise_nofile_limit();
  install_stop_signals();
  if (*server_cmd) {
    server.listen = endpoint_of(listen_text);
    server.mode = mode_text == "sink" ? ServerMode::sink : ServerMode::echo;
    return run_server(server);
  }
  if (*udp_echo_cmd) {
    udp_echo.listen = endpoint_of(listen_text);
    return run_udp_echo(udp_echo);
  }
  const Endpoint target = endpoint_of(connect_text);
  if (target.port() == 0) return fail("--connect: port 0 is not a destination", kExitUsage);
  if (*throughput_cmd) {
    throughput.connect = target;
    return run_throughput(throughput);
  }
  if (*pingpong_cmd) {
    pingpong.connect = target;
    return run_pingpong(pingpong);
  }
  if (*hold_cmd) {
    hold.connect = target;
    return run_hold(hold);
  }
  if (*udp_pingpong_cmd) {
    udp_pingpong.connect = target;
    return run_udp_pingpong(udp_pingpong);
  }
  if (*udp_throughput_cmd) {
    udp_throughput.connect = target;
    return run_udp_throughput(udp_throughput);
  }
  if (*rate_cmd) {
    rate.connect = target;
    return run_rate(rate);
  }
  verify.connect = target;
  return run_verify(verify);
}
