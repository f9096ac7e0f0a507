#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The harness of tunnel_test.py: processes (ringtunnel, loadgen) started, watched and stopped,
their logs, temp data dirs, free ports, byte checks, and a man-in-the-middle proxy. Standard
library only."""
import argparse
import base64
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

READY_TIMEOUT = 30.0  # generous: ASan + UBSan on 2 cores start slowly
EXIT_TIMEOUT = 30.0   # for a process that must exit on its own (a fatal set-up error)
STOP_GRACE = 20.0     # SIGTERM, then SIGKILL after this long
MIB = 1024 * 1024


class Failure(Exception):
    """A case's check did not hold; the message says what was expected and what happened."""


class Skip(Exception):
    """The machine cannot run this case (the message says why)."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def child_env():
    # RINGTUNNEL_* from the caller's environment would silently change what a flag-less run means.
    return {k: v for k, v in os.environ.items() if not k.startswith("RINGTUNNEL_")}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def json_line_text(line):
    try:
        entry = json.loads(line)
        return f"{entry['level']} {entry.get('component', '')}: {entry['msg']}"
    except (ValueError, KeyError, TypeError):
        return line


def describe_status(rc):
    return f"killed by signal {-rc}" if rc is not None and rc < 0 else f"status {rc}"


def fwd(target_port, local_port=0):
    """An -L spec (also the tunnel's name in the client's log), strictly on 127.0.0.1."""
    return f"127.0.0.1:{local_port}:127.0.0.1:{target_port}"


class Proc:
    """One child process; its stdout+stderr (or its --log-file) is the log we search.
    clean_stop: at the end of a passing case, SIGTERM must stop it with status 0 unless the case
    already waited for it (wait_exit, stop_ok)."""

    def __init__(self, test, name, argv, log_file=None, clean_stop=True, idle_priority=False,
                 env=None):
        self.name, self.argv = name, argv
        self.out = test.path(name + ".out")
        self.log_file = log_file
        self.clean_stop, self.done, self.killed, self.terminated = clean_stop, False, False, False
        # SCHED_IDLE through preexec_fn: safe here, as no case starts one while its threads run.
        idle = (lambda: os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0)))
        with open(self.out, "wb") as out:
            self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                          stderr=subprocess.STDOUT,
                                          env={**child_env(), **(env or {})}, cwd=test.dir,
                                          preexec_fn=idle if idle_priority else None)

    def text(self):
        """stdout+stderr, then the --log-file, whose JSON lines are read back as
        "LEVEL MESSAGE" so the same patterns find them."""
        parts = []
        for path in (self.out, self.log_file):
            if path and os.path.exists(path):
                with open(path, "rb") as f:
                    text = f.read().decode("utf-8", "replace")
                if path == self.log_file:
                    text = "\n".join(json_line_text(line) for line in text.splitlines())
                parts.append(text)
        return "\n".join(parts)

    def alive(self):
        return self.popen.poll() is None

    def wait_for(self, pattern, what, timeout=READY_TIMEOUT):
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            exited = not self.alive()
            found = rx.search(self.text())
            if found:
                return found
            if exited:
                raise Failure(f"{self.name} exited ({describe_status(self.popen.returncode)}) "
                              f"without logging {what}")
            if time.monotonic() > deadline:
                raise Failure(f"{self.name} did not log {what} within {timeout:.0f} s")
            time.sleep(0.05)

    def wait_exit(self, timeout=EXIT_TIMEOUT):
        try:
            rc = self.popen.wait(timeout)
            self.done = True
            return rc
        except subprocess.TimeoutExpired:
            raise Failure(f"{self.name} was expected to exit on its own but still runs after "
                          f"{timeout:.0f} s") from None

    def expect_exit(self, rc, timeout=EXIT_TIMEOUT):
        got = self.wait_exit(timeout)
        check(got == rc, f"{self.name} exited with {describe_status(got)}, expected {rc}")

    def terminate(self):
        # Once only: ringtunnel exits at once with 130 on a second SIGTERM.
        if self.alive() and not self.terminated:
            self.terminated = True
            self.popen.send_signal(signal.SIGTERM)

    def stop(self, deadline=None):
        """SIGTERM (unless sent already), then SIGKILL at `deadline` (default: STOP_GRACE)."""
        if self.alive():
            self.terminate()
            left = STOP_GRACE if deadline is None else max(deadline - time.monotonic(), 0.1)
            try:
                self.popen.wait(left)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode

    def stop_ok(self):
        """SIGTERM must end the process with status 0 within the grace period."""
        was_alive = self.alive()
        self.done = True
        rc = self.stop()
        check(was_alive, f"{self.name} had already exited ({describe_status(rc)}) before SIGTERM")
        check(not self.killed, f"{self.name} did not exit within {STOP_GRACE:.0f} s of SIGTERM")
        check(rc == 0, f"{self.name} exited with {describe_status(rc)} after SIGTERM, expected 0")


class Test:
    """The processes, files and helpers of one case."""

    def __init__(self, name, rt, loadgen, backend_args):
        self.name, self.rt, self.loadgen, self.backend_args = name, rt, loadgen, backend_args
        self.dir = tempfile.mkdtemp(prefix=f"rt-{name}-")
        self.procs = []

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def spawn(self, name, argv, log_file=None, clean_stop=True, idle_priority=False, env=None):
        """env: RINGTUNNEL_* (or other) variables for this child on top of a clean environment."""
        check(all(p.name != name for p in self.procs), f"test bug: two processes named {name}")
        proc = Proc(self, name, argv, log_file, clean_stop, idle_priority, env)
        self.procs.append(proc)
        return proc

    def finish(self):
        """After a passing case: whatever still runs must stop cleanly, newest first (clients
        before their server)."""
        for proc in reversed(self.procs):
            if proc.clean_stop and not proc.done:
                proc.stop_ok()

    def cleanup(self):
        """Every exit path: SIGTERM to all that still run, one shared grace period, SIGKILL."""
        for proc in self.procs:
            proc.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for proc in reversed(self.procs):
            proc.stop(deadline)
        shutil.rmtree(self.dir, ignore_errors=True)

    def dump_logs(self):
        for proc in self.procs:
            lines = proc.text().splitlines()
            print(f"--- {proc.name} ({describe_status(proc.popen.poll())}): {' '.join(proc.argv)}")
            if len(lines) > 150:
                print(f"[... {len(lines) - 150} earlier lines]")
            print("\n".join(lines[-150:]))

    # --- echo servers and load -------------------------------------------------------------

    def echo(self, name="echo"):
        proc = self.spawn(name, [self.loadgen, "server", "--listen", "127.0.0.1:0",
                                 "--mode", "echo"])
        found = proc.wait_for(r"loadgen: listening on 127\.0\.0\.1:(\d+)", "its port")
        proc.port = int(found.group(1))
        return proc

    def echo_connections(self, echo):
        """Stops an echo server (status 0 required) and returns how many connections it took."""
        echo.stop_ok()
        found = re.search(r"server stopped: (\d+) connections", echo.text())
        check(found, f"{echo.name} did not print its connection count")
        return int(found.group(1))

    def start_verify(self, name, port, connections, min_bytes=1, max_bytes=262144, timeout=60):
        seed = random.randrange(1, 1 << 30)
        return self.spawn(name, [self.loadgen, "verify", "--connect", f"127.0.0.1:{port}",
                                 "--connections", str(connections), "--min-bytes", str(min_bytes),
                                 "--max-bytes", str(max_bytes), "--seed", str(seed),
                                 "--timeout", str(timeout)])

    def finish_verify(self, proc, connections, timeout=60):
        rc = proc.wait_exit(timeout + 15)
        check(rc == 0 and f"verify: {connections}/{connections} connections ok" in proc.text(),
              f"{proc.name}: not every byte came back through the tunnel ({describe_status(rc)}): "
              f"{proc.text().strip()[-400:]}")
        return proc.text().strip()

    def verify(self, name, port, connections, **kwargs):
        timeout = kwargs.get("timeout", 60)
        return self.finish_verify(self.start_verify(name, port, connections, **kwargs),
                                  connections, timeout)

    # --- ringtunnel ------------------------------------------------------------------------

    def server(self, name, data_dir, port=None, args=(), log_file=None, threads=2):
        """Starts a server and waits until it is ready; retries another port if one was taken."""
        for attempt in range(3):
            chosen = port or free_port()
            argv = [self.rt, "server", "--bind", "127.0.0.1", "--port", str(chosen),
                    "--data-dir", data_dir, "--threads", str(threads), *self.backend_args, *args]
            if log_file:
                argv += ["--log-file", log_file]
            proc = self.spawn(name if attempt == 0 else f"{name}-retry{attempt}", argv, log_file)
            try:
                proc.wait_for(r"server ready: listening on ", "'server ready'")
                break
            except Failure:
                if port or "in use" not in proc.text() or attempt == 2:
                    raise
                proc.wait_exit()  # it lost the port to another program: try another one
        proc.port = chosen
        proc.data_dir = data_dir
        proc.fingerprint = proc.wait_for(r"server identity (SHA256:\S+)", "its identity").group(1)
        token_file = os.path.join(data_dir, "server_token")
        proc.token = open(token_file).read().strip() if os.path.exists(token_file) else None
        if "--io-backend" in self.backend_args:
            wanted = self.backend_args[self.backend_args.index("--io-backend") + 1]
            check(re.search(rf"server ready: .*backend: {wanted}", proc.text()),
                  f"{name} does not run the {wanted} backend that was asked for")
        return proc

    def client(self, name, data_dir, server_port, forwards, token=None, accept_new_host=True,
               sessions=1, args=(), idle_priority=False):
        """sessions=None keeps the default (one per reactor: 2). The cases about trust, policy
        and errors use one session, so each checks its own behaviour only; the data-path cases
        and client_second_session use two."""
        argv = [self.rt, "client", "--ip", "127.0.0.1", "--port", str(server_port),
                "--data-dir", data_dir, "--threads", "2", *self.backend_args]
        if sessions is not None:
            argv += ["--sessions", str(sessions)]
        for spec in forwards:
            argv += ["-L", spec]
        if token:
            argv += ["--token", token]
        if accept_new_host:
            argv.append("--accept-new-host")
        return self.spawn(name, argv + list(args), idle_priority=idle_priority)

    def ready(self, client, tunnels, timeout=READY_TIMEOUT):
        """Waits for 'client ready' and returns {tunnel name: (local port, log line)}."""
        try:
            client.wait_for(rf"client ready: {tunnels} tunnel\(s\) over \d+ session\(s\)",
                            f"'client ready: {tunnels} tunnel(s)'", timeout)
        except Failure as e:
            up = len(re.findall(r"session \d+ to \S+: up", client.text()))
            raise Failure(f"{e}; {up} session(s) logged 'up'") from None
        found = {}
        for m in re.finditer(r"tunnel (\S+): listening on [\d.]+:(\d+)(.*)$", client.text(), re.M):
            found[m.group(1)] = (int(m.group(2)), m.group(0))
        check(len(found) == tunnels, f"{client.name} logged {len(found)} tunnel lines, expected "
              f"{tunnels}")
        return found

    def accepted_port(self, tunnels, spec):
        check(spec in tunnels, f"no 'tunnel {spec}: listening on' line")
        port, line = tunnels[spec]
        check(f"the server accepts 127.0.0.1:{spec.rsplit(':', 1)[1]}" in line,
              f"tunnel {spec} is not accepted by the server: {line}")
        return port

    def enrolled(self, name, server, data_dir, echo, sessions=1):
        """A client enrolled with the server's token, ready, with one tunnel to `echo`."""
        client = self.client(name, data_dir, server.port, [fwd(echo.port)], token=server.token,
                             sessions=sessions)
        port = self.accepted_port(self.ready(client, 1), fwd(echo.port))
        return client, port


def client_fingerprint(client):
    return client.wait_for(r"created this client's key \S+ \((SHA256:[^)]+)\)",
                           "the key it created").group(1)


def authorized_fingerprints(server):
    """The SHA256: fingerprints of the keys in the server's authorized_keys (none if absent)."""
    path = os.path.join(server.data_dir, "authorized_keys")
    if not os.path.exists(path):
        return set()
    found = set()
    for line in open(path).read().splitlines():
        fields = line.split()
        if len(fields) >= 2 and not line.startswith("#"):
            digest = hashlib.sha256(base64.b64decode(fields[1])).digest()
            found.add("SHA256:" + base64.b64encode(digest).decode().rstrip("="))
    return found


def remove_authorized(server, fingerprint):
    """Rewrites the server's authorized_keys without the key of `fingerprint` (as an operator
    would with an editor); returns how many lines were dropped."""
    path = os.path.join(server.data_dir, "authorized_keys")
    kept, dropped = [], 0
    for line in open(path).read().splitlines():
        fields = line.split()
        if len(fields) >= 2 and not line.startswith("#"):
            digest = hashlib.sha256(base64.b64decode(fields[1])).digest()
            if "SHA256:" + base64.b64encode(digest).decode().rstrip("=") == fingerprint:
                dropped += 1
                continue
        kept.append(line)
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in kept))
    return dropped


def file_mode(path):
    check(os.path.exists(path), f"{path} does not exist")
    return stat.S_IMODE(os.stat(path).st_mode)


def read_all(sock, timeout):
    """Everything `sock` sends until EOF; raises Failure if EOF does not come in time."""
    sock.settimeout(timeout)
    chunks = []
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    except socket.timeout:
        got = sum(map(len, chunks))
        raise Failure(f"no EOF within {timeout:.0f} s (got {got} bytes)") from None


def read_exactly(sock, count, timeout):
    """`count` bytes from `sock` (fewer only if EOF comes first)."""
    sock.settimeout(timeout)
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def echo_roundtrip(port, payload, timeout=15.0):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        return read_all(s, timeout)


def listening_ports(pid):
    """The TCP ports process `pid` listens on, from /proc (no ss/netstat needed)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for row in f.read().splitlines()[1:]:
                cols = row.split()
                if cols[3] == "0A" and cols[9] in inodes:  # 0A: LISTEN
                    ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


class FlipProxy:
    """A TCP man in the middle: forwards both ways; once armed, flips one bit of the next chunk
    going server→client (to_client) or client→server. While `frozen` is set it swallows every
    byte both ways and keeps the connections open: a network that went away without a FIN."""

    def __init__(self, target_port, to_client=True):
        self.target_port, self.to_client = target_port, to_client
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.armed, self.flipped = threading.Event(), threading.Event()
        self.frozen = threading.Event()
        self.sockets, self.lock = [], threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                downstream, _ = self.listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
                upstream.settimeout(None)
            except OSError:
                downstream.close()  # the server is down: so is this connection
                continue
            with self.lock:
                self.sockets += [downstream, upstream]
            for source, sink, tamper in ((downstream, upstream, not self.to_client),
                                         (upstream, downstream, self.to_client)):
                threading.Thread(target=self._pump, args=(source, sink, tamper),
                                 daemon=True).start()

    def _pump(self, source, sink, tamper):
        try:
            while True:
                data = source.recv(65536)
                if not data and self.frozen.is_set():
                    return  # a dead network carries no FIN either: the other side stays open
                if not data:
                    break
                if self.frozen.is_set():
                    continue
                if tamper and self.armed.is_set() and not self.flipped.is_set():
                    data = bytearray(data)
                    data[len(data) // 2] ^= 0x10
                    self.flipped.set()
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        self.listener.close()
        with self.lock:
            for s in self.sockets:
                s.close()


def tampered_session(t, server, echo, to_client, client_args=(),
                     lost=r"lost: .*decrypt.*"):
    """A client through a FlipProxy; once it is up, one bit flips: the session ends (`lost`: how
    the client logs it) and the client sets up a new one (the flip was once), which works."""
    way = "server→client" if to_client else "client→server"
    proxy = FlipProxy(server.port, to_client)
    try:
        victim = t.client(f"client-victim-{'down' if to_client else 'up'}",
                          t.path(f"victim-{to_client}-data"), proxy.port, [fwd(echo.port)],
                          token=server.token, sessions=1, args=client_args)
        port = t.accepted_port(t.ready(victim, 1), fwd(echo.port))
        check(echo_roundtrip(port, b"before") == b"before", "no echo through the proxy")
        proxy.armed.set()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(os.urandom(4096))
                s.settimeout(10)
                s.recv(65536)
        except OSError:
            pass  # the session may die under this stream: that is the point
        check(proxy.flipped.wait(10), f"no {way} bytes to tamper with after arming")
        victim.wait_for(rf"session 0 to \S+: {lost}; trying again in",
                        f"that its session was lost ({lost}) after a flipped {way} bit",
                        timeout=15)
        victim.wait_for(r"session 0 to \S+: up(?s:.*)session 0 to \S+: up",
                        "a new session after the tampered one", timeout=15)
        check(echo_roundtrip(port, b"after") == b"after", "no echo through the new session")
        victim.stop_ok()
    finally:
        proxy.close()
    return victim



# --- the cases ---------------------------------------------------------------------------------


# --- running cases ---------------------------------------------------------------------------

def run_cases(cases, doc):
    """The command line of a case file: RINGTUNNEL LOADGEN [--case NAME]... [--io-backend B];
    runs the cases asked for (all by default), then prints "N passed, N failed[, N skipped]"."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("ringtunnel")
    parser.add_argument("loadgen")
    parser.add_argument("--case", action="append", choices=sorted(cases), dest="cases")
    parser.add_argument("--io-backend", choices=["auto", "io_uring", "epoll"])
    args = parser.parse_args()
    args.ringtunnel, args.loadgen = map(os.path.abspath, (args.ringtunnel, args.loadgen))
    # meson's timeout sends SIGTERM: unwind through the finally blocks so no child is left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    backend_args = ["--io-backend", args.io_backend] if args.io_backend else []
    passed = failed = skipped = 0
    try:
        for name in args.cases or list(cases):
            failed += 1  # until it ends: an interrupted case counts as failed
            outcome = run_case(cases, name, args.ringtunnel, args.loadgen, backend_args)
            failed -= 1
            passed += outcome == "pass"
            failed += outcome == "fail"
            skipped += outcome == "skip"
    finally:
        print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""),
              flush=True)
    if failed:
        return 1
    return 77 if skipped and not passed else 0


def run_case(cases, name, rt, loadgen, backend_args):
    test = Test(name, rt, loadgen, backend_args)
    started = time.monotonic()
    label = name + (f" ({' '.join(backend_args)})" if backend_args else "")
    ok, outcome = False, "fail"
    try:
        print(f"=== {label}: {' '.join(cases[name].__doc__.split())}", flush=True)
        cases[name](test)
        test.finish()
        ok, outcome = True, "pass"
    except Skip as e:
        ok, outcome = True, "skip"
        print(f"SKIP {label}: {e}")
    except Failure as e:
        print(f"FAIL {label}: {e}")
    except Exception as e:  # a bug in the test or an unexpected OS error: still a clear FAIL
        print(f"FAIL {label}: unexpected {type(e).__name__}: {e}")
    except BaseException:
        print(f"FAIL {label}: interrupted (SIGTERM or SIGINT: a meson timeout?)")
        raise
    finally:
        if not ok:
            test.dump_logs()
        test.cleanup()
    print(f"{outcome.upper()} {label} ({time.monotonic() - started:.1f} s)", flush=True)
    return outcome
