#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Integration: exposed ports (client -R) through real processes on 127.0.0.1.

A TCP echo published through the server with 100 concurrent visitors checked byte for byte;
the refusals (a port the server does not allow, a port something else holds, a port another
client's key has claimed) each named to the client while the other tunnels go on; a client
killed without a goodbye whose restart (same key) reclaims its port at once, long before the
server could notice the old session is dead; the port closing with the session; a PROXY v2
header, parsed by an independent service, naming the real visitor; a profile's `expose:` list;
a UDP echo exposed with datagrams up to 65,507 bytes from several visitors.
Usage: expose_test.py RINGTUNNEL LOADGEN [--case NAME]... [--io-backend auto|io_uring|epoll]
The last stdout line is "N passed, N failed". Standard library only."""
import os
import random
import re
import signal
import socket
import sys
import threading
import time

from tunnel_harness import *  # noqa: F401,F403 (the harness is this file's vocabulary)
from tunnel_harness import Failure, Test
from udp_test import MAX_DATAGRAM, UdpEcho, roundtrip, udp_socket

HERE = os.path.dirname(os.path.abspath(__file__))


def exposing_client(t, name, data_dir, server, exposes, args=()):
    """A client with only -R tunnels (enrolled with the server's token), once it is ready."""
    argv = [t.rt, "client", "--ip", "127.0.0.1", "--port", str(server.port), "--data-dir",
            data_dir, "--threads", "2", "--sessions", "1", "--accept-new-host", "--token",
            server.token, *t.backend_args]
    for spec in exposes:
        argv += ["-R", spec]
    client = t.spawn(name, argv + list(args))
    client.wait_for(r"client ready: 0 tunnel\(s\) over 1 session\(s\)", "'client ready'")
    return client


def wait_exposed(client, port, what="the exposure granted"):
    return client.wait_for(rf"expose (\S+:)?{port}:\S+: the server listens on \S+ port {port}\b",
                           what)


def connect_refused(port, timeout=10.0):
    """True once nothing listens on 127.0.0.1:port (bounded by `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                pass
        except ConnectionRefusedError:
            return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def case_tcp_echo_100(t):
    """-R PUBLIC:echo: 100 concurrent visitors on the server's public port each get their own
    random bytes back, through the client's local echo service."""
    server = t.server("server", t.path("server"), args=["--expose-bind", "127.0.0.1"])
    echo = t.echo()
    public = free_port()
    client = exposing_client(t, "client", t.path("client"), server, [f"{public}:{echo.port}"])
    wait_exposed(client, public)
    server.wait_for(rf"exposure '\S+' \({public}/tcp\): listening on 127\.0\.0\.1:{public}",
                    "the server's listening line")
    t.verify("verify", public, 100, max_bytes=262144)
    check(t.echo_connections(echo) == 100, "the echo service did not see 100 visitors")


def case_refusals(t):
    """A port outside --allowed-ports (port_not_allowed), a port another program holds
    (port_in_use) and a port another client's key holds (port_claimed) are each refused with
    one clear line; the client's other exposure works all the while."""
    echo = t.echo()
    good, held, claimed = free_port(), free_port(), free_port()
    blocked = next(p for p in range(20000, 30000) if p not in (good, held, claimed))
    server = t.server("server", t.path("server"),
                      args=["--expose-bind", "127.0.0.1", "--allowed-ports",
                            f"{good},{held},{claimed}"])
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", held))
    squatter.listen()
    try:
        first = exposing_client(t, "first", t.path("first"), server, [f"{claimed}:{echo.port}"])
        wait_exposed(first, claimed)
        second = exposing_client(t, "second", t.path("second"), server,
                                 [f"{good}:{echo.port}", f"{blocked}:{echo.port}",
                                  f"{held}:{echo.port}", f"{claimed}:{echo.port}"])
        wait_exposed(second, good)
        second.wait_for(rf"expose (\S+:)?{blocked}:\S+: the server refuses it: port_not_allowed: "
                        rf"port {blocked} is not allowed", "the port_not_allowed refusal")
        second.wait_for(rf"expose (\S+:)?{held}:\S+: the server refuses it: port_in_use: "
                        rf"127\.0\.0\.1:{held}/tcp is in use on the server",
                        "the port_in_use refusal")
        second.wait_for(rf"expose (\S+:)?{claimed}:\S+: the server refuses it: port_claimed: "
                        rf"port {claimed}/tcp is exposed by another client",
                        "the port_claimed refusal")
        # Both working exposures carry visitors to their own client.
        t.verify("verify-good", good, 10)
        t.verify("verify-claimed", claimed, 10)
        check(first.alive() and second.alive(), "a refusal ended a client")
    finally:
        squatter.close()


def case_exposure_cap(t):
    """A session may hold 64 exposed ports: of 65 asked for, 64 are granted and the last is
    refused (too_many_streams) while the others carry visitors."""
    server = t.server("server", t.path("server"), args=["--expose-bind", "127.0.0.1"])
    echo = t.echo()
    ports = []
    while len(ports) < 65:
        port = free_port()
        if port not in ports:
            ports.append(port)
    client = exposing_client(t, "client", t.path("client"), server,
                             [f"{p}:{echo.port}" for p in ports])
    client.wait_for(rf"expose (\S+:)?{ports[-1]}:\S+: the server refuses it: too_many_streams: "
                    r"this session already exposes 64 ports", "the 65th exposure refused")
    granted = len(re.findall(r"the server listens on its port", client.text()))
    check(granted == 64, f"{granted} exposures granted, expected 64")
    t.verify("verify-first", ports[0], 3)
    t.verify("verify-64th", ports[63], 3)


def case_reclaim(t):
    """A client that froze (SIGSTOP: its connection stays open, so the server still believes
    in its session for the 60 s heartbeat timeout) is replaced by the same client (same key)
    started again: the new one gets the port at once and visitors reach it; a client with
    another key still cannot take it."""
    server = t.server("server", t.path("server"), args=["--expose-bind", "127.0.0.1"])
    echo = t.echo()
    public = free_port()
    spec = f"{public}:{echo.port}"
    first = exposing_client(t, "first", t.path("client"), server, [spec])
    wait_exposed(first, public)
    t.verify("verify-before", public, 5)
    os.kill(first.popen.pid, signal.SIGSTOP)
    started = time.monotonic()
    again = exposing_client(t, "again", t.path("client"), server, [spec])
    wait_exposed(again, public, "the port reclaimed by the restarted client")
    check(time.monotonic() - started < 20, "reclaiming the port waited for the old session")
    server.wait_for(rf"exposure '\S+' on 127\.0\.0\.1:{public} closed: taken over by a new "
                    rf"session of its client", "the takeover line")
    t.verify("verify-after", public, 20)
    other = exposing_client(t, "other", t.path("other"), server, [spec])
    other.wait_for(rf"the server refuses it: port_claimed", "the refusal to another key")
    first.popen.kill()  # still frozen: SIGTERM would wait for SIGCONT
    first.wait_exit()


def case_port_closes(t):
    """The public port closes when the client's session ends (a clean stop), and both ends
    count its visitors."""
    server = t.server("server", t.path("server"), args=["--expose-bind", "127.0.0.1"])
    echo = t.echo()
    public = free_port()
    client = exposing_client(t, "client", t.path("client"), server, [f"{public}:{echo.port}"])
    wait_exposed(client, public)
    t.verify("verify", public, 3)
    client.stop_ok()
    check(re.search(r"client stopped after .*; 3 visitor\(s\) through -R", client.text()),
          "the client's stop line does not count the 3 visitors")
    server.wait_for(rf"exposure '\S+' on 127\.0\.0\.1:{public} closed: its session ended "
                    r"\(3 visitor\(s\)\)", "the exposure closing with its session")
    check(connect_refused(public), f"port {public} still accepts after the client left")


def case_proxy_v2(t):
    """,proxy_protocol=v2: the local service (an independent parser) reads a PROXY v2 header
    naming the visitor's real address and port and the public address, then the bytes."""
    service = t.spawn("proxy-service", ["/usr/bin/python3",
                                        os.path.join(HERE, "proxy_v2_service.py"),
                                        "--listen", "127.0.0.1:0"])
    service_port = int(service.wait_for(r"listening on 127\.0\.0\.1:(\d+)", "its port").group(1))
    server = t.server("server", t.path("server"), args=["--expose-bind", "127.0.0.1"])
    public = free_port()
    client = exposing_client(t, "client", t.path("client"), server,
                             [f"{public}:{service_port},proxy_protocol=v2"])
    wait_exposed(client, public)
    with socket.create_connection(("127.0.0.1", public), timeout=10) as visitor:
        visitor.settimeout(10)
        own_port = visitor.getsockname()[1]
        visitor.sendall(b"hello through the tunnel\n")
        got = b""
        deadline = time.monotonic() + 10
        while got.count(b"\n") < 2 and time.monotonic() < deadline:
            chunk = visitor.recv(4096)
            if not chunk:
                break
            got += chunk
    lines = got.decode(errors="replace").splitlines()
    check(len(lines) >= 2, f"the service answered {got!r}")
    check(lines[0] == f"PROXY 127.0.0.1 {own_port} 127.0.0.1 {public}",
          f"the PROXY header named {lines[0]!r}, not this visitor (127.0.0.1:{own_port} to "
          f"127.0.0.1:{public})")
    check(lines[1] == "hello through the tunnel", f"the bytes after the header: {lines[1]!r}")


def case_profile(t):
    """`connect web` of a profile whose `expose:` list holds both forms (a string with
    ,proxy_protocol=none and a map) exposes both ports, and visitors reach the echo service."""
    server = t.server("server", t.path("server"), args=["--expose-bind", "127.0.0.1"])
    echo = t.echo()
    first, second = free_port(), free_port()
    data_dir = t.path("client")
    os.makedirs(data_dir, mode=0o700)
    with open(os.path.join(data_dir, "config.yaml"), "w") as f:
        f.write("profiles:\n"
                "  web:\n"
                "    server: 127.0.0.1\n"
                f"    port: {server.port}\n"
                "    expose:\n"
                f"      - \"{first}:{echo.port},proxy_protocol=none\"\n"
                f"      - {{public: {second}, local: {echo.port}, host: 127.0.0.1}}\n")
    client = t.spawn("client", [t.rt, "connect", "web", "--data-dir", data_dir, "--threads", "2",
                                "--sessions", "1", "--accept-new-host", "--token", server.token,
                                *t.backend_args])
    wait_exposed(client, first)
    wait_exposed(client, second)
    t.verify("verify-first", first, 5)
    t.verify("verify-second", second, 5)


def case_udp_echo(t):
    """-R PUBLIC:echo:udp: 3 visitors (source ports) each send 200 datagrams of random sizes up
    to 65,507 bytes to the server's public UDP port; every one comes back whole to its own
    visitor through the client's local UDP echo, and the echo saw 3 flows."""
    echo = UdpEcho()
    try:
        server = t.server("server", t.path("server"), args=["--expose-bind", "127.0.0.1"])
        public = free_port()
        client = exposing_client(t, "client", t.path("client"), server,
                                 [f"{public}:{echo.port}:udp"])
        wait_exposed(client, public)
        visitors, each = 3, 200
        results = [None] * visitors

        def visit(index):
            rng = random.Random(7000 + index)
            ok = 0
            with udp_socket() as s:
                for _ in range(each):
                    payload = rng.randbytes(rng.randint(1, MAX_DATAGRAM))
                    if roundtrip(s, ("127.0.0.1", public), payload) == payload:
                        ok += 1
            results[index] = ok

        threads = [threading.Thread(target=visit, args=(i,)) for i in range(visitors)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        check(results == [each] * visitors,
              f"datagrams back intact per visitor: {results} (expected {each} each)")
        check(len(echo.sources) == visitors,
              f"the echo saw {len(echo.sources)} flows, expected one per visitor ({visitors})")
    finally:
        echo.close()


CASES = {
    "tcp_echo_100": case_tcp_echo_100,
    "refusals": case_refusals,
    "exposure_cap": case_exposure_cap,
    "reclaim": case_reclaim,
    "port_closes": case_port_closes,
    "proxy_v2": case_proxy_v2,
    "profile": case_profile,
    "udp_echo": case_udp_echo,
}

if __name__ == "__main__":
    sys.exit(run_cases(CASES, __doc__))
