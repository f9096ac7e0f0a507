// SPDX-License-Identifier: MIT
// The template config.yaml. Keep it in step with config_schema.cpp (a test checks every key is
// here) and docs/config.md.
#include "config/config_template.hpp"

namespace ringtunnel::config {

std::string_view config_template() {
  return R"yaml(# ringtunnel configuration. Precedence: flag > environment (RINGTUNNEL_*) > this file > default.
# `ringtunnel config show` prints what is in force and where each value came from.
# Every key is the flag of the same name with '_' for '-': see `ringtunnel client --help`.

# Under every profile, and under `ringtunnel client`.
defaults:
  bind: localhost            # where -L listens when a tunnel names no address; 0.0.0.0 for every interface
  accept_new_host: false     # trust (and pin) a server seen for the first time without asking
  verbose: false             # true (or 1) = -v, 2 = -vv
  # log_level: info          # trace, debug, info, warn, error
  # log_json: false          # one JSON object per line
  # log_file: /var/log/ringtunnel.log
  # server: tunnel.example.com   # a server for every profile that names none
  # port: 9000
  # server_fingerprint: SHA256:...   # trust only this server identity
  # token_file: ~/.ringtunnel/token  # the enrolment token, needed once (keep tokens out of this file)
  # token: ...                       # works, but anyone who can read this file can enrol
  # sessions: 0              # sessions to the server; 0 = one per reactor
  # connect_wait: 10         # seconds a local connection waits for a session while reconnecting
  # udp_idle_timeout: 60     # seconds a UDP flow lives without a datagram
  # udp_max_flows: 1024      # UDP flows per tunnel
  # heartbeat_interval: 15   # seconds between PINGs
  # heartbeat_timeout: 60    # seconds of silence before a session is declared dead
  # drain_timeout: 10        # seconds open streams get to finish on SIGINT/SIGTERM
  # stream_window: 2097152   # bytes in flight per stream
  # threads: 0               # reactor threads; 0 = one per CPU
  # io_backend: auto         # auto, io_uring or epoll
  # idle_poll_us: 50         # microseconds a reactor polls before it sleeps
  # pin_threads: auto        # yes, no, auto (pin only with 4 CPUs or more)
  # transport: native        # native (X25519 + Ed25519, AES-256-GCM) or tls (TLS 1.3)
  # tls_ca: system           # tls: check the server's chain (a PEM file, or system); default pin
  # tls_server_name: relay.example.com   # tls: SNI and the name checked with tls_ca
  # tls_cert: client.pem     # tls: a client certificate, for a server with tls_client_ca
  # tls_key: client.key
  # tls_insecure_skip_verify: false   # tls: check nothing at all (tests only; warned each time)

# `ringtunnel connect NAME` runs one; flags given there override it (connect dev --bind 0.0.0.0 -v).
profiles:
  dev:
    server: 127.0.0.1        # HOST, or HOST:PORT ([::1]:9000 for IPv6)
    port: 9000
    tunnels:
      - "15432:5432"                          # LOCAL:REMOTE, as -L takes it ([BIND:]LOCAL:[HOST:]REMOTE[:udp])
      # - "5353:53:udp"                       # a UDP tunnel
      # - {local: 16379, remote: 6379}        # the same as a map
      # - {local: 8080, remote: 80, host: web.internal, bind: 0.0.0.0, mode: tcp}
    # expose:                # services here that the server opens to visitors, as -R takes them
    #   - "8080:3000"                         # PUBLIC:LOCAL ([BIND:]PUBLIC:[HOST:]LOCAL[:udp][,proxy_protocol=v2])
    #   - "5353:53:udp"                       # a UDP service
    #   - {public: 8443, local: 443, host: web.internal, bind: 0.0.0.0, mode: tcp, proxy_protocol: v2}
    # http:                  # names on the server's HTTP ingress, as --http takes them
    #   app: 3000                             # Host app.<domain> -> localhost:3000 ([HOST:]PORT)
    # https:                 # names on its TLS ingress (SNI), passed through to a TLS service here
    #   app: 127.0.0.1:8443
    # verbose: 1             # any defaults: key may be overridden here

# `ringtunnel server` on this machine.
server:
  # port: 9000
  # bind: 0.0.0.0
  # expose_bind: 0.0.0.0     # where clients' exposed ports (-R) listen; a client may name a narrower address
  # http_bind: 0.0.0.0:80    # the HTTP ingress: requests routed by Host to clients' --http names
  # https_bind: 0.0.0.0:443  # the TLS ingress: connections routed by SNI, passed through
  # domain: example.com      # names live under it: Host app.example.com is the name app
  # http_timeout: 60         # seconds a client's service has to start answering (then 504)
  # reserved_names:          # names only one client key may claim
  #   app: SHA256:...
  # max_clients: 10          # re-read on SIGHUP
  # allowed_ports: [5432, 6379, 8000-8100]   # re-read on SIGHUP; default every port
  # allowed_hosts: [db.internal, 10.0.0.0/8] # re-read on SIGHUP; default localhost only
  # token_file: /etc/ringtunnel/token        # default: server_token in the data dir
  # token: ...
  # trust_first_client: false
  # max_streams: 8192        # streams per client session
  # drain_timeout: 10
  # transport: native        # or tls: TLS 1.3, self-signed for the server key unless:
  # tls_cert: /etc/ringtunnel/fullchain.pem
  # tls_key: /etc/ringtunnel/privkey.pem
  # tls_client_ca: /etc/ringtunnel/clients-ca.pem   # require client certificates
  # health_port: 9090        # in the schema; the health endpoint is not built yet
  # verbose, log_level, log_json, log_file, heartbeat_interval, heartbeat_timeout,
  # stream_window, threads, io_backend, idle_poll_us and pin_threads work here too.
)yaml";
}

}  // namespace ringtunnel::config
