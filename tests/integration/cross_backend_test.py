#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Integration across crypto backends: this build's server or client against the ringtunnel of
a build on the other crypto library (-Dcrypto=openssl vs wolfssl), named by
$RINGTUNNEL_PEER_BINARY. Real bytes through a -L tunnel both ways round, and data dirs (key
files, known_hosts, authorized_keys) written by one build and used by the other. Every case is
skipped (exit 77) when the variable is unset; scripts/test.sh sets it.
Usage: cross_backend_test.py RINGTUNNEL LOADGEN [--case NAME]... [--io-backend B]
The last stdout line is "N passed, N failed[, N skipped]". Standard library only."""
import contextlib
import os
import re
import sys

from tunnel_harness import *  # noqa: F401,F403 (the harness is this file's vocabulary)
from tunnel_harness import Skip

TLS = ["--transport", "tls"]


def peer_binary():
    path = os.environ.get("RINGTUNNEL_PEER_BINARY", "")
    if not path:
        raise Skip("RINGTUNNEL_PEER_BINARY is not set (the other crypto backend's ringtunnel)")
    check(os.access(path, os.X_OK), f"RINGTUNNEL_PEER_BINARY={path} is not an executable")
    return os.path.abspath(path)


@contextlib.contextmanager
def running(t, binary):
    """The processes t.server and t.client start meanwhile run `binary`."""
    own, t.rt = t.rt, binary
    try:
        yield
    finally:
        t.rt = own


def tunnel_works(t, server, client_binary, name, data_dir, connections=20):
    """A client of `client_binary` enrolled with `server`'s token carries `connections` echo
    connections, every byte checked."""
    echo = t.echo(f"echo-{name}")
    with running(t, client_binary):
        client, port = t.enrolled(name, server, data_dir, echo, sessions=None)
    t.verify(f"verify-{name}", port, connections)
    check(client_fingerprint(client) in authorized_fingerprints(server),
          f"the server did not enrol {name}'s key")
    return client


def case_peer_server(t):
    """The peer build's server, this build's client: handshake, enrolment, 20 verified streams."""
    peer = peer_binary()
    with running(t, peer):
        server = t.server("server-peer", t.path("server-data"))
    client = tunnel_works(t, server, t.rt, "client", t.path("client-data"))
    client.stop_ok()
    server.stop_ok()


def case_peer_client(t):
    """This build's server, the peer build's client: handshake, enrolment, 20 verified streams."""
    peer = peer_binary()
    server = t.server("server", t.path("server-data"))
    client = tunnel_works(t, server, peer, "client-peer", t.path("client-data"))
    client.stop_ok()
    server.stop_ok()


def case_shared_data_dirs(t):
    """Each data dir written by one build is used by the other: the server key, token and
    authorized_keys, the client key and its known_hosts pin. Same identities, no re-enrolment."""
    peer = peer_binary()
    server_data, client_data = t.path("server-data"), t.path("client-data")
    first = t.server("server-1", server_data)
    client = tunnel_works(t, first, peer, "client-peer", client_data, connections=5)
    client_fp = client_fingerprint(client)
    client.stop_ok()
    first.stop_ok()
    # Swapped: the peer build loads this build's server key; this build loads the peer's client
    # key and trusts the pin it wrote. No token: the key the peer enrolled must be known.
    echo = t.echo("echo-swapped")
    with running(t, peer):
        second = t.server("server-2-peer", server_data, port=first.port)
    check(second.fingerprint == first.fingerprint,
          f"the peer build read the server key as {second.fingerprint}, not {first.fingerprint}")
    again = t.client("client-2", client_data, second.port, [fwd(echo.port)], accept_new_host=False)
    port = t.accepted_port(t.ready(again, 1), fwd(echo.port))
    t.verify("verify-swapped", port, 5)
    check(client_fp in second.text(),
          "the peer server did not see the client key the peer client had created")
    check("enrolled client" not in second.text(), "the client was enrolled a second time")
    again.stop_ok()
    second.stop_ok()


def tls_tunnel_works(t, server, client_binary, name):
    """As tunnel_works over --transport tls, the server's pin checked against the peer build's
    (the same "SHA256:" string either way), and 3 MiB echoed through one of them."""
    echo = t.echo(f"echo-{name}")
    with running(t, client_binary):
        client = t.client(name, t.path(f"{name}-data"), server.port, [fwd(echo.port)],
                          token=server.token, args=TLS)
    port = t.accepted_port(t.ready(client, 1), fwd(echo.port))
    t.verify(f"verify-{name}", port, 20)
    payload = os.urandom(3 * MIB)
    check(echo_roundtrip(port, payload, timeout=30) == payload, "3 MiB echo not byte-exact")
    check(re.search(rf"up \(server certificate {re.escape(server.fingerprint)}\)", client.text()),
          "the client did not pin the server's identity as its TLS certificate pin")
    return client


def case_tls_peer_server(t):
    """TLS transport: the peer build's server, this build's client (each library's TLS 1.3
    against the other's), pinned certificate, 20 verified streams and 3 MiB."""
    peer = peer_binary()
    with running(t, peer):
        server = t.server("server-peer", t.path("server-data"), args=TLS)
    client = tls_tunnel_works(t, server, t.rt, "client")
    client.stop_ok()
    server.stop_ok()


def case_tls_peer_client(t):
    """TLS transport: this build's server, the peer build's client."""
    peer = peer_binary()
    server = t.server("server", t.path("server-data"), args=TLS)
    client = tls_tunnel_works(t, server, peer, "client-peer")
    client.stop_ok()
    server.stop_ok()


CASES = {
    "peer_server": case_peer_server,
    "peer_client": case_peer_client,
    "shared_data_dirs": case_shared_data_dirs,
    "tls_peer_server": case_tls_peer_server,
    "tls_peer_client": case_tls_peer_client,
}


if __name__ == "__main__":
    sys.exit(run_cases(CASES, __doc__))
