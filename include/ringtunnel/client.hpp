// SPDX-License-Identifier: MIT
// ringtunnel::Client: `ringtunnel client` as a library. Forwards local ports through an
// encrypted, multiplexed session to a ringtunnel server, on reactor threads of its own.
//
//   auto client = ringtunnel::Client::builder()
//                     .server("tunnel.example.com", 9000)
//                     .forward("15432:5432")
//                     .token_file("/etc/myapp/tunnel.token")
//                     .build();
//   if (auto started = client.start(); !started) die(started.message());
//   ...
//   client.stop();  // drains
//
// The library never owns main(), signals or the process's logging: it handles no signal, and
// logs nowhere unless log_to_stderr() or on_event() asks for it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ringtunnel/error.hpp"
#include "ringtunnel/status.hpp"
#include "ringtunnel/tunnel_spec.hpp"
#include "ringtunnel/version.hpp"

namespace ringtunnel {

struct ClientConfig;

class Client {
 public:
  /// The same options as `ringtunnel client`; each returns the builder. Nothing is checked
  /// until start(), which reports the first problem as the CLI would.
  class Builder {
   public:
    Builder();
    ~Builder();
    Builder(Builder&&) noexcept;
    Builder& operator=(Builder&&) noexcept;

    Builder& server(std::string host, std::uint16_t port = 9000);  ///< required
    /// One tunnel in `-L` syntax: [BIND:]LOCAL_PORT:[HOST:]REMOTE_PORT[:udp]. Repeatable.
    Builder& forward(std::string spec);
    Builder& forward(const ForwardSpec& spec);
    /// `-R` text, e.g. "8080:3000" or "8443:localhost:443,proxy_protocol=v2": the server
    /// listens on PUBLIC_PORT and carries each visitor to the local service. Repeatable; a
    /// client may expose without forwarding anything.
    Builder& expose(std::string spec);
    Builder& expose(const ExposeSpec& spec);
    Builder& bind(std::string default_bind);  ///< BIND for forwards naming none; "localhost"
    Builder& token(std::string token);        ///< the enrolment token, needed once
    Builder& token_file(std::string path);    ///< its first line is the token
    /// Where the key and known_hosts live (created 0700); default $RINGTUNNEL_DATA_DIR, else
    /// ~/.ringtunnel.
    Builder& data_dir(std::string path);
    Builder& key_file(std::string path);          ///< default <data dir>/key (made if missing)
    Builder& known_hosts_file(std::string path);  ///< default <data dir>/known_hosts
    Builder& server_fingerprint(std::string fingerprint);  ///< "SHA256:...": trust only this
    Builder& accept_new_host(bool yes = true);             ///< pin a server seen for the first time
    Builder& transport(std::string name);   ///< "native" (the only one in this version)
    Builder& threads(unsigned count);       ///< reactors; 0 = one per CPU
    Builder& sessions(unsigned count);      ///< 0 = one per reactor
    Builder& io_backend(std::string name);  ///< "auto", "io_uring" or "epoll"
    Builder& connect_wait(std::chrono::milliseconds wait);
    Builder& heartbeat(std::chrono::milliseconds interval, std::chrono::milliseconds timeout);
    Builder& drain_timeout(std::chrono::milliseconds timeout);
    Builder& udp_idle_timeout(std::chrono::milliseconds timeout);
    Builder& udp_max_flows(std::uint32_t flows);
    Builder& client_name(std::string name);  ///< shown in the server's log; default host name
    Builder& on_event(EventHandler handler);
    /// Log lines also to stderr (text) from start() on. Off by default. Process-wide.
    Builder& log_to_stderr(bool yes = true);
    Builder& log_level(Event::Level level);  ///< default info. Process-wide.

    Client build();

   private:
    friend class Client;
    std::unique_ptr<ClientConfig> config_;
  };

  static Builder builder();

  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  ~Client();  ///< stop()s first

  /// Opens the listeners, connects, settles trust and waits until every session is up and the
  /// server has answered for every tunnel, or until `timeout`. On failure nothing is left
  /// running and the Outcome says why (e.g. the server's identity changed, the token was
  /// refused, the port is taken, no session within the timeout and the last reason). Call once.
  Outcome start(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  /// Stops taking connections, lets open streams finish (the drain timeout), closes the
  /// sessions and joins the threads. Idempotent; not from an event handler.
  void stop();
  /// Each forward as it listens: the spec with the real local port when 0 was asked.
  std::vector<ForwardSpec> forwards() const;
  /// A live snapshot (state "stopped" before start and after stop).
  Status status() const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringtunnel
