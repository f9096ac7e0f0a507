#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Integration: the server's HTTP and TLS ingress through real processes on 127.0.0.1.

curl and http.client through --http-bind to a client's --http service by Host: GET, a 1 MiB POST
checked by hash, a chunked response, HEAD, keep-alive reuse, X-Forwarded-* set and hop-by-hop
fields gone; 50 concurrent requests; two clients' names kept apart (a keep-alive connection that
names the other tunnel gets 421); a WebSocket echo (python3-websockets) through the ingress; the
ingress's own answers 404, 502, 504, 400 and 431, after each of which it still serves; TLS by SNI
to `openssl s_server` behind --https, the certificate the visitor sees being the service's own;
names held by one key (claimed, reserved, reclaimed at once by a restarted client).
Usage: ingress_test.py RINGTUNNEL LOADGEN [--case NAME]... [--io-backend auto|io_uring|epoll]
The last stdout line is "N passed, N failed". Standard library, plus python3-websockets."""
import asyncio
import hashlib
import http.client
import http.server
import json
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time

from tunnel_harness import *  # noqa: F401,F403 (the harness is this file's vocabulary)
from tunnel_harness import Failure, Skip, Test


class Backend:
    """A threaded HTTP/1.1 service: echoes what it got as JSON (method, path, headers, body
    length and sha256); /chunked answers in chunks; /slow never answers. Counts requests and
    connections."""

    def __init__(self, label="backend"):
        backend = self
        self.requests = 0
        self.connections = 0
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with backend.lock:
                    backend.connections += 1

            def log_message(self, *args):
                pass

            def answer(self):
                with backend.lock:
                    backend.requests += 1
                if self.path == "/slow":
                    time.sleep(30)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.path == "/chunked":
                    self.send_response(200)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for i in range(50):
                        piece = (f"chunk {i} " * 100).encode()
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                    return
                reply = json.dumps({
                    "backend": label, "method": self.command, "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "length": len(body), "sha256": hashlib.sha256(body).hexdigest(),
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply)

            do_GET = do_POST = do_PUT = do_HEAD = answer

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            request_queue_size = 128  # the default 5 resets a burst of 50 connects

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def ingress_server(t, name="server", args=()):
    http_port = free_port()
    server = t.server(name, t.path(name), args=["--http-bind", f"127.0.0.1:{http_port}",
                                                 "--domain", "example.com", *args])
    server.wait_for(rf"http ingress: listening on 127\.0\.0\.1:{http_port}", "the ingress line")
    server.http_port = http_port
    return server


def publishing_client(t, name, server, flags, data_dir=None, wait=True):
    argv = [t.rt, "client", "--ip", "127.0.0.1", "--port", str(server.port), "--data-dir",
            data_dir or t.path(name), "--threads", "2", "--sessions", "1", "--accept-new-host",
            "--token", server.token, *t.backend_args, *flags]
    client = t.spawn(name, argv)
    client.wait_for(r"client ready: 0 tunnel\(s\) over 1 session\(s\)", "'client ready'")
    return client


def wait_routed(client, kind, name):
    return client.wait_for(rf"{kind} {name}: the server routes requests for it to \S+",
                           f"the {kind} name {name} granted")


def request(port, host, method="GET", path="/", body=None, headers=None, timeout=15):
    """One request on its own connection: (status, headers dict, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        all_headers = {"Host": host, **(headers or {})}
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def raw_exchange(port, data, timeout=10):
    """Sends raw bytes, reads until the server closes: the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_all(sock, timeout)


def case_http_basics(t):
    """GET, a 1 MiB POST (hash checked), a chunked response, HEAD, keep-alive reuse of one
    connection, X-Forwarded-For/-Proto/-Host set (a visitor's own replaced), a hop-by-hop field
    named in Connection never reaching the service."""
    server = ingress_server(t)
    backend = Backend()
    client = publishing_client(t, "client", server, ["--http", f"app=127.0.0.1:{backend.port}"])
    wait_routed(client, "http", "app")
    port = server.http_port
    status, _, body = request(port, "app.example.com", path="/hello?x=1")
    check(status == 200, f"GET: status {status}")
    got = json.loads(body)
    check(got["method"] == "GET" and got["path"] == "/hello?x=1", f"GET reached as {got}")
    check(got["headers"].get("x-forwarded-for") == "127.0.0.1", f"X-Forwarded-For: {got}")
    check(got["headers"].get("x-forwarded-proto") == "http", "X-Forwarded-Proto missing")
    check(got["headers"].get("x-forwarded-host") == "app.example.com", "X-Forwarded-Host missing")
    payload = os.urandom(1 << 20)
    status, _, body = request(port, "app", method="POST", path="/upload", body=payload)
    got = json.loads(body)
    check(status == 200 and got["length"] == len(payload) and
          got["sha256"] == hashlib.sha256(payload).hexdigest(), "the 1 MiB POST arrived changed")
    status, headers, body = request(port, "app.example.com", path="/chunked")
    expected = b"".join((f"chunk {i} " * 100).encode() for i in range(50))
    check(status == 200 and body == expected, "the chunked response arrived changed")
    check(headers.get("transfer-encoding") == "chunked", "the chunked framing was not kept")
    status, headers, body = request(port, "app.example.com", method="HEAD", path="/")
    check(status == 200 and body == b"" and int(headers["content-length"]) > 0, "HEAD")
    status, _, body = request(port, "app.example.com", headers={
        "Connection": "x-secret", "X-Secret": "1", "X-Forwarded-For": "6.6.6.6",
        "Keep-Alive": "timeout=5"})
    got = json.loads(body)
    check("x-secret" not in got["headers"], "a field named in Connection reached the service")
    check("keep-alive" not in got["headers"], "Keep-Alive reached the service")
    check(got["headers"]["x-forwarded-for"] == "127.0.0.1", "the visitor's X-Forwarded-For kept")
    # Keep-alive: three requests on one connection, one connection at the service.
    before = backend.connections
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    for i in range(3):
        conn.request("GET", f"/k{i}", headers={"Host": "app.example.com"})
        response = conn.getresponse()
        check(response.status == 200 and json.loads(response.read())["path"] == f"/k{i}",
              f"keep-alive request {i}")
    conn.close()
    check(backend.connections - before == 1,
          f"3 keep-alive requests took {backend.connections - before} service connections")
    curl = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}",
                           "-H", "Host: app.example.com", f"http://127.0.0.1:{port}/a",
                           f"http://127.0.0.1:{port}/b"], capture_output=True, text=True,
                          timeout=20)
    check(curl.stdout.strip().endswith("200 1") or "200 0" in curl.stdout,
          f"curl with two URLs: {curl.stdout!r}")
    backend.close()


def case_concurrent_50(t):
    """50 concurrent requests, each with its own body, each answered with its own hash."""
    server = ingress_server(t)
    backend = Backend()
    client = publishing_client(t, "client", server, ["--http", f"app=127.0.0.1:{backend.port}"])
    wait_routed(client, "http", "app")
    errors = []

    def one(i):
        try:
            payload = os.urandom(1000 + i * 997)
            status, _, body = request(server.http_port, "app.example.com", method="POST",
                                      path=f"/r{i}", body=payload)
            if status != 200:
                errors.append(f"request {i}: status {status}: {body[-120:]!r}")
                return
            got = json.loads(body)
            if status != 200 or got["sha256"] != hashlib.sha256(payload).hexdigest() or \
                    got["path"] != f"/r{i}":
                errors.append(f"request {i}: {status} {got.get('path')}")
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(f"request {i}: {e}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    check(not errors, f"{len(errors)} of 50 failed: {errors[:3]}")
    backend.close()


def case_isolation(t):
    """Two clients (two keys) with names a and b: each name reaches only its own service; a
    keep-alive connection that asks for b after a gets 421 and is closed, and b saw nothing."""
    server = ingress_server(t)
    backend_a, backend_b = Backend("a"), Backend("b")
    client_a = publishing_client(t, "client-a", server, ["--http", f"a=127.0.0.1:{backend_a.port}"])
    client_b = publishing_client(t, "client-b", server, ["--http", f"b=127.0.0.1:{backend_b.port}"])
    wait_routed(client_a, "http", "a")
    wait_routed(client_b, "http", "b")
    for _ in range(5):
        check(json.loads(request(server.http_port, "a.example.com")[2])["backend"] == "a", "a")
        check(json.loads(request(server.http_port, "b.example.com")[2])["backend"] == "b", "b")
    check(backend_a.requests == 5 and backend_b.requests == 5, "requests crossed tunnels")
    answer = raw_exchange(server.http_port, b"GET /1 HTTP/1.1\r\nHost: a.example.com\r\n\r\n"
                          b"GET /2 HTTP/1.1\r\nHost: b.example.com\r\n\r\n")
    check(answer.startswith(b"HTTP/1.1 200 "), f"the first request: {answer[:60]!r}")
    check(b"HTTP/1.1 421 Misdirected Request" in answer, f"no 421: {answer[-300:]!r}")
    check(backend_a.requests == 6 and backend_b.requests == 5,
          "the request for b on a's connection reached a service")
    backend_a.close()
    backend_b.close()


def case_websocket(t):
    """A WebSocket echo (python3-websockets) behind the client, a websockets client through the
    ingress: 100 messages, one of them 256 KiB binary, all echoed."""
    try:
        import websockets  # Debian's python3-websockets
    except ImportError:
        raise Skip("python3-websockets is not installed (scripts/bootstrap.sh installs it)")
    server = ingress_server(t)
    ws_port = free_port()
    ready = threading.Event()
    stop = {}

    def serve():
        async def echo(socket_):
            async for message in socket_:
                await socket_.send(message)

        async def main():
            async with websockets.serve(echo, "127.0.0.1", ws_port, max_size=1 << 20):
                stop["loop"] = asyncio.get_running_loop()
                stop["future"] = stop["loop"].create_future()
                ready.set()
                await stop["future"]
        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    check(ready.wait(10), "the WebSocket service did not start")
    client = publishing_client(t, "client", server, ["--http", f"ws=127.0.0.1:{ws_port}"])
    wait_routed(client, "http", "ws")

    async def talk():
        sock = socket.create_connection(("127.0.0.1", server.http_port), timeout=10)
        async with websockets.connect(f"ws://ws.example.com:{server.http_port}/echo", sock=sock,
                                      max_size=1 << 20, open_timeout=10) as ws:
            for i in range(100):
                message = os.urandom(256 * 1024) if i == 50 else f"message {i}"
                await ws.send(message)
                echoed = await asyncio.wait_for(ws.recv(), 10)
                if echoed != message:
                    raise Failure(f"message {i} came back changed")

    asyncio.run(talk())
    stop["loop"].call_soon_threadsafe(stop["future"].set_result, None)
    thread.join(10)


def case_errors(t):
    """The ingress's own answers: 404 for a name nobody holds, 502 when the service is down,
    504 when it does not answer in time (--http-timeout 2), 400 for a malformed head, 431 for
    a head over 16 KiB; after each, a good request is still served."""
    server = ingress_server(t, args=["--http-timeout", "2"])
    backend = Backend()
    dead_port = free_port()
    client = publishing_client(t, "client", server, ["--http", f"app=127.0.0.1:{backend.port}",
                                                     "--http", f"down=127.0.0.1:{dead_port}"])
    wait_routed(client, "http", "app")
    wait_routed(client, "http", "down")
    port = server.http_port

    def still_serves():
        check(request(port, "app.example.com")[0] == 200, "a good request after an error")

    status, headers, body = request(port, "nobody.example.com")
    check(status == 404 and b"nobody" in body, f"unknown name: {status} {body[:80]!r}")
    check(headers.get("content-type", "").startswith("text/html"), "404 is not a page")
    still_serves()
    status, _, _ = request(port, "down.example.com")
    check(status == 502, f"service down: {status}")
    still_serves()
    started = time.monotonic()
    status, _, _ = request(port, "app.example.com", path="/slow", timeout=20)
    check(status == 504, f"a service that does not answer: {status}")
    check(time.monotonic() - started < 10, "the 504 did not come after --http-timeout")
    still_serves()
    answer = raw_exchange(port, b"GET / HTTP/1.1\r\nHost: app.example.com\r\nBad Header\r\n\r\n")
    check(answer.startswith(b"HTTP/1.1 400 Bad Request"), f"malformed: {answer[:60]!r}")
    still_serves()
    answer = raw_exchange(port, b"GET / HTTP/1.1\r\nHost: app.example.com\r\nX-Big: " +
                          b"a" * 20000 + b"\r\n\r\n")
    check(answer.startswith(b"HTTP/1.1 431 "), f"a 20 KiB head: {answer[:60]!r}")
    still_serves()
    # The ingress answers nothing for the app's own paths: /health is the service's.
    status, _, body = request(port, "app.example.com", path="/health")
    check(status == 200 and json.loads(body)["path"] == "/health", "/health was not the app's")
    backend.close()


def case_sni(t):
    """TLS by SNI: `openssl s_server` behind --https; curl --resolve through --https-bind gets
    its page, with the service's own certificate (the server holds no key for it). A hello for
    a name nobody holds is closed."""
    cert, key = t.path("cert.pem"), t.path("key.pem")
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                           "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=app.example.com",
                           "-days", "1", "-keyout", key, "-out", cert], capture_output=True,
                          timeout=30)
    check(made.returncode == 0, f"openssl req: {made.stderr[-200:]!r}")
    tls_port = free_port()
    t.spawn("s_server", ["openssl", "s_server", "-accept", f"127.0.0.1:{tls_port}", "-cert",
                         cert, "-key", key, "-www", "-tls1_3", "-quiet"], clean_stop=False)
    https_port = free_port()
    server = ingress_server(t, args=["--https-bind", f"127.0.0.1:{https_port}"])
    server.wait_for(rf"tls ingress: listening on 127\.0\.0\.1:{https_port}", "the TLS line")
    client = publishing_client(t, "client", server, ["--https", f"app=127.0.0.1:{tls_port}"])
    wait_routed(client, "https", "app")
    deadline = time.monotonic() + 10
    while True:
        curl = subprocess.run(["curl", "-sv", "-k", "--max-time", "10", "--resolve",
                               f"app.example.com:{https_port}:127.0.0.1",
                               f"https://app.example.com:{https_port}/"],
                              capture_output=True, text=True, timeout=20)
        if curl.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.3)  # s_server may still be starting
    check(curl.returncode == 0, f"curl through the TLS ingress: {curl.stderr[-400:]}")
    check("s_server" in curl.stdout or "Ciphers" in curl.stdout, "not the s_server page")
    check("CN=app.example.com" in curl.stderr, "the certificate was not the service's own")
    with socket.create_connection(("127.0.0.1", https_port), timeout=10) as sock:
        probe = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{https_port}",
                                "-servername", "nobody.example.com"], input="", capture_output=True,
                               text=True, timeout=20)
        del sock
    check("CONNECTED" in probe.stdout and "BEGIN CERTIFICATE" not in probe.stdout,
          "a hello for an unknown name got a certificate")


def case_names(t):
    """A name belongs to one key: another key asking for it is refused (name_claimed) while the
    holder keeps serving; a reserved name (reserved_names) is refused to any other key even
    while free; the holder frozen and restarted with its key reclaims its name at once."""
    backend = Backend()
    owner_dir = t.path("owner")
    # The owner's key first, to reserve a name for it.
    keygen = publishing_client(t, "keygen", ingress_server(t, "pre"),
                               ["--http", f"tmp=127.0.0.1:{backend.port}"], data_dir=owner_dir)
    fingerprint = client_fingerprint(keygen)
    keygen.stop_ok()
    server = ingress_server(t, args=["--reserve-name", f"vip={fingerprint}"])
    owner = publishing_client(t, "owner", server, ["--http", f"app=127.0.0.1:{backend.port}"],
                              data_dir=owner_dir)
    wait_routed(owner, "http", "app")
    other = publishing_client(t, "other", server, ["--http", f"app=127.0.0.1:{backend.port}",
                                                   "--http", f"vip=127.0.0.1:{backend.port}"])
    other.wait_for(r"http app: the server refuses it: name_claimed", "the claimed refusal")
    other.wait_for(r"http vip: the server refuses it: name_reserved", "the reserved refusal")
    check(request(server.http_port, "app.example.com")[0] == 200, "the holder stopped serving")
    check(request(server.http_port, "vip.example.com")[0] == 404, "vip is free but reserved")
    os.kill(owner.popen.pid, signal.SIGSTOP)
    started = time.monotonic()
    again = publishing_client(t, "again", server, ["--http", f"app=127.0.0.1:{backend.port}",
                                                   "--http", f"vip=127.0.0.1:{backend.port}"],
                              data_dir=owner_dir)
    wait_routed(again, "http", "app")
    wait_routed(again, "http", "vip")
    check(time.monotonic() - started < 20, "reclaiming the name waited for the old session")
    check(request(server.http_port, "app.example.com")[0] == 200, "app after the reclaim")
    check(request(server.http_port, "vip.example.com")[0] == 200, "vip for its own key")
    owner.popen.kill()
    owner.wait_exit()
    backend.close()


CASES = {
    "http_basics": case_http_basics,
    "concurrent_50": case_concurrent_50,
    "isolation": case_isolation,
    "websocket": case_websocket,
    "errors": case_errors,
    "sni": case_sni,
    "names": case_names,
}

if __name__ == "__main__":
    sys.exit(run_cases(CASES, __doc__))
