#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Integration: a client that survives its server and its network (real processes, 127.0.0.1).

The server killed with SIGKILL mid-transfer and started again; a client started before its
server; connections that wait for a session and those that give up (--connect-wait); a network
that goes silent (the heartbeat declares the session dead and the client reconnects); a server
that comes back with another key (the client stops with the warning instead of retrying); drain
on SIGTERM (server and client, within and past --drain-timeout); SIGHUP re-reading
authorized_keys and config.yaml's policy without dropping sessions; a half-close carried
through; loss and delay (tc netem) where the machine allows it.
Usage: resilience_test.py RINGTUNNEL LOADGEN [--case NAME]... [--io-backend auto|io_uring|epoll]
The last stdout line is "N passed, N failed". Standard library only."""
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from tunnel_harness import *  # noqa: F401,F403 (the harness is this file's vocabulary)
from tunnel_harness import Failure, Skip, Test

FAST_HEARTBEAT = ["--heartbeat-interval", "0.2", "--heartbeat-timeout", "1.5"]


def ups(client):
    """How many times the client logged a session coming up."""
    return len(re.findall(r"session \d+ to \S+: up", client.text()))


def wait_up(client, count, what, timeout=20):
    deadline = time.monotonic() + timeout
    while ups(client) < count:
        check(client.alive(), f"{client.name} exited while waiting for {what}")
        check(time.monotonic() < deadline, f"{client.name}: no {what} within {timeout} s "
              f"({ups(client)} session(s) came up in all)")
        time.sleep(0.05)


def restart_server(t, name, old):
    """A new server process on the same port with the same data dir (same key)."""
    return t.server(name, old.data_dir, port=old.port)


class Streamer:
    """One connection through the tunnel that sends and reads back echoes until told to stop or
    until the connection fails; records how it ended."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sent = self.echoed = 0
        self.error = None
        self.ended = threading.Event()
        self.flowing = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        chunk = os.urandom(16384)
        try:
            self.sock.settimeout(15)
            while True:
                self.sock.sendall(chunk)
                self.sent += len(chunk)
                got = 0
                while got < len(chunk):
                    data = self.sock.recv(len(chunk) - got)
                    if not data:
                        raise ConnectionError("EOF")
                    got += len(data)
                self.echoed += got
                if self.echoed >= 1 << 20:
                    self.flowing.set()
        except (OSError, ConnectionError) as e:
            self.error = e
        finally:
            self.ended.set()
            self.sock.close()


class PacedTransfer:
    """One echo transfer of `total` bytes, sent at about `rate` bytes/s (so it is still running
    when the test acts), every byte compared; `ok` once it has all come back."""

    def __init__(self, port, total=6 << 20, rate=3 << 20):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.payload = os.urandom(total)
        self.rate, self.received = rate, bytearray()
        self.ok, self.error, self.done = False, None, threading.Event()
        self.started = threading.Event()
        threading.Thread(target=self._send, daemon=True).start()
        threading.Thread(target=self._receive, daemon=True).start()

    @classmethod
    def running(cls, port):
        """A transfer that has been flowing for half a second (well before it is done)."""
        transfer = cls(port)
        check(transfer.started.wait(10), "the transfer did not start")
        time.sleep(0.5)
        return transfer

    def _send(self):
        try:
            begin, step = time.monotonic(), 65536
            for offset in range(0, len(self.payload), step):
                self.sock.sendall(self.payload[offset:offset + step])
                self.started.set()
                ahead = begin + (offset + step) / self.rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            self.sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            self.error = self.error or e

    def _receive(self):
        try:
            self.sock.settimeout(30)
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                self.received += data
            self.ok = bytes(self.received) == self.payload
        except OSError as e:
            self.error = self.error or e
        finally:
            self.done.set()

    def check_complete(self, what, timeout=30):
        check(self.done.wait(timeout), f"{what}: the transfer did not finish within {timeout} s")
        check(self.ok, f"{what}: the transfer was cut or corrupted ({len(self.received)} of "
              f"{len(self.payload)} bytes back, error {self.error})")
        self.sock.close()


def case_server_killed(t):
    """kill -9 the server mid-transfer, start it again: the transfer fails cleanly (reset or EOF,
    no hang), the listener never closes, a connection made during the outage waits and then
    works, the client reconnects within the backoff, and new connections work."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"))
    client, port = t.enrolled("client", server, t.path("client-data"), echo)
    streamer = Streamer(port)
    check(streamer.flowing.wait(15), "no data flowed through the tunnel before the kill")
    server.popen.kill()
    server.wait_exit()
    server.done = True
    check(streamer.ended.wait(10), "the transfer did not end within 10 s of the server's death "
          "(the client should reset it)")
    check(streamer.error is not None, "the transfer ended without an error")
    client.wait_for(r"session 0 to \S+: lost: .*; trying again in \d",
                    "that the session ended and when it tries again", timeout=10)
    # The listener stays open: a connection made now is accepted and waits for a session.
    waiting = socket.create_connection(("127.0.0.1", port), timeout=5)
    waiting.sendall(b"made during the outage")
    waiting.shutdown(socket.SHUT_WR)
    lost_at = time.monotonic()
    server = restart_server(t, "server-again", server)
    wait_up(client, 2, "reconnection", timeout=12)
    took = time.monotonic() - lost_at
    check(read_all(waiting, 15) == b"made during the outage",
          "the connection made during the outage did not get its echo once the session was back")
    waiting.close()
    print(f"the session was back {took:.1f} s after the server restart began")
    t.verify("verify", port, 10)
    client.stop_ok()
    found = re.search(r"client stopped after \d+ s: .* (\d+) reconnect\(s\)", client.text())
    check(found and found.group(1) == "1", "the client's totals do not show 1 reconnect: "
          f"{found.group(0) if found else 'no client stopped line'}")
    server.stop_ok()


def case_client_before_server(t):
    """A client started while its server is down keeps trying (with backoff, logged) and comes
    up once the server starts; connections made meanwhile wait and are then carried."""
    echo = t.echo()
    first = t.server("server-first", t.path("server-data"))  # makes the key and the token
    first.stop_ok()
    client = t.client("client", t.path("client-data"), first.port, [fwd(echo.port)],
                      token=first.token, args=["--server-fingerprint", first.fingerprint])
    client.wait_for(r"cannot connect to the server .*; trying again in", "a failed attempt")
    client.wait_for(r"cannot connect to the server (?s:.*)cannot connect to the server",
                    "a second attempt (backoff)", timeout=10)
    server = restart_server(t, "server", first)
    tunnels = t.ready(client, 1, timeout=40)
    t.verify("verify", t.accepted_port(tunnels, fwd(echo.port)), 5)
    pauses = [float(p) for p in re.findall(r"trying again in ([\d.]+) s", client.text())]
    check(len(pauses) >= 2 and pauses[1] > pauses[0] * 1.5,
          f"the pauses between attempts do not grow: {pauses}")
    client.stop_ok()
    server.stop_ok()


def case_connect_wait(t):
    """With the server gone, a local connection waits --connect-wait and is then closed with a
    log line naming the tunnel; the client keeps running."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"))
    client = t.client("client", t.path("client-data"), server.port, [fwd(echo.port)],
                      token=server.token, args=["--connect-wait", "1"])
    port = t.accepted_port(t.ready(client, 1), fwd(echo.port))
    server.stop_ok()
    client.wait_for(r"trying again in", "that it lost the session")
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"anyone?")
        try:
            got = read_all(s, 10)
        except ConnectionResetError:
            got = b""
    waited = time.monotonic() - started
    check(got == b"", f"a connection with no session got {got!r}")
    check(0.8 <= waited <= 5, f"the connection was closed after {waited:.1f} s; --connect-wait "
          "is 1 s")
    client.wait_for(rf"tunnel {re.escape(fwd(echo.port))}: no session to the server came up "
                    r"within --connect-wait 1\.0 s; connection closed", "the give-up line")
    check(client.alive(), "the client exited")
    client.stop_ok()
    check(re.search(r"client stopped after \d+ s: .* 0 reconnect\(s\)", client.text()),
          "a session lost and never set up again was counted as a reconnect")


def case_silent_network(t):
    """The network between client and server goes silent (no FIN, no RST): both ends' heartbeats
    declare the session dead (idle_timeout) within their timeout, and once the network is back
    the client reconnects and carries new connections."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"), args=FAST_HEARTBEAT)
    proxy = FlipProxy(server.port)
    try:
        client = t.client("client", t.path("client-data"), proxy.port, [fwd(echo.port)],
                          token=server.token, args=FAST_HEARTBEAT)
        port = t.accepted_port(t.ready(client, 1), fwd(echo.port))
        check(echo_roundtrip(port, b"before") == b"before", "no echo through the proxy")
        time.sleep(2)  # several timeouts long: PINGs keep an idle session alive
        check(ups(client) == 1 and "idle_timeout" not in client.text(),
              "an idle but healthy session was declared dead")
        proxy.frozen.set()
        silent_at = time.monotonic()
        client.wait_for(r"nothing heard from the peer for 1\.5 s; the connection is dead",
                        "that the silent session is dead", timeout=10)
        took = time.monotonic() - silent_at
        check(took <= 5, f"the dead session was noticed after {took:.1f} s (timeout 1.5 s)")
        server.wait_for(r"nothing heard from the peer", "the server noticing it too", timeout=10)
        proxy.frozen.clear()
        wait_up(client, 2, "reconnection through the restored network", timeout=15)
        t.verify("verify", port, 5)
        client.stop_ok()
    finally:
        proxy.close()
    server.stop_ok()


def case_key_changed_on_reconnect(t):
    """The server comes back with a different key: the client does not retry in a loop; it
    prints the WARNING with both fingerprints and exits 1."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"))
    client, port = t.enrolled("client", server, t.path("client-data"), echo)
    server.stop_ok()
    impostor = t.server("impostor", t.path("other-server-data"), port=server.port,
                        args=["--trust-first-client"])
    client.expect_exit(1, timeout=20)
    text = client.text()
    check("WARNING: SERVER IDENTITY HAS CHANGED!" in text, "no identity-changed warning")
    check(server.fingerprint in text and impostor.fingerprint in text,
          "the warning does not name both fingerprints")
    check(len(re.findall(r"IDENTITY HAS CHANGED", text)) == 1, "the warning came more than once")
    impostor.stop_ok()


def case_server_drain(t):
    """SIGTERM on the server with a long transfer running: no new sessions, GOAWAY, the transfer
    completes within the drain window, the server exits 0; the client goes looking for a new
    session (not exiting) and finds one when the server is started again."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"))
    client, port = t.enrolled("client", server, t.path("client-data"), echo)
    transfer = PacedTransfer.running(port)
    server.terminate()
    rc = server.wait_exit(20)
    transfer.check_complete("SIGTERM on the server during a transfer")
    check(rc == 0, f"the draining server exited with {describe_status(rc)}, expected 0")
    check(re.search(r"draining 1 session\(s\) with 1 open stream", server.text()),
          "the server did not log what it drains")
    client.wait_for(r"the server is going away \(shutting_down", "the GOAWAY", timeout=5)
    client.wait_for(r"session 0 to \S+: the server is going away.*; trying again in",
                    "that it will set up a new session", timeout=5)
    check(client.alive(), "the client exited on GOAWAY")
    server = restart_server(t, "server-again", server)
    wait_up(client, 2, "a session to the restarted server", timeout=40)
    t.verify("verify", port, 5)
    client.stop_ok()
    server.stop_ok()


def case_drain_timeout(t):
    """A stream that never ends does not hold a stopping server beyond --drain-timeout: it is
    closed then, and the server exits 0."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"), args=["--drain-timeout", "1"])
    client, port = t.enrolled("client", server, t.path("client-data"), echo)
    idle = socket.create_connection(("127.0.0.1", port), timeout=10)
    idle.sendall(b"hello")
    check(read_exactly(idle, 5, 10) == b"hello", "no echo on the idle stream")
    started = time.monotonic()
    server.terminate()
    rc = server.wait_exit(15)
    took = time.monotonic() - started
    check(rc == 0, f"the server exited with {describe_status(rc)}, expected 0")
    check(0.8 <= took <= 6, f"the server took {took:.1f} s to stop with --drain-timeout 1")
    check("the drain timeout passed" in server.text(), "no drain-timeout line")
    try:
        rest = read_all(idle, 10)
    except ConnectionResetError:
        rest = b""
    check(rest == b"", f"the cut stream got {rest!r}")
    idle.close()
    client.stop_ok()


def case_client_drain(t):
    """SIGTERM on the client with a transfer running: its listener closes, the transfer
    completes, the client exits 0 and prints its totals."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"))
    client, port = t.enrolled("client", server, t.path("client-data"), echo)
    transfer = PacedTransfer.running(port)
    client.terminate()
    deadline = time.monotonic() + 5
    refused = False
    while time.monotonic() < deadline and not refused:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            time.sleep(0.05)
        except OSError:
            refused = True
    check(refused, "the draining client's listener still accepts connections")
    transfer.check_complete("SIGTERM on the client during a transfer")
    rc = client.wait_exit(20)
    check(rc == 0, f"the client exited with {describe_status(rc)}, expected 0")
    found = re.search(r"client stopped after \d+ s: (\d+) streams .* (\d+) bytes sent", client.text())
    check(found and int(found.group(2)) >= len(transfer.payload),
          f"the client's totals do not count the transfer: {found.group(0) if found else None}")
    server.stop_ok()


def case_reload_keys(t):
    """SIGHUP on the server re-reads authorized_keys without touching other sessions: a client
    whose key was removed is closed and stops (unknown key, exit 1); the others keep their
    sessions and keep working."""
    echo = t.echo()
    server = t.server("server", t.path("server-data"))
    keep, keep_port = t.enrolled("client-keep", server, t.path("keep-data"), echo)
    enrolling, _ = t.enrolled("client-gone-enrol", server, t.path("gone-data"), echo)
    enrolling.stop_ok()
    # Enrolled once; from now on without the token (with it, it would simply enrol again:
    # revoking a key means rotating the token too).
    gone = t.client("client-gone", t.path("gone-data"), server.port, [fwd(echo.port)])
    t.ready(gone, 1)
    check(remove_authorized(server, client_fingerprint(enrolling)) == 1,
          "the removed client's key was not in authorized_keys")
    server.popen.send_signal(signal.SIGHUP)
    server.wait_for(r"reload: 1 authorized key\(s\) \(was 2\); 1 connected client\(s\) no "
                    r"longer listed", "the reload line", timeout=10)
    gone.expect_exit(1, timeout=20)
    check(re.search(r"does not know this client's key", gone.text()),
          "the removed client was not told that its key is unknown")
    t.verify("verify", keep_port, 5)
    check(ups(keep) == 1, "the client whose key stayed lost its session on reload")
    keep.stop_ok()
    server.stop_ok()


def case_reload_policy(t):
    """SIGHUP on the server re-reads config.yaml's server: section: a port the file did not
    allow is refused, then allowed after the reload on the same session (none is dropped); a
    file with an error changes nothing and the log says where the error is."""
    echo = t.echo()
    data = t.path("server-data")
    os.makedirs(data, mode=0o700)
    config = os.path.join(data, "config.yaml")

    def write_config(text):
        with open(config, "w") as f:
            f.write(text)

    write_config("server:\n  allowed_ports: [1]\n  max_clients: 4\n")
    server = t.server("server", data)
    check("server policy: ports: 1; hosts: localhost; at most 4 clients" in server.text(),
          "the server did not take its policy from config.yaml")
    spec = fwd(echo.port)
    client = t.client("client", t.path("client-data"), server.port, [spec], token=server.token)
    port, line = t.ready(client, 1)[spec]
    check("the server refuses it: port_not_allowed" in line,
          f"the tunnel was not refused before the reload: {line}")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"refused?")
        check(read_all(s, 10) == b"", "a refused tunnel echoed bytes")
    write_config(f"server:\n  allowed_ports: [1, {echo.port}]\n")
    server.popen.send_signal(signal.SIGHUP)
    server.wait_for(rf"reload: server policy: ports: 1,{echo.port}; hosts: localhost; at most 10 "
                    r"clients \(was: ports: 1; hosts: localhost; at most 4\)", "the reload line",
                    timeout=10)
    t.verify("verify", port, 5)
    write_config("server:\n  allowed_ports: [1, 70000]\n")
    server.popen.send_signal(signal.SIGHUP)
    server.wait_for(r"reload: \S*config\.yaml:2: server\.allowed_ports: port 70000 .*; the policy "
                    rf"stays as it was \(ports: 1,{echo.port};", "the reload error", timeout=10)
    t.verify("verify-after-error", port, 5)
    check(ups(client) == 1, "the client lost its session on a reload")
    client.stop_ok()
    server.stop_ok()


def case_lossy_network(t):
    """Where this machine allows network namespaces and tc netem: client and server in two
    namespaces joined by a veth pair with 30 ms delay and 1 % loss each way; 20 verified streams
    complete and the session survives. Elsewhere it exits 77 and says why."""
    if os.geteuid() != 0:
        raise Skip("creating network namespaces needs root")
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            raise Skip(f"'{tool}' (iproute2) is not installed")
    tag = f"rt{os.getpid() % 100000}"
    ns_server, ns_client = tag + "s", tag + "c"
    server_ip, client_ip = "10.201.0.1", "10.201.0.2"

    def run(*argv):
        return subprocess.run(argv, capture_output=True, text=True)

    def in_ns(ns, *argv):
        return ["ip", "netns", "exec", ns, *argv]

    setup = [
        ("ip", "netns", "add", ns_server), ("ip", "netns", "add", ns_client),
        ("ip", "link", "add", tag + "a", "netns", ns_server, "type", "veth", "peer", "name",
         tag + "b", "netns", ns_client),
        ("ip", "-n", ns_server, "addr", "add", server_ip + "/24", "dev", tag + "a"),
        ("ip", "-n", ns_client, "addr", "add", client_ip + "/24", "dev", tag + "b"),
        ("ip", "-n", ns_server, "link", "set", tag + "a", "up"),
        ("ip", "-n", ns_client, "link", "set", tag + "b", "up"),
        ("ip", "-n", ns_server, "link", "set", "lo", "up"),
        ("ip", "-n", ns_client, "link", "set", "lo", "up"),
    ]
    try:
        for cmd in setup:
            done = run(*cmd)
            if done.returncode != 0:
                raise Skip(f"cannot set up network namespaces here: {' '.join(cmd)}: "
                           f"{done.stderr.strip()}")
        for ns, dev in ((ns_server, tag + "a"), (ns_client, tag + "b")):
            netem = run(*in_ns(ns, "tc", "qdisc", "add", "dev", dev, "root", "netem", "delay",
                               "30ms", "loss", "1%"))
            if netem.returncode != 0:
                raise Skip(f"tc netem is not available ({netem.stderr.strip()}): this kernel has "
                           "no sch_netem, so loss and delay cannot be added")
        echo = t.spawn("echo", in_ns(ns_server, t.loadgen, "server", "--listen", "127.0.0.1:0",
                                     "--mode", "echo"))
        echo_port = int(echo.wait_for(r"listening on 127\.0\.0\.1:(\d+)", "its port").group(1))
        data = t.path("server-data")
        server = t.spawn("server", in_ns(ns_server, t.rt, "server", "--bind", server_ip,
                                         "--port", "9000", "--data-dir", data, "--threads", "2",
                                         *t.backend_args))
        server.wait_for(r"server ready", "'server ready'")
        token = open(os.path.join(data, "server_token")).read().strip()
        spec = f"127.0.0.1:0:127.0.0.1:{echo_port}"
        client = t.spawn("client", in_ns(ns_client, t.rt, "client", "--ip", server_ip, "--port",
                                         "9000", "--data-dir", t.path("client-data"),
                                         "--sessions", "1", "-L", spec, "--token", token,
                                         "--accept-new-host", *t.backend_args))
        port = t.accepted_port(t.ready(client, 1, timeout=60), spec)
        verify = t.spawn("verify", in_ns(ns_client, t.loadgen, "verify", "--connect",
                                         f"127.0.0.1:{port}", "--connections", "20",
                                         "--min-bytes", "1", "--max-bytes", "262144",
                                         "--seed", "7", "--timeout", "120"))
        print(t.finish_verify(verify, 20, timeout=120))
        check(ups(client) == 1, "the session did not survive the lossy network")
        client.stop_ok()
        server.stop_ok()
        echo.stop_ok()
    finally:
        for ns in (ns_server, ns_client):
            run("ip", "netns", "del", ns)


class AnswerAfterEof:
    """A service that reads its request until EOF (the client's half-close) and only then sends
    a long answer: the request's SHA-256 followed by `size` bytes, and closes."""

    def __init__(self, size=4 << 20):
        self.size = size
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    @staticmethod
    def answer_for(request, size):
        return hashlib.sha256(request).digest() + bytes(i % 251 for i in range(size))

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                request = bytearray()
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    request += data
                conn.sendall(self.answer_for(bytes(request), self.size))

    def close(self):
        self.listener.close()


def case_half_close(t):
    """A client that shuts down its write side still gets the full response: the FIN crosses the
    tunnel, the service answers only after it, and every byte of the answer arrives."""
    service = AnswerAfterEof()
    try:
        server = t.server("server", t.path("server-data"))
        spec = fwd(service.port)
        client = t.client("client", t.path("client-data"), server.port, [spec],
                          token=server.token)
        port = t.accepted_port(t.ready(client, 1), spec)
        request = os.urandom(1 << 20)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(request)
            s.shutdown(socket.SHUT_WR)
            answer = read_all(s, 30)
        expected = AnswerAfterEof.answer_for(request, service.size)
        check(len(answer) == len(expected), f"{len(answer)} answer bytes, expected "
              f"{len(expected)}")
        check(answer == expected, "the answer after the half-close is not byte-exact")
        client.stop_ok()
        server.stop_ok()
    finally:
        service.close()


CASES = {
    "server_killed": case_server_killed,
    "client_before_server": case_client_before_server,
    "connect_wait": case_connect_wait,
    "silent_network": case_silent_network,
    "key_changed_on_reconnect": case_key_changed_on_reconnect,
    "server_drain": case_server_drain,
    "drain_timeout": case_drain_timeout,
    "client_drain": case_client_drain,
    "reload_keys": case_reload_keys,
    "reload_policy": case_reload_policy,
    "lossy_network": case_lossy_network,
    "half_close": case_half_close,
}


if __name__ == "__main__":
    sys.exit(run_cases(CASES, __doc__))
