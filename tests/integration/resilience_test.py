#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Integration: a client that survives its server and its network (real processes, 127.0.0.1).

The server killed with SIGKILL mid-transfer and started again; a client started before its
server; connections that wait for a session and those that give up (--connect-wait); a network
that goes silent (the heartbeat declares the session dead and the client reconnects); a server
that comes back with another key (the client stops with the warning instead of retrying).
Usage: resilience_test.py RINGTUNNEL LOADGEN [--case NAME]... [--io-backend auto|io_uring|epoll]
The last stdout line is "N passed, N failed". Standard library only."""
import os
import re
import socket
import sys
import threading
import time

from tunnel_harness import *  # noqa: F401,F403 (the harness is this file's vocabulary)
from tunnel_harness import Failure, Test

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


CASES = {
    "server_killed": case_server_killed,
    "client_before_server": case_client_before_server,
    "connect_wait": case_connect_wait,
    "silent_network": case_silent_network,
    "key_changed_on_reconnect": case_key_changed_on_reconnect,
}


if __name__ == "__main__":
    sys.exit(run_cases(CASES, __doc__))
