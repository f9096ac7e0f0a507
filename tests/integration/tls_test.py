#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Integration: the TLS 1.3 transport (--transport tls) through real processes on 127.0.0.1.

A self-signed server pinned in known_hosts like the native host key (and a changed key refused);
`openssl s_client`, a TLS peer we did not write, completing a TLS 1.3 handshake and seeing the
certificate, and refused at TLS 1.2; a CA-issued chain accepted for its name and refused for
another name or CA; client certificates (mTLS) accepted and refused; a tampered record ending
the session; --tls-insecure-skip-verify warning on every connect.
Usage: tls_test.py RINGTUNNEL LOADGEN [--case NAME]... [--io-backend auto|io_uring|epoll]
The last stdout line is "N passed, N failed". Standard library only (and the openssl CLI)."""
import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys

from tunnel_harness import *  # noqa: F401,F403 (the harness is this file's vocabulary)
from tunnel_harness import Failure, Skip, Test

TLS = ["--transport", "tls"]


def openssl(*args, stdin=None, timeout=20):
    if shutil.which("openssl") is None:
        raise Skip("the openssl command is not installed")
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, timeout=timeout)


def make_ca(t, name):
    """A CA key and self-signed CA certificate (ECDSA P-256) under the case's temp dir."""
    key, cert = t.path(f"{name}.key"), t.path(f"{name}.pem")
    done = openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                   "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={name}",
                   "-addext", "basicConstraints=critical,CA:TRUE",
                   "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    check(done.returncode == 0, f"openssl could not make the CA {name}: {done.stderr.decode()}")
    return key, cert


def issue(t, ca, name, san=None, client=False):
    """A leaf key and certificate signed by `ca` (key, cert) for CN=name (and a DNS SAN)."""
    ca_key, ca_cert = ca
    key, csr, cert = t.path(f"{name}.key"), t.path(f"{name}.csr"), t.path(f"{name}.pem")
    done = openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                   "-keyout", key, "-out", csr, "-subj", f"/CN={name}")
    check(done.returncode == 0, f"openssl req: {done.stderr.decode()}")
    ext = t.path(f"{name}.ext")
    with open(ext, "w") as f:
        f.write(f"extendedKeyUsage={'clientAuth' if client else 'serverAuth'}\n")
        if san:
            f.write(f"subjectAltName=DNS:{san}\n")
    done = openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key,
                   "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
    check(done.returncode == 0, f"openssl x509 -req: {done.stderr.decode()}")
    return key, cert


def tls_server(t, name, args=()):
    return t.server(name, t.path(f"{name}-data"), args=[*TLS, *args])


def tls_client(t, name, server_port, echo, args=(), token=None, accept_new_host=True):
    return t.client(name, t.path(f"{name}-data"), server_port, [fwd(echo.port)], token=token,
                    accept_new_host=accept_new_host, args=[*TLS, *args])


def ed25519_pin(pem):
    """The pin of an Ed25519 certificate as ringtunnel computes it: SHA-256 of the raw key."""
    done = openssl("x509", "-pubkey", "-noout", stdin=pem)
    check(done.returncode == 0, f"openssl x509 -pubkey: {done.stderr.decode()}")
    spki = base64.b64decode("".join(done.stdout.decode().split("\n")[1:-2]))
    return "SHA256:" + base64.b64encode(hashlib.sha256(spki[-32:]).digest()).decode().rstrip("=")


def case_pinned(t):
    """Zero-config TLS: the self-signed certificate's pin is the server identity, pinned in
    known_hosts; 50 streams check byte for byte; a new key on that host:port is refused."""
    echo = t.echo()
    server = tls_server(t, "server")
    check(re.search(r"TLS transport: certificate \S+tls_cert.pem \(self-signed for the identity "
                    rf"key, pin {re.escape(server.fingerprint)}\)", server.text()),
          "the server did not log its self-signed certificate with the identity's pin")
    client = tls_client(t, "client", server.port, echo, token=server.token)
    port = t.accepted_port(t.ready(client, 1), fwd(echo.port))
    t.verify("verify", port, 50)
    payload = os.urandom(3 * MIB)
    check(echo_roundtrip(port, payload, timeout=30) == payload, "3 MiB echo not byte-exact")
    check(re.search(rf"up \(server certificate {re.escape(server.fingerprint)}\)", client.text()),
          "the client did not log the certificate pin it trusted")
    known_hosts = open(t.path("client-data", "known_hosts")).read()
    check(f"127.0.0.1:{server.port} {server.fingerprint}" in known_hosts,
          f"known_hosts does not pin the certificate: {known_hosts!r}")
    client.stop_ok()
    server.stop_ok()
    second = t.server("server-2", t.path("server-2-data"), port=server.port, args=TLS)
    again = t.client("client-2", t.path("client-data"), second.port, [fwd(echo.port)],
                     token=second.token, args=TLS)
    again.expect_exit(1)
    text = again.text()
    check("WARNING: SERVER IDENTITY HAS CHANGED!" in text, "no identity-changed warning")
    check(server.fingerprint in text and second.fingerprint in text,
          "the warning does not show both pins")
    check("enrolled client" not in second.text(), "the client enrolled with the new server")
    second.stop_ok()


def case_s_client(t):
    """openssl s_client completes a TLS 1.3 handshake (AES-256-GCM, Ed25519) and sees the
    server's certificate, whose key is the pinned identity; TLS 1.2 is refused."""
    server = tls_server(t, "server")
    done = openssl("s_client", "-connect", f"127.0.0.1:{server.port}", "-tls1_3", "-showcerts",
                   stdin=b"")
    out = done.stdout.decode(errors="replace")
    check("New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384" in out,
          f"s_client did not negotiate TLS 1.3 with AES-256-GCM:\n{out[-2000:]}")
    check("Peer signature type: ed25519" in out, "the server did not sign with its Ed25519 key")
    pem = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    check(pem, "s_client saw no certificate")
    check(ed25519_pin(pem.group(0).encode()) == server.fingerprint,
          "the certificate's key is not the server identity the server logged")
    check(pem.group(0) == open(t.path("server-data", "tls_cert.pem")).read().strip(),
          "the certificate sent is not the one in the data dir")
    old = openssl("s_client", "-connect", f"127.0.0.1:{server.port}", "-tls1_2", stdin=b"")
    text = (old.stdout + old.stderr).decode(errors="replace")
    check(old.returncode != 0 and "alert protocol version" in text,
          f"TLS 1.2 was not refused with a protocol_version alert:\n{text[-1500:]}")
    server.wait_for(r"handshake failed: tls_failed \(unsupported protocol\)",
                    "the refused TLS 1.2 handshake in the server's log")
    check(server.alive(), "the server died")
    server.stop_ok()


def case_ca_chain(t):
    """--tls-cert from a CA: --tls-ca with the right --tls-server-name works; a wrong name, or
    another CA, is refused with a clear message and exit 1 (no retry loop)."""
    echo = t.echo()
    ca = make_ca(t, "relay-ca")
    key, cert = issue(t, ca, "relay", san="relay.test")
    server = tls_server(t, "server", ["--tls-cert", cert, "--tls-key", key])
    good = tls_client(t, "client-good", server.port, echo, token=server.token,
                      accept_new_host=False, args=["--tls-ca", ca[1], "--tls-server-name",
                                                   "relay.test"])
    port = t.accepted_port(t.ready(good, 1), fwd(echo.port))
    t.verify("verify", port, 10)
    check(not os.path.exists(t.path("client-good-data", "known_hosts")) or
          str(server.port) not in open(t.path("client-good-data", "known_hosts")).read(),
          "a CA-verified server was pinned in known_hosts as well")
    good.stop_ok()
    wrong_name = tls_client(t, "client-name", server.port, echo, token=server.token,
                            accept_new_host=False,
                            args=["--tls-ca", ca[1], "--tls-server-name", "other.test"])
    wrong_name.expect_exit(1)
    check(re.search(r"certificate was refused: certificate verify failed: hostname mismatch",
                    wrong_name.text()), "a wrong name was not refused as a hostname mismatch")
    other_ca = make_ca(t, "other-ca")
    wrong_ca = tls_client(t, "client-ca", server.port, echo, token=server.token,
                          accept_new_host=False,
                          args=["--tls-ca", other_ca[1], "--tls-server-name", "relay.test"])
    wrong_ca.expect_exit(1)
    check(re.search(r"certificate was refused: certificate verify failed: unable to get local "
                    r"issuer certificate", wrong_ca.text()), "another CA was not refused")
    check("client ready" not in wrong_name.text() + wrong_ca.text(), "a refused client went on")
    server.stop_ok()


def case_mtls(t):
    """--tls-client-ca: a client certificate from that CA is admitted without token or
    authorized_keys; no certificate, or one from another CA, is refused."""
    echo = t.echo()
    client_ca = make_ca(t, "clients-ca")
    server = tls_server(t, "server", ["--tls-client-ca", client_ca[1]])
    key, cert = issue(t, client_ca, "laptop", client=True)
    admitted = tls_client(t, "client-cert", server.port, echo,
                          args=["--tls-cert", cert, "--tls-key", key])
    port = t.accepted_port(t.ready(admitted, 1), fwd(echo.port))
    t.verify("verify", port, 10)
    server.wait_for(r"client \S+ \(\S+\) \[certificate /CN=laptop\] from 127\.0\.0\.1:\d+ "
                    r"connected", "the session admitted by its certificate")
    check(authorized_fingerprints(server) == set(), "a certificate-admitted client was enrolled")
    admitted.stop_ok()
    bare = tls_client(t, "client-bare", server.port, echo, token=server.token)
    bare.expect_exit(1)
    check("certificate was refused" in bare.text(),
          f"a client without a certificate was not told so: {bare.text()[-600:]}")
    stranger_ca = make_ca(t, "stranger-ca")
    skey, scert = issue(t, stranger_ca, "stranger", client=True)
    stranger = tls_client(t, "client-stranger", server.port, echo, token=server.token,
                          args=["--tls-cert", scert, "--tls-key", skey])
    stranger.expect_exit(1)
    check("certificate was refused" in stranger.text(), "another CA's client was not refused")
    server.wait_for(r"handshake failed: certificate_rejected(?s:.*)handshake failed: "
                    r"certificate_rejected", "both refusals in the server's log")
    server.stop_ok()


def case_tampered(t):
    """One flipped bit in a TLS record, either way, ends the session with decrypt_failed at the
    receiver; the client sets up a new session, which works; the server keeps serving."""
    echo = t.echo()
    server = tls_server(t, "server")
    tampered_session(t, server, echo, to_client=True, client_args=TLS,
                     lost=r"lost: decrypt_failed")
    # The other way, the server's TLS is dead after the bad record: it drops the connection (no
    # CLOSE can be sealed any more) and says why in its own log.
    tampered_session(t, server, echo, to_client=False, client_args=TLS, lost=r"lost: .*")
    server.wait_for(r"closing: decrypt_failed", "the server's decrypt failure", timeout=15)
    check(server.alive(), "the server died with the tampered sessions")
    server.stop_ok()


def case_insecure(t):
    """--tls-insecure-skip-verify works, pins nothing, and warns on every connect; combined
    with --tls-ca it is refused as a usage error."""
    echo = t.echo()
    server = tls_server(t, "server")
    client = tls_client(t, "client", server.port, echo, token=server.token, accept_new_host=False,
                        args=["--tls-insecure-skip-verify"])
    port = t.accepted_port(t.ready(client, 1), fwd(echo.port))
    t.verify("verify", port, 5)
    check("the server's certificate is NOT checked" in client.text(), "no warning on connect")
    check(not os.path.exists(t.path("client-data", "known_hosts")),
          "an unverified server was pinned")
    client.stop_ok()
    both = tls_client(t, "client-both", server.port, echo, token=server.token,
                      accept_new_host=False,
                      args=["--tls-insecure-skip-verify", "--tls-ca", "system"])
    both.expect_exit(2)
    check("--tls-insecure-skip-verify checks nothing" in both.text(), "no usage error")
    native = t.client("client-native", t.path("native-data"), server.port, [fwd(echo.port)],
                      token=server.token, args=["--tls-ca", "system"])
    native.expect_exit(2)
    check("add --transport tls" in native.text(), "TLS flags on native were not refused")
    server.stop_ok()


CASES = {
    "pinned": case_pinned,
    "s_client": case_s_client,
    "ca_chain": case_ca_chain,
    "mtls": case_mtls,
    "tampered": case_tampered,
    "insecure": case_insecure,
}

if __name__ == "__main__":
    sys.exit(run_cases(CASES, __doc__))
