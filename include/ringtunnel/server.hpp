// SPDX-License-Identifier: MIT
// ringtunnel::Server: `ringtunnel server` as a library. Accepts clients, checks their keys
// and policy, and carries their tunnels, on reactor threads of its own.
//
//   auto server = ringtunnel::Server::builder().bind("127.0.0.1").port(9000)
//                     .data_dir("/var/lib/myapp/tunnel").allowed_ports("5432").build();
//   if (auto started = server.start(); !started) die(started.message());
//   std::printf("identity %s\n", server.fingerprint().c_str());
//   ...
//   server.stop();  // GOAWAY, drain, close
//
// No signals are handled and nothing is logged unless asked (log_to_stderr, on_event).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "ringtunnel/error.hpp"
#include "ringtunnel/status.hpp"
#include "ringtunnel/version.hpp"

namespace ringtunnel {

struct ServerConfig;

class Server {
 public:
  /// The same options as `ringtunnel server`; nothing is checked until start().
  class Builder {
   public:
    Builder();
    ~Builder();
    Builder(Builder&&) noexcept;
    Builder& operator=(Builder&&) noexcept;

    Builder& bind(std::string address);  ///< default "0.0.0.0"; "::", "127.0.0.1", "localhost"
    /// Where clients' exposed ports (-R) listen; default "0.0.0.0" (forms as bind()).
    Builder& expose_bind(std::string address);
    Builder& port(std::uint16_t port);   ///< default 9000; 0 = any free port (see port())
    /// Identity key, authorized_keys and the token file live here (created 0700); default
    /// $RINGTUNNEL_DATA_DIR, else ~/.ringtunnel.
    Builder& data_dir(std::string path);
    Builder& token(std::string token);      ///< default: the server_token file in the data dir
    Builder& token_file(std::string path);  ///< its first line is the token
    Builder& trust_first_client(bool yes = true);
    Builder& max_clients(unsigned count);       ///< default 10
    Builder& allowed_ports(std::string ports);  ///< "5432,8000-8100"; default every port
    Builder& allowed_hosts(std::string hosts);  ///< "db.internal,10.0.0.0/8"; default localhost
    Builder& max_streams(std::uint32_t per_session);  ///< default 8192
    Builder& transport(std::string name);             ///< "native" (the only one in this version)
    Builder& threads(unsigned count);                 ///< reactors; 0 = one per CPU
    Builder& io_backend(std::string name);            ///< "auto", "io_uring" or "epoll"
    Builder& heartbeat(std::chrono::milliseconds interval, std::chrono::milliseconds timeout);
    Builder& drain_timeout(std::chrono::milliseconds timeout);
    Builder& on_event(EventHandler handler);
    Builder& log_to_stderr(bool yes = true);  ///< process-wide
    Builder& log_level(Event::Level level);   ///< process-wide

    Server build();

   private:
    friend class Server;
    std::unique_ptr<ServerConfig> config_;
  };

  static Builder builder();

  Server(Server&&) noexcept;
  Server& operator=(Server&&) noexcept;
  ~Server();  ///< stop()s first

  /// Prepares the data dir (identity key, authorized_keys, token), listens on every reactor
  /// and returns once clients can connect, or why not. Call once.
  Outcome start();
  /// GOAWAY to every client, open streams get the drain timeout, then everything is closed
  /// and the threads joined. Idempotent; not from an event handler.
  void stop();
  /// The port it listens on (the real one when 0 was asked); 0 before start().
  std::uint16_t port() const;
  /// "SHA256:..." of the server identity, for clients to pin; empty before start().
  std::string fingerprint() const;
  /// The enrolment token in force, if any (given, or from the data dir's server_token file).
  std::optional<std::string> token() const;
  Status status() const;

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringtunnel
