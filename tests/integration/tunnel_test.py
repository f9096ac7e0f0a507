#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Integration: `ringtunnel server` and `ringtunnel client -L` as real processes on 127.0.0.1.

Every case starts its own echo servers (ringtunnel-loadgen), a server and clients with fresh data
dirs and free ports, checks real bytes and log lines, then stops every process with SIGTERM and
requires exit status 0 from those that should stop cleanly (under ASan that also proves no leak).
Usage: tunnel_test.py RINGTUNNEL LOADGEN [--case NAME]... [--io-backend auto|io_uring|epoll]
The last stdout line is "N passed, N failed". Standard library only."""
import os
import socket
import sys
import threading
import time

from tunnel_harness import *  # noqa: F401,F403 (the harness is this file's vocabulary)
from tunnel_harness import Failure, Skip, Test


def case_streams_100(t):
    """100 concurrent streams to an echo server, every byte checked by hash."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"))
    client, port = t.enrolled("client", server, t.path("client-data"), echo, sessions=None)
    print(t.verify("verify", port, 100))
    client.stop_ok()
    server.stop_ok()
    stats = re.search(r"server stopped: .*?(\d+) streams \((\d+) refused\), (\d+) bytes in, "
                      r"(\d+) bytes out", server.text())
    check(stats, "the server did not log its 'server stopped' totals")
    check(stats.group(1, 2) == ("100", "0"), f"the server counted {stats.group(0)}; expected "
          "100 streams, 0 refused")
    check(stats.group(3) == stats.group(4), f"bytes in and out differ: {stats.group(0)}")
    check(t.echo_connections(echo) == 100, "the echo server did not take exactly 100 connections")


def case_three_tunnels(t):
    """Three -L in one client, each to its own echo server; each tunnel reaches its own."""
    echoes = [t.echo(f"echo{i}") for i in range(3)]
    server = t.server("server", t.path("server-data"))
    specs = [fwd(e.port) for e in echoes]
    client = t.client("client", t.path("client-data"), server.port, specs, token=server.token,
                      sessions=None)
    tunnels = t.ready(client, 3)
    ports = [t.accepted_port(tunnels, spec) for spec in specs]
    check(len(set(ports)) == 3, f"three tunnels share local ports: {ports}")
    counts = [5, 7, 9]  # distinct, so a mix-up shows in the echo servers' counts
    runs = [t.start_verify(f"verify{i}", p, n) for i, (p, n) in enumerate(zip(ports, counts))]
    for run, n in zip(runs, counts):
        t.finish_verify(run, n)
    client.stop_ok()
    server.stop_ok()
    for echo, n in zip(echoes, counts):
        got = t.echo_connections(echo)
        check(got == n, f"{echo.name} took {got} connections, expected {n}: a tunnel went to the "
              "wrong service")


def case_two_clients(t):
    """Two clients with their own data dirs, both enrolled with the token, carry load at once."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"))
    a, port_a = t.enrolled("client-a", server, t.path("client-a-data"), echo, sessions=None)
    b, port_b = t.enrolled("client-b", server, t.path("client-b-data"), echo, sessions=None)
    fp_a, fp_b = client_fingerprint(a), client_fingerprint(b)
    check(fp_a != fp_b, "two data dirs produced the same client key")
    runs = [t.start_verify("verify-a", port_a, 30), t.start_verify("verify-b", port_b, 30)]
    for run in runs:
        t.finish_verify(run, 30)
    keys = authorized_fingerprints(server)
    check(keys == {fp_a, fp_b}, f"authorized_keys holds {sorted(keys)}, not the two clients")
    for fp in (fp_a, fp_b):
        check(re.search(rf"enrolled client {re.escape(fp)} .*enrolment token", server.text()),
              f"the server did not log the enrolment of {fp}")
    a.stop_ok()
    b.stop_ok()
    server.stop_ok()


def case_max_clients(t):
    """--max-clients 1: a second client key is refused ('full', retried with backoff); the first
    keeps working; once the first has gone, the waiting second one gets in by itself."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"), args=["--max-clients", "1"])
    # Two sessions of one key are one client: both must come up under --max-clients 1.
    first, port = t.enrolled("client-a", server, t.path("client-a-data"), echo, sessions=2)
    second = t.client("client-b", t.path("client-b-data"), server.port, [fwd(echo.port)],
                      token=server.token)
    second.wait_for(r"the server 127\.0\.0\.1:\d+ is full.*; trying again in",
                    "that the server is full (and that it will try again)")
    check("client ready" not in second.text(), "the refused client logged 'client ready'")
    server.wait_for(r"handshake failed: server_full", "the server_full refusal", timeout=5)
    t.verify("verify", port, 10)
    first.stop_ok()
    # Its slot is free again once the server has seen both of its sessions go.
    fp = re.escape(client_fingerprint(first))
    server.wait_for(rf"{fp} .* disconnected(?s:.*){fp} .* disconnected",
                    "the first client's two sessions end")
    # The second client's next attempt (within its backoff: 1, 2, 4 ... s) gets in.
    t.verify("verify-b", t.accepted_port(t.ready(second, 1, timeout=40), fwd(echo.port)), 5)
    second.stop_ok()
    server.stop_ok()


def case_allowed_ports(t):
    """--allowed-ports: the refused tunnel is reported at start, its connections get EOF and no
    data, the refusal is logged by name, and the allowed tunnel of the same client works."""
    allowed, denied = t.echo("echo-allowed"), t.echo("echo-denied")  # both live
    server = t.server("server", t.path("server-data"), args=["--allowed-ports", str(allowed.port)])
    ok_spec, bad_spec = fwd(allowed.port), fwd(denied.port)
    client = t.client("client", t.path("client-data"), server.port, [ok_spec, bad_spec],
                      token=server.token)
    tunnels = t.ready(client, 2)
    ok_port = t.accepted_port(tunnels, ok_spec)
    bad_port, line = tunnels[bad_spec]
    check(re.search(rf"but the server refuses it: port_not_allowed: .*\b{denied.port}\b", line),
          f"the refused tunnel's start line does not name port_not_allowed and port "
          f"{denied.port}: {line}")
    for _ in range(2):
        with socket.create_connection(("127.0.0.1", bad_port), timeout=10) as s:
            try:
                data = read_all(s, 10)
            except Failure as e:
                raise Failure(f"a connection to the refused tunnel was not closed: {e}") from None
            except ConnectionResetError:
                data = b""  # closed as well, if less politely than a FIN
            check(data == b"", f"the refused tunnel sent {len(data)} bytes")
    client.wait_for(rf"tunnel '{re.escape(bad_spec)}': 127\.0\.0\.1:{denied.port} refused by the "
                    r"peer: port_not_allowed", "the refusal of the connection, by tunnel name")
    t.verify("verify", ok_port, 20)
    client.stop_ok()
    server.stop_ok()
    check(t.echo_connections(denied) == 0, "the server connected to a port it does not allow")
    check(t.echo_connections(allowed) == 20, "the allowed echo server missed connections")


def case_bad_token(t):
    """A wrong token: exit 1, the message is about the token; the key is not enrolled."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"))
    wrong = "%048x" % random.getrandbits(192)
    check(wrong != server.token, "test bug: the random token is the real one")
    client = t.client("client", t.path("client-data"), server.port, [fwd(echo.port)], token=wrong)
    client.expect_exit(1)
    check(re.search(r"error.*refused the token", client.text()),
          "the client did not say that its token was refused")
    server.wait_for(r"handshake failed: bad_token", "the bad_token refusal", timeout=5)
    check(not authorized_fingerprints(server), "a client with a wrong token was enrolled")
    server.stop_ok()


def case_unknown_key(t):
    """No token, authorized_keys holds another key: exit 1 naming the unknown key and enrolment."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"))
    other, _ = t.enrolled("client-enrolled", server, t.path("enrolled-data"), echo)
    other.stop_ok()
    keys_file = os.path.join(server.data_dir, "authorized_keys")
    before = open(keys_file).read()
    check(authorized_fingerprints(server) == {client_fingerprint(other)},
          "authorized_keys does not hold exactly the enrolled client")
    stranger = t.client("client-stranger", t.path("stranger-data"), server.port, [fwd(echo.port)])
    stranger.expect_exit(1)
    fp = client_fingerprint(stranger)
    check(re.search(rf"error.*does not know this client's key {re.escape(fp)}.*enrol",
                    stranger.text()), "the client did not name its unknown key and how to enrol it")
    server.wait_for(r"handshake failed: unknown_key", "the unknown_key refusal", timeout=5)
    check(open(keys_file).read() == before, "authorized_keys changed")
    server.stop_ok()


def case_server_key_changed(t):
    """A new server key on a pinned host:port: exit 1, the warning with both fingerprints, and
    known_hosts untouched (even with --accept-new-host)."""
    echo = t.echo()
    first = t.server("server-1", t.path("server-1-data"))
    data = t.path("client-data")
    client, port = t.enrolled("client-1", first, data, echo)
    t.verify("verify", port, 3)
    client.stop_ok()
    first.stop_ok()
    known_hosts = os.path.join(data, "known_hosts")
    pinned = open(known_hosts, "rb").read()
    check(f"127.0.0.1:{first.port} {first.fingerprint}".encode() in pinned,
          f"known_hosts does not pin the server: {pinned!r}")
    second = t.server("server-2", t.path("server-2-data"), port=first.port)
    check(second.fingerprint != first.fingerprint, "a new data dir kept the old server key")
    again = t.client("client-2", data, second.port, [fwd(echo.port)], token=second.token)
    again.expect_exit(1)
    text = again.text()
    check("WARNING: SERVER IDENTITY HAS CHANGED!" in text, "no identity-changed warning")
    check(first.fingerprint in text and second.fingerprint in text,
          "the warning does not show both the pinned and the presented fingerprint")
    check("client ready" not in text and "the server accepts" not in text,
          "the client went on after the identity changed")
    check(open(known_hosts, "rb").read() == pinned, "known_hosts changed")
    check("enrolled client" not in second.text(), "the client enrolled with the new server")
    second.stop_ok()


def case_mitm_flip(t):
    """One flipped bit of server→client traffic ends the client's session (decrypt failure; the
    client reconnects); so does one of client→server; the server keeps running and serves a
    fresh client."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"))
    tampered_session(t, server, echo, to_client=True)
    server.wait_for(r"closed by the peer: decrypt_failed(?s:.*)disconnected: decrypt_failed after",
                    "the first victim's close (decrypt_failed) and disconnection", timeout=15)
    tampered_session(t, server, echo, to_client=False)
    server.wait_for(r"server: client .*: closing: decrypt_failed(?s:.*)disconnected: "
                    r"decrypt_failed",
                    "that the server found the flipped client→server bit (closing: "
                    "decrypt_failed) and dropped the session", timeout=15)
    check(server.alive(), "the server died with the tampered sessions")
    fresh, port = t.enrolled("client-fresh", server, t.path("fresh-data"), echo)
    t.verify("verify", port, 10)
    payload = os.urandom(100000)
    check(echo_roundtrip(port, payload) == payload, "the fresh client's echo is not byte-exact")
    fresh.stop_ok()
    server.stop_ok()


def case_stalled_reader(t):
    """--sessions 1: a stream whose app writes and never reads must not slow a 64 MiB echo round
    trip on another stream of the same session."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"))
    client = t.client("client", t.path("client-data"), server.port, [fwd(echo.port)],
                      token=server.token, sessions=1)
    port = t.accepted_port(t.ready(client, 1), fwd(echo.port))
    stalled = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        stalled.setblocking(False)
        chunk, written = os.urandom(65536), 0
        last, deadline = time.monotonic(), time.monotonic() + 20
        while time.monotonic() - last < 1.0:  # until a full second without progress
            check(time.monotonic() < deadline, f"the stalled stream took {written // MIB} MiB in "
                  "20 s without back-pressure: something buffers without bound")
            try:
                written += stalled.send(chunk)
                last = time.monotonic()
            except BlockingIOError:
                time.sleep(0.01)
            except OSError as e:
                raise Failure(f"the stalled stream's connection failed after {written} bytes "
                              f"while it was filling up: {e}") from None
        print(f"stalled stream: back-pressured after {written / MIB:.1f} MiB")
        started = time.monotonic()
        print(t.verify("verify-64MiB", port, 1, min_bytes=64 * MIB, max_bytes=64 * MIB, timeout=20))
        print(f"64 MiB round trip beside the stalled stream: {time.monotonic() - started:.1f} s")
        try:
            stalled.send(chunk)
            check(False, "the stalled stream was no longer back-pressured")
        except BlockingIOError:
            pass
        except OSError as e:
            raise Failure(f"the stalled stream was closed meanwhile: {e}") from None
    finally:
        stalled.close()
    client.stop_ok()
    server.stop_ok()


def case_file_modes(t):
    """Key files 0600 and data dirs 0700, even under umask 000; --log-file is created 0600."""
    old = os.umask(0)
    try:
        echo = t.echo()
        server_dir, client_dir = t.path("server-data"), t.path("client-data")
        server = t.server("server", server_dir, log_file=t.path("server-log"))
        client, port = t.enrolled("client", server, client_dir, echo)
        check(echo_roundtrip(port, b"modes") == b"modes", "no echo through the tunnel")
    finally:
        os.umask(old)
    wanted = {server_dir: 0o700, client_dir: 0o700, t.path("server-log"): 0o600}
    for name in ("server_key", "server_token", "authorized_keys"):
        wanted[os.path.join(server_dir, name)] = 0o600
    for name in ("key", "known_hosts"):
        wanted[os.path.join(client_dir, name)] = 0o600
    wrong = [f"{p}: {file_mode(p):04o}, expected {m:04o}" for p, m in wanted.items()
             if file_mode(p) != m]
    check(not wrong, "wrong modes:\n  " + "\n  ".join(wrong))
    client.stop_ok()
    server.stop_ok()


def case_trust_first_client(t):
    """--trust-first-client: the first key is enrolled without a token, a second one is refused."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"), args=["--trust-first-client"])
    first = t.client("client-a", t.path("client-a-data"), server.port, [fwd(echo.port)])
    port = t.accepted_port(t.ready(first, 1), fwd(echo.port))
    t.verify("verify", port, 5)
    fp = client_fingerprint(first)
    server.wait_for(rf"enrolled client {re.escape(fp)} .*first client", "the first enrolment",
                    timeout=5)
    second = t.client("client-b", t.path("client-b-data"), server.port, [fwd(echo.port)])
    second.expect_exit(1)
    check(re.search(r"error.*does not know this client's key", second.text()),
          "the second client was not told that its key is unknown")
    keys = authorized_fingerprints(server)
    check(keys == {fp}, f"authorized_keys holds {sorted(keys)}; expected only the first client")
    first.stop_ok()
    server.stop_ok()


def case_server_fingerprint(t):
    """--server-fingerprint: a wrong one exits 1 without pinning, the right one connects and pins;
    neither flag on a non-terminal exits 1 without pinning."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"))
    data = t.path("client-data")
    known_hosts = os.path.join(data, "known_hosts")
    wrong_fp = "SHA256:" + "A" * 43
    check(wrong_fp != server.fingerprint, "test bug: the wrong fingerprint is the real one")
    wrong = t.client("client-wrong", data, server.port, [fwd(echo.port)], token=server.token,
                     accept_new_host=False, args=["--server-fingerprint", wrong_fp])
    wrong.expect_exit(1)
    check(re.search(rf"error.*{re.escape(server.fingerprint)}.*not the {re.escape(wrong_fp)}",
                    wrong.text()), "the client did not name both fingerprints")
    check(not os.path.exists(known_hosts) or not open(known_hosts).read().strip(),
          "a wrong --server-fingerprint pinned the server")
    unknown = t.client("client-unknown", data, server.port, [fwd(echo.port)], token=server.token,
                       accept_new_host=False)
    unknown.expect_exit(1)
    check(re.search(rf"error.*not in .*known_hosts.*{re.escape(server.fingerprint)}",
                    unknown.text()), "the client did not say the server is not in known_hosts")
    check(not os.path.exists(known_hosts) or not open(known_hosts).read().strip(),
          "an unknown server was pinned without --accept-new-host")
    right = t.client("client-right", data, server.port, [fwd(echo.port)], token=server.token,
                     accept_new_host=False, args=["--server-fingerprint", server.fingerprint])
    port = t.accepted_port(t.ready(right, 1), fwd(echo.port))
    t.verify("verify", port, 5)
    check(f"127.0.0.1:{server.port} {server.fingerprint}" in open(known_hosts).read(),
          "the right --server-fingerprint did not pin the server")
    right.stop_ok()
    server.stop_ok()


def case_stream_limit_waits(t):
    """At the server's stream limit a new connection waits; the moment a stream ends it is carried"""
    echo = t.echo()
    server = t.server("server", t.path("server-data"), args=["--max-streams", "1"])
    client, port = t.enrolled("client", server, t.path("client-data"), echo)
    first = socket.create_connection(("127.0.0.1", port), timeout=10)
    first.settimeout(10)
    first.sendall(b"first")
    check(read_exactly(first, 5, 10) == b"first", "no echo on the first connection")
    second = socket.create_connection(("127.0.0.1", port), timeout=10)
    second.settimeout(0.5)
    second.sendall(b"second")
    try:
        early = second.recv(6)
    except socket.timeout:
        early = None
    check(early is None, f"the second connection was carried beyond the limit of 1: {early!r}")
    first.close()  # its stream ends: room for the waiting one, long before --connect-wait (10 s)
    started = time.monotonic()
    second.settimeout(10)
    got = read_exactly(second, 6, 10)
    waited = time.monotonic() - started
    check(got == b"second", f"the waiting connection was not carried after a stream ended: {got!r}")
    check(waited < 5, f"the waiting connection was carried only after {waited:.1f} s")
    second.close()


def case_localhost_both(t):
    """-L without a bind address listens on localhost: 127.0.0.1 and ::1 on the same port (as ssh
    -L does), so a program that tries ::1 first finds the tunnel; both carry the echo."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"))
    spec = f"0:127.0.0.1:{echo.port}"
    client = t.client("client", t.path("client-data"), server.port, [spec], token=server.token)
    name = "localhost:" + spec  # the tunnel's name in the log spells the bind address out
    tunnels = t.ready(client, 1)
    port = t.accepted_port(tunnels, name)
    line = tunnels[name][1]
    check(echo_roundtrip(port, b"over IPv4") == b"over IPv4", "no echo on 127.0.0.1")
    try:
        probe = socket.create_server(("::1", 0), family=socket.AF_INET6)
        probe.close()
    except OSError as e:
        check(f"127.0.0.1:{port} only" in client.text(), f"::1 is unusable here ({e}) but the "
              "client did not say it listens on IPv4 only")
        return
    check(f"listening on 127.0.0.1:{port} and [::1]:{port}" in line,
          f"the tunnel line does not name both loopbacks: {line}")
    with socket.create_connection(("::1", port), timeout=10) as s:
        s.sendall(b"over IPv6")
        s.shutdown(socket.SHUT_WR)
        check(read_all(s, 10) == b"over IPv6", "no echo on [::1]")
    client.stop_ok()
    server.stop_ok()


def case_bad_usage(t):
    """Bad usage exits 2, names the problem and creates no data dir."""
    port = str(free_port())
    runs = [
        ("client-port-70000", ["client", "--ip", "127.0.0.1", "--port", port, "-L", "70000:22"],
         r"70000.*out of range"),
        ("server-allowed-ports-0", ["server", "--bind", "127.0.0.1", "--port", port,
                                    "--allowed-ports", "0"], r"--allowed-ports.*\b0\b"),
        ("client-no-L", ["client", "--ip", "127.0.0.1", "--port", port], r"--local|-L"),
        ("server-heartbeat", ["server", "--bind", "127.0.0.1", "--port", port,
                              "--heartbeat-interval", "20", "--heartbeat-timeout", "10"],
         r"--heartbeat-timeout 10 s must be longer than --heartbeat-interval 20 s"),
        ("client-heartbeat", ["client", "--ip", "127.0.0.1", "--port", port, "-L", "1:2",
                              "--heartbeat-timeout", "0.01"], r"--heartbeat-timeout"),
    ]
    for name, args, message in runs:
        data = t.path(name + "-data")
        proc = t.spawn(name, [t.rt, *args, "--data-dir", data])
        proc.expect_exit(2, timeout=15)
        check(re.search(message, proc.text()), f"{name}: the message does not name the problem "
              f"(/{message}/)")
        check(not os.path.exists(data), f"{name}: bad usage still created the data dir")


def case_server_port_zero(t):
    """--port 0 must either be refused as bad usage (exit 2) or give one real port that the
    ready line names, every reactor listens on and a client can use."""
    data = t.path("server-data")
    proc = t.spawn("server", [t.rt, "server", "--bind", "127.0.0.1", "--port", "0",
                              "--data-dir", data, "--threads", "2", *t.backend_args])
    found = proc.wait_for(r"server ready: listening on [\d.]+:(\d+)|^(?!.*server ready).*error",
                          "'server ready' or an error")
    if not proc.alive() or found.group(1) is None:
        proc.expect_exit(2)
        return
    time.sleep(0.2)
    ports = listening_ports(proc.popen.pid)
    logged = int(found.group(1))
    check(logged != 0 and ports == {logged}, f"with --port 0 the server logs 'listening on "
          f"127.0.0.1:{logged}' but listens on {sorted(ports)}: clients cannot find it")
    echo = t.echo()
    token = open(os.path.join(data, "server_token")).read().strip()
    client = t.client("client", t.path("client-data"), logged, [fwd(echo.port)], token=token,
                      sessions=None)
    t.verify("verify", t.accepted_port(t.ready(client, 1), fwd(echo.port)), 20)
    client.stop_ok()
    proc.stop_ok()


def case_client_second_session(t):
    """A client's second session comes up even when its reactor 1 starts only after reactor 0
    has set session 0 up: with the client at idle priority and a spinner on reactor 1's CPU
    until session 0 is up, 'client ready' must still come."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise Skip("needs 2 CPUs: the client pins its reactor 1 to the second one")
    echo = t.echo()
    server = t.server("server", t.path("server-data"), threads=1)  # its reactor on CPU 0
    spin = f"import os\nos.sched_setaffinity(0, {{{cpus[1]}}})\nprint('spinning', flush=True)\n" \
           "while True: pass"
    for run in range(2):
        hog = t.spawn(f"cpu-hog-{run}", [sys.executable, "-c", spin], clean_stop=False)
        hog.wait_for("spinning", "that it spins")
        client = t.client(f"client-{run}", t.path(f"client-{run}-data"), server.port,
                          [fwd(echo.port)], token=server.token, sessions=2, idle_priority=True)
        client.wait_for(r"tunnel \S+: listening on", "its tunnel line (session 0 is up)")
        hog.stop()
        try:
            t.ready(client, 1, timeout=15)
        except Failure as e:
            raise Failure(f"start {run + 1}: {e}: the second session never started (did its "
                          "start message reach reactor 1 before the client set that core up?)") \
                from None
        client.stop_ok()
    server.stop_ok()


CASES = {
    "streams_100": case_streams_100,
    "three_tunnels": case_three_tunnels,
    "two_clients": case_two_clients,
    "max_clients": case_max_clients,
    "allowed_ports": case_allowed_ports,
    "bad_token": case_bad_token,
    "unknown_key": case_unknown_key,
    "server_key_changed": case_server_key_changed,
    "mitm_flip": case_mitm_flip,
    "stalled_reader": case_stalled_reader,
    "file_modes": case_file_modes,
    "trust_first_client": case_trust_first_client,
    "server_fingerprint": case_server_fingerprint,
    "localhost_both": case_localhost_both,
    "stream_limit_waits": case_stream_limit_waits,
    "bad_usage": case_bad_usage,
    "server_port_zero": case_server_port_zero,
    "client_second_session": case_client_second_session,
}


if __name__ == "__main__":
    sys.exit(run_cases(CASES, __doc__))
