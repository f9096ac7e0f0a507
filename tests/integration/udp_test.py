#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Integration: UDP tunnels (-L ...:udp) through real processes on 127.0.0.1 and ::1.

10,000 datagrams of random sizes from 1 to 65,507 bytes through a UDP echo, from several
source ports at once (IPv4 and IPv6), each checked byte for byte and by SHA-256; flows that
expire after --udp-idle-timeout and come back; the --udp-max-flows cap; a tunnel the server
refuses; replies from the address a wildcard-bound tunnel was sent to; a TCP and a UDP tunnel
on the same local port.
Usage: udp_test.py RINGTUNNEL LOADGEN [--case NAME]... [--io-backend auto|io_uring|epoll]
The last stdout line is "N passed, N failed". Standard library only."""
import hashlib
import random
import re
import socket
import sys
import threading
import time

from tunnel_harness import *  # noqa: F401,F403 (the harness is this file's vocabulary)
from tunnel_harness import Failure, Test

MAX_DATAGRAM = 65507
BUFFER = 4 * 1024 * 1024  # socket buffers: a few of the largest datagrams in flight fit


class UdpEcho:
    """A UDP echo service on 127.0.0.1 (a thread): every datagram back to its source."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, BUFFER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, BUFFER)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.sources = set()
        self.count = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                data, source = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.sources.add(source)
            self.count += 1
            self.sock.sendto(data, source)

    def close(self):
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


def udp_socket(family=socket.AF_INET, timeout=10.0):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, BUFFER)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, BUFFER)
    s.settimeout(timeout)
    return s


def udp_spec(target_port, bind="127.0.0.1", local_port=0):
    return f"{bind}:{local_port}:127.0.0.1:{target_port}:udp"


def roundtrip(sock, address, payload, timeout=10.0):
    """Sends one datagram and returns the next one back (None on timeout)."""
    sock.settimeout(timeout)
    sock.sendto(payload, address)
    try:
        return sock.recvfrom(65536)[0]
    except socket.timeout:
        return None


def udp_ready(t, client, tunnels):
    """{tunnel name: local port} once the client is ready; every tunnel accepted."""
    found = t.ready(client, tunnels)
    ports = {}
    for name, (port, line) in found.items():
        check("the server accepts" in line, f"tunnel {name} is not accepted by the server: {line}")
        ports[name] = port
    return ports


def stop_line(proc, pattern, what):
    found = re.search(pattern, proc.text())
    check(found, f"{proc.name}'s stop line does not show {what}: "
          f"{proc.text().strip().splitlines()[-1]}")
    return found


def case_echo_10000(t):
    """10,000 datagrams of random sizes 1..65,507 bytes from 5 source ports at once (one of them
    over ::1) come back whole, each to its own source, byte for byte; the counters agree."""
    echo = UdpEcho()
    try:
        server = t.server("server", t.path("server-data"))
        spec = udp_spec(echo.port, bind="localhost")
        client = t.client("client", t.path("client-data"), server.port, [spec],
                          token=server.token, sessions=None)
        port = udp_ready(t, client, 1)[spec]
        senders, total = 5, 10000
        results = [None] * senders

        def send(index):
            family, host = ((socket.AF_INET6, "::1") if index == 0
                            else (socket.AF_INET, "127.0.0.1"))
            rng = random.Random(1000 + index)
            sent_digest, back_digest = hashlib.sha256(), hashlib.sha256()
            ok = 0
            with udp_socket(family) as s:
                for _ in range(total // senders):
                    payload = rng.randbytes(rng.randint(1, MAX_DATAGRAM))
                    sent_digest.update(len(payload).to_bytes(4, "big") + payload)
                    back = roundtrip(s, (host, port), payload)
                    if back is None:
                        break
                    back_digest.update(len(back).to_bytes(4, "big") + back)
                    ok += back == payload
            results[index] = (ok, sent_digest.hexdigest() == back_digest.hexdigest())

        threads = [threading.Thread(target=send, args=(i,)) for i in range(senders)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=240)
        seconds = time.monotonic() - started
        check(all(r is not None for r in results), "a sender did not finish")
        good = sum(r[0] for r in results)
        check(good == total, f"{good}/{total} datagrams came back intact ({results})")
        check(all(r[1] for r in results), "the SHA-256 of what came back differs from what was sent")
        print(f"{total} datagrams echoed intact in {seconds:.1f} s from {senders} sources")
        check(len(echo.sources) == senders,
              f"the service saw {len(echo.sources)} sources, expected one per flow ({senders})")
        client.stop_ok()
        found = stop_line(client, r"; (\d+) UDP flows \((\d+) expired\), (\d+) datagrams sent, "
                          r"(\d+) received, (\d+) dropped", "its UDP counts")
        check(found.groups() == (str(senders), "0", str(total), str(total), "0"),
              f"client UDP counts: {found.group(0)}")
        server.stop_ok()
        found = stop_line(server, r"; (\d+) UDP flows, (\d+) datagrams in, (\d+) out, (\d+) dropped",
                          "its UDP counts")
        check(found.groups() == (str(senders), str(total), str(total), "0"),
              f"server UDP counts: {found.group(0)}")
    finally:
        echo.close()


def case_flow_expiry(t):
    """A flow idle for --udp-idle-timeout ends (counted as expired); the same source then
    opens a new flow that works."""
    echo = UdpEcho()
    try:
        server = t.server("server", t.path("server-data"))
        spec = udp_spec(echo.port)
        client = t.client("client", t.path("client-data"), server.port, [spec],
                          token=server.token, args=["--udp-idle-timeout", "0.5", "-v"])
        port = udp_ready(t, client, 1)[spec]
        with udp_socket() as s:
            check(roundtrip(s, ("127.0.0.1", port), b"first") == b"first", "no echo of 'first'")
            client.wait_for(r"no datagram for 0\.5 s; flow ended", "the flow's expiry", timeout=10)
            check(roundtrip(s, ("127.0.0.1", port), b"second") == b"second",
                  "no echo after the flow expired")
        client.stop_ok()
        stop_line(client, r"; 2 UDP flows \(1 expired\), 2 datagrams sent, 2 received, 0 dropped",
                  "2 flows, 1 expired")
        server.stop_ok()
        stop_line(server, r"; 2 UDP flows, 2 datagrams in, 2 out, 0 dropped", "2 flows")
    finally:
        echo.close()


def case_flow_cap(t):
    """--udp-max-flows 2: a third source is dropped (counted, logged) while two flows live, and
    is carried once one of them has expired."""
    echo = UdpEcho()
    try:
        server = t.server("server", t.path("server-data"))
        spec = udp_spec(echo.port)
        client = t.client("client", t.path("client-data"), server.port, [spec],
                          token=server.token,
                          args=["--udp-max-flows", "2", "--udp-idle-timeout", "1", "-v"])
        port = udp_ready(t, client, 1)[spec]
        a, b, c = udp_socket(), udp_socket(), udp_socket()
        try:
            check(roundtrip(a, ("127.0.0.1", port), b"a") == b"a", "no echo for source a")
            check(roundtrip(b, ("127.0.0.1", port), b"b") == b"b", "no echo for source b")
            check(roundtrip(c, ("127.0.0.1", port), b"c", timeout=0.3) is None,
                  "a third flow was carried past --udp-max-flows 2")
            client.wait_for(r"datagram dropped: the tunnel has --udp-max-flows flows already",
                            "the drop's log line")
            client.wait_for(r"flow ended", "an expiry", timeout=10)
            client.wait_for(r"flow ended(.|\n)*flow ended", "both expiries", timeout=10)
            check(roundtrip(c, ("127.0.0.1", port), b"c") == b"c",
                  "no echo for source c after the other flows expired")
        finally:
            a.close()
            b.close()
            c.close()
        client.stop_ok()
        stop_line(client, r"; 3 UDP flows \(2 expired\), 3 datagrams sent, 3 received, 1 dropped",
                  "3 flows and 1 drop")
    finally:
        echo.close()


def case_refused(t):
    """A UDP tunnel the server's --allowed-ports refuses: reported at start; datagrams get no
    answer, are counted as dropped, and a steady sender causes a refusal per second at most,
    not one per datagram."""
    echo = UdpEcho()
    try:
        server = t.server("server", t.path("server-data"), args=["--allowed-ports", "1"])
        spec = udp_spec(echo.port)
        client = t.client("client", t.path("client-data"), server.port, [spec],
                          token=server.token)
        client.wait_for(rf"tunnel {re.escape(spec)}: listening on [\d.]+:(\d+), but the server "
                        r"refuses it: port_not_allowed", "the refusal at start")
        port = int(re.search(rf"tunnel {re.escape(spec)}: listening on [\d.]+:(\d+)",
                             client.text()).group(1))
        with udp_socket() as s:
            for i in range(40):
                s.sendto(b"x%d" % i, ("127.0.0.1", port))
                time.sleep(0.01)
            s.settimeout(0.3)
            try:
                s.recvfrom(100)
                raise Failure("a datagram came back through a refused tunnel")
            except socket.timeout:
                pass
        check(echo.count == 0, f"the service received {echo.count} datagrams")
        client.stop_ok()
        refusals = len(re.findall(r"refused by the peer", client.text()))
        check(1 <= refusals <= 3, f"{refusals} refusals logged for 40 datagrams in ~0.5 s")
        # The first datagram of each try goes early, with the OPEN that is then refused.
        found = stop_line(client, r"; (\d+) UDP flows \(0 expired\), (\d+) datagrams sent, "
                          r"0 received, (\d+) dropped", "the drops")
        tries, early, dropped = map(int, found.groups())
        check(tries == refusals and early == tries and dropped == 40 - tries,
              f"expected {refusals} tries, each with one datagram, and the rest dropped: "
              f"{found.group(0)}")
    finally:
        echo.close()


def case_wildcard_bind(t):
    """A UDP tunnel bound to 0.0.0.0 answers from the address it was sent to (127.0.0.2 here),
    so an application that connect()ed its socket, as resolvers do, gets the reply."""
    echo = UdpEcho()
    try:
        server = t.server("server", t.path("server-data"))
        spec = udp_spec(echo.port, bind="0.0.0.0")
        client = t.client("client", t.path("client-data"), server.port, [spec],
                          token=server.token)
        port = udp_ready(t, client, 1)[spec]
        for address in ("127.0.0.2", "127.0.0.1"):
            with udp_socket(timeout=5) as s:
                s.connect((address, port))  # only replies from address:port get through
                s.send(b"from " + address.encode())
                try:
                    back = s.recv(100)
                except socket.timeout:
                    raise Failure(f"no reply reached a socket connected to {address}:{port} "
                                  "(the reply left from another address?)") from None
                check(back == b"from " + address.encode(), f"wrong reply via {address}: {back!r}")
        client.stop_ok()
        stop_line(client, r"; 2 UDP flows \(0 expired\), 2 datagrams sent, 2 received, 0 dropped",
                  "two flows")
    finally:
        echo.close()


def case_tcp_and_udp_same_port(t):
    """-L P:tcp_service and -L P:udp_service:udp on the same local port both work."""
    echo = UdpEcho()
    try:
        tcp_echo = t.echo()
        server = t.server("server", t.path("server-data"))
        tcp_spec = fwd(tcp_echo.port)
        first = t.client("probe", t.path("probe-data"), server.port, [tcp_spec],
                         token=server.token)
        local = t.accepted_port(t.ready(first, 1), tcp_spec)
        first.stop_ok()
        tcp_spec = fwd(tcp_echo.port, local)
        spec = udp_spec(echo.port, local_port=local)
        client = t.client("client", t.path("probe-data"), server.port, [tcp_spec, spec])
        ports = udp_ready(t, client, 2)
        check(ports[spec] == local and ports[tcp_spec] == local,
              f"the tunnels listen on {ports}, expected port {local} for both")
        payload = os.urandom(100000)
        check(echo_roundtrip(local, payload) == payload, "the TCP tunnel did not echo")
        with udp_socket() as s:
            check(roundtrip(s, ("127.0.0.1", local), b"udp") == b"udp", "the UDP tunnel did not echo")
        client.stop_ok()
        server.stop_ok()
    finally:
        echo.close()


CASES = {
    "echo_10000": case_echo_10000,
    "flow_expiry": case_flow_expiry,
    "flow_cap": case_flow_cap,
    "refused": case_refused,
    "wildcard_bind": case_wildcard_bind,
    "tcp_and_udp_same_port": case_tcp_and_udp_same_port,
}


if __name__ == "__main__":
    sys.exit(run_cases(CASES, __doc__))
