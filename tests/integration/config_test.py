#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Profiles and config.yaml end to end: connect PROFILE pushes real bytes through tunnels the
file describes; flag > environment > profile > defaults > built-in; config init and show; the
server's section; every bad config a clear error naming file, line and key; tokens from a file and
from a no-echo prompt.

Usage: config_test.py RINGTUNNEL LOADGEN [--case NAME]... [--io-backend B]"""
import os
import pty
import re
import select
import socket
import subprocess
import time

from tunnel_harness import *  # noqa: F401,F403 (the harness is this file's vocabulary)
from tunnel_harness import Failure, Test


def data_dir(t, name, config=None):
    path = t.path(name)
    os.mkdir(path, 0o700)
    if config is not None:
        with open(os.path.join(path, "config.yaml"), "w") as f:
            f.write(config)
    return path


def run(t, argv, env=None, timeout=30):
    """A short command (config init/show, a refused start): its status and output."""
    done = subprocess.run([t.rt, *argv], capture_output=True, text=True, timeout=timeout,
                          env={**child_env(), **(env or {})}, cwd=t.dir,
                          stdin=subprocess.DEVNULL, start_new_session=True)
    return done.returncode, done.stdout + done.stderr


def token_file(t, server):
    path = t.path("token")
    with open(path, "w") as f:
        f.write(server.token + "\n")
    os.chmod(path, 0o600)
    return path


def connect(t, name, directory, profile, args=(), env=None):
    return t.spawn(name, [t.rt, "connect", profile, "--data-dir", directory, "--threads", "2",
                          *t.backend_args, *args], env=env)


def case_connect_profile(t):
    """connect dev: server, port, token file and both tunnel forms from the profile carry bytes"""
    echo = t.echo()
    server = t.server("server", data_dir(t, "server"))
    client_dir = data_dir(t, "client", f"""
defaults:
  accept_new_host: true
profiles:
  dev:
    server: 127.0.0.1
    port: {server.port}
    token_file: {token_file(t, server)}
    sessions: 1
    tunnels:
      - "127.0.0.1:0:127.0.0.1:{echo.port}"
      - {{local: 0, remote: {echo.port}, host: 127.0.0.1, bind: 127.0.0.1, mode: tcp}}
  other:
    server: 192.0.2.1
    tunnels: ["1:2"]
""")
    client = connect(t, "client", client_dir, "dev")
    client.wait_for(r"profile 'dev' of \S+config\.yaml", "which profile it runs")
    client.wait_for(r"client ready: 2 tunnel\(s\) over 1 session\(s\) to 127\.0\.0\.1:",
                    "'client ready' with both tunnels")
    ports = [int(p) for p in re.findall(r"tunnel \S+: listening on 127\.0\.0\.1:(\d+)",
                                        client.text())]
    check(len(ports) == 2 and ports[0] != ports[1], f"expected two listeners, got {ports}")
    for index, port in enumerate(ports):
        t.verify(f"verify{index}", port, 8)
    check(t.echo_connections(echo) == 16, "the echo server did not see 16 connections")
    check("enrolled client" in server.text(), "the client did not enrol with the file's token")


def case_precedence(t):
    """flag > environment > profile > defaults > built-in, and -L replaces the profile's tunnels"""
    echo = t.echo()
    server = t.server("server", data_dir(t, "server"), args=["--trust-first-client"])
    # defaults: names the server and a wrong port; the profile fixes the port and asks for two
    # sessions; the environment asks for one; the tunnels point nowhere useful and are replaced.
    client_dir = data_dir(t, "client", f"""
defaults:
  server: 127.0.0.1
  port: 1
  accept_new_host: true
  sessions: 2
  connect_wait: 1
profiles:
  dev:
    port: {server.port}
    sessions: 2
    bind: 127.0.0.2
    tunnels: ["127.0.0.1:0:127.0.0.1:1"]
""")
    client = connect(t, "client", client_dir, "dev",
                     args=["-L", f"0:127.0.0.1:{echo.port}", "--bind", "127.0.0.1"],
                     env={"RINGTUNNEL_SESSIONS": "1"})
    client.wait_for(r"client ready: 1 tunnel\(s\) over 1 session\(s\)",
                    "'client ready: 1 tunnel(s) over 1 session(s)' (env over profile)")
    found = re.search(r"tunnel 127\.0\.0\.1:0:127\.0\.0\.1:\d+: listening on 127\.0\.0\.1:(\d+)",
                      client.text())
    check(found, "the -L tunnel did not listen on --bind 127.0.0.1 (flag over profile)")
    t.verify("verify", int(found.group(1)), 4)
    # The profile's port beat the defaults' port 1: no connection was refused on the way.
    check("Connection refused" not in client.text(), "the defaults' port 1 was used")
    # A flag on the command line beats everything: --port 1 makes this one fail to connect.
    second = connect(t, "second", data_dir(t, "second", f"""
profiles:
  dev: {{server: 127.0.0.1, port: {server.port}, tunnels: ["0:{echo.port}"]}}
"""), "dev", args=["--port", "1", "--connect-wait", "1"])
    second.wait_for(r"cannot connect to the server 127\.0\.0\.1:1:", "a connect to --port 1")


def case_config_errors(t):
    """bad values, unknown profiles and keys: a clear error with file, line and key, exit 2"""
    directory = data_dir(t, "client", """defaults:
  accept_new_hots: true
profiles:
  dev:
    server: 127.0.0.1
    sessions: 999
    tunnels: ["15432:5432"]
  empty:
    server: 127.0.0.1
  bad:
    tunnels:
      - {local: 1, remote: 70000}
""")
    path = os.path.join(directory, "config.yaml")
    rc, out = run(t, ["connect", "dev", "--data-dir", directory])
    check(rc == 2, f"a bad config.yaml must stop connect with status 2, got {rc}: {out}")
    check(f"{path}:12: profiles.bad.tunnels[0]: -L '1:70000': remote port 70000 is out of range"
          in out, f"no error naming the bad tunnel's file, line and key: {out}")
    with open(path, "w") as f:
        f.write("""defaults:
  accept_new_hots: true
profiles:
  dev:
    server: 127.0.0.1
    sessions: 999
    tunnels: ["15432:5432"]
  empty:
    server: 127.0.0.1
""")
    rc, out = run(t, ["connect", "dev", "--data-dir", directory])
    check(rc == 2 and f"{path}:6: profiles.dev.sessions: --sessions: Value 999 not in range" in out,
          f"expected the refused sessions value with file and line, got {rc}: {out}")
    rc, out = run(t, ["connect", "dve", "--data-dir", directory])
    check(rc == 2 and "no profile 'dve'; did you mean 'dev'? (profiles: dev, empty)" in out,
          f"an unknown profile must be named with a suggestion, got {rc}: {out}")
    rc, out = run(t, ["connect", "empty", "--data-dir", directory])
    check(rc == 2 and f"{path}:8: profiles.empty has no tunnels" in out,
          f"a profile without tunnels must say so, got {rc}: {out}")
    # An unknown key is a warning with a suggestion, logged when the command runs.
    rc, out = run(t, ["config", "show", "--data-dir", directory])
    check(rc == 2 and "accept_new_hots: unknown key; did you mean 'accept_new_host'?" in out,
          f"config show must warn about the misspelt key and fail on 999, got {rc}: {out}")
    # The server's section is checked the same way.
    server_dir = data_dir(t, "server", "server:\n  port: 9000\n  transport: quic\n")
    rc, out = run(t, ["server", "--data-dir", server_dir, "--port", "0"])
    check(rc == 2 and "config.yaml:3: server.transport: --transport: 'quic' is not a transport; "
          "use native or tls" in out,
          f"an unknown transport must be refused with file and line: {rc}: {out}")
    with open(os.path.join(server_dir, "config.yaml"), "w") as f:
        f.write("server:\n  port: [1, 2]\n")
    rc, out = run(t, ["server", "--data-dir", server_dir])
    check(rc == 2 and "config.yaml:2: server.port: expected one value, got a list" in out,
          f"a list for a port must be refused: {rc}: {out}")
    with open(os.path.join(server_dir, "config.yaml"), "w") as f:
        f.write("server:\n  port: 9000\n   bind: x\n")
    rc, out = run(t, ["server", "--data-dir", server_dir])
    check(rc == 2 and "config.yaml:3: not valid YAML" in out, f"broken YAML: {rc}: {out}")


def case_init_show(t):
    """config init writes a commented 0600 file once; config show names each value's source"""
    directory = t.path("fresh")  # config init makes the data dir too
    rc, out = run(t, ["config", "init", "--data-dir", directory])
    path = os.path.join(directory, "config.yaml")
    check(rc == 0 and f"wrote {path}" in out, f"config init failed: {rc}: {out}")
    check(file_mode(path) == 0o600 and file_mode(directory) == 0o700,
          f"modes {oct(file_mode(path))} {oct(file_mode(directory))}, expected 0600 and 0700")
    original = open(path).read()
    check("# " in original and "profiles:" in original, "the template has no comments or profiles")
    with open(path, "a") as f:
        f.write("# mine\n")
    rc, out = run(t, ["config", "init", "--data-dir", directory])
    check(rc == 2 and "exists; `ringtunnel config init --force` replaces it" in out,
          f"a second init must refuse: {rc}: {out}")
    check(open(path).read().endswith("# mine\n"), "a refused init changed the file")
    rc, out = run(t, ["config", "init", "--data-dir", directory, "--force"])
    check(rc == 0 and open(path).read() == original, f"--force must rewrite the template: {out}")
    # The template's dev profile, with a secret to redact and one value from the environment.
    text = original.replace("  dev:\n", "  dev:\n    token: s3cret-token-value\n", 1)
    with open(path, "w") as f:
        f.write(text)
    rc, out = run(t, ["config", "show", "--data-dir", directory],
                  env={"RINGTUNNEL_THREADS": "3", "RINGTUNNEL_PORT": "9123"})
    check(rc == 0, f"config show failed: {rc}: {out}")
    check("s3cret" not in out and "token: <redacted>" in out, f"the token was not redacted: {out}")
    check(re.search(r"^  threads: 3 +# environment RINGTUNNEL_THREADS$", out, re.M),
          f"threads should come from the environment: {out}")
    check(re.search(r"^  bind: localhost +# config\.yaml:\d+$", out, re.M),
          f"defaults.bind should come from the file: {out}")
    check(re.search(r"^  heartbeat_interval: 15 +# default$", out, re.M),
          f"heartbeat_interval should be the default: {out}")
    server_part = out.split("\nserver:", 1)[1]
    check(re.search(r"^  port: 9123 +# environment RINGTUNNEL_PORT$", server_part, re.M),
          f"the server's port should come from RINGTUNNEL_PORT: {server_part}")
    rc, out = run(t, ["config", "show", "--data-dir", directory, "--profile", "dev"])
    check(rc == 0 and "`ringtunnel connect dev` runs with:" in out, f"show --profile: {rc}: {out}")
    check(re.search(r"^    server: 127\.0\.0\.1 +# config\.yaml:\d+$", out, re.M) and
          re.search(r'^      - "15432:5432"$', out, re.M),
          f"the profile's server and tunnel are not shown: {out}")


def case_server_section(t):
    """the server takes port, bind and token_file from server:, under its flags"""
    echo = t.echo()
    port = free_port()
    secret = t.path("server-token")
    with open(secret, "w") as f:
        f.write("from-the-token-file\n")
    os.chmod(secret, 0o600)
    server_dir = data_dir(t, "server", f"""server:
  port: {port}
  bind: 127.0.0.1
  token_file: {secret}
  max_streams: 4
""")
    server = t.spawn("server", [t.rt, "server", "--data-dir", server_dir, "--threads", "1",
                                *t.backend_args])
    server.wait_for(rf"server ready: listening on 127\.0\.0\.1:{port} ", "the file's bind and port")
    check("No client is enrolled yet. On the client machine" not in server.text(),
          "the server made its own token although token_file names one")
    client = t.client("client", data_dir(t, "client"), port, [fwd(echo.port)],
                      token="from-the-token-file")
    t.ready(client, 1)
    check("enrolled client" in server.text(), "the token from token_file did not enrol")
    # A flag beats the file: --port elsewhere.
    other = free_port()
    flagged = t.spawn("flagged", [t.rt, "server", "--data-dir", server_dir, "--threads", "1",
                                  "--port", str(other), *t.backend_args])
    flagged.wait_for(rf"server ready: listening on 127\.0\.0\.1:{other} ", "the flag's port")


def case_token_input(t):
    """--token - asks without echo on the terminal; --token-file reads a file; both checked"""
    server = t.server("server", data_dir(t, "server"))
    echo = t.echo()
    # No terminal: a clear refusal, not a hang.
    rc, out = run(t, ["client", "--ip", "127.0.0.1", "--port", str(server.port), "-L",
                      fwd(echo.port), "--data-dir", data_dir(t, "c0"), "--token", "-"])
    check(rc == 2 and "--token -: no terminal to ask on" in out,
          f"--token - without a terminal must be refused: {rc}: {out}")
    empty = t.path("empty-token")
    open(empty, "w").close()
    rc, out = run(t, ["client", "--ip", "127.0.0.1", "--port", str(server.port), "-L",
                      fwd(echo.port), "--data-dir", data_dir(t, "c1"), "--token-file", empty])
    check(rc == 2 and f"--token-file {empty}: the token is empty" in out,
          f"an empty token file must be refused: {rc}: {out}")
    rc, out = run(t, ["client", "--ip", "127.0.0.1", "--port", str(server.port), "-L",
                      fwd(echo.port), "--data-dir", data_dir(t, "c2"), "--token-file", t.dir])
    check(rc == 2 and "not a regular file" in out, f"a directory as token file: {rc}: {out}")
    # The prompt, on a pseudo-terminal: the token typed is not echoed, and it enrols.
    argv = [t.rt, "client", "--ip", "127.0.0.1", "--port", str(server.port), "-L",
            fwd(echo.port), "--data-dir", data_dir(t, "c3"), "--token", "-", "--accept-new-host",
            "--threads", "1", "--sessions", "1", *t.backend_args]
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, child_env())
    seen = b""
    try:
        deadline = time.monotonic() + 20
        def read_until(marker):
            nonlocal seen
            while marker not in seen:
                check(time.monotonic() < deadline, f"no {marker!r} on the terminal: {seen!r}")
                ready, _, _ = select.select([fd], [], [], 0.2)
                if ready:
                    try:
                        seen += os.read(fd, 4096)
                    except OSError:
                        break
        read_until(b"Token: ")
        os.write(fd, server.token.encode() + b"\n")
        read_until(b"client ready: 1 tunnel(s)")
        check(server.token.encode() not in seen,
              f"the token typed was echoed on the terminal: {seen!r}")
        check("enrolled client" in server.text(), "the prompted token did not enrol the client")
    finally:
        os.kill(pid, 15)
        for _ in range(200):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)


def case_status(t):
    """status: keys, pins, clients, profiles, and the live state of the running server and client"""
    import json
    echo = t.echo()
    server = t.server("server", data_dir(t, "server"))
    client_dir = data_dir(t, "client", f"""
profiles:
  dev:
    server: 127.0.0.1
    port: {server.port}
    accept_new_host: true
    sessions: 1
    token: {server.token}
    tunnels: ["127.0.0.1:0:127.0.0.1:{echo.port}"]
""")
    rc, out = run(t, ["status", "--data-dir", client_dir])
    check(rc == 0 and "running      nothing on this data dir" in out and
          "client key   none yet" in out and re.search(r"dev +127\.0\.0\.1:\d+, 1 tunnel", out),
          f"status before the client ran: {rc}: {out}")
    client = connect(t, "client", client_dir, "dev")
    found = client.wait_for(r"tunnel \S+: listening on 127\.0\.0\.1:(\d+)", "its listener")
    client.wait_for(r"client ready: 1 tunnel", "'client ready'")
    t.verify("verify", int(found.group(1)), 4, min_bytes=100000, max_bytes=200000)
    fingerprint = client_fingerprint(client)
    rc, out = run(t, ["status", "--data-dir", server.data_dir])
    check(rc == 0, f"status: {rc}: {out}")
    check(f"server key   {server.fingerprint}" in out, f"the server key is not shown: {out}")
    check(re.search(rf"clients +1 enrolled", out) and fingerprint in out,
          f"the enrolled client is not listed: {out}")
    live = re.search(rf"server +pid {server.popen.pid}, running, up \d+ s, listening on "
                     rf"127\.0\.0\.1:{server.port}; 1 session\(s\) now", out)
    check(live, f"the running server's live state is missing: {out}")
    check(re.search(rf"client {re.escape(fingerprint)} .*: core \d, up \d+ s, rtt", out),
          f"the server's session line is missing: {out}")
    rc, out = run(t, ["status", "--data-dir", client_dir, "--json"])
    check(rc == 0, f"status --json: {rc}: {out}")
    states = json.loads(out)
    check(len(states) == 1 and states[0]["role"] == "client" and
          states[0]["pid"] == client.popen.pid and len(states[0]["sessions"]) == 1,
          f"status --json should list the one client: {out}")
    # 4 connections of at least 100,000 bytes each went out and came back.
    check(states[0]["bytes_out"] >= 400000 and states[0]["bytes_in"] >= 400000,
          f"the client's live byte counts did not move with the traffic: {out}")
    rc, out = run(t, ["status", "--data-dir", client_dir])
    check(f"known hosts  1 pinned" in out and server.fingerprint in out,
          f"the pinned server is not shown: {out}")
    # A process killed without cleaning up leaves its socket: status removes it.
    client.popen.kill()
    client.wait_exit()
    sockets = os.listdir(os.path.join(client_dir, "run"))
    check(len(sockets) == 1, f"expected the killed client's socket to remain: {sockets}")
    rc, out = run(t, ["status", "--data-dir", client_dir])
    check(rc == 0 and "running      nothing on this data dir" in out,
          f"a dead client must not be shown as running: {out}")
    check(os.listdir(os.path.join(client_dir, "run")) == [], "the stale socket was not removed")
    # A clean stop removes its own socket.
    server.stop_ok()
    check(os.listdir(os.path.join(server.data_dir, "run")) == [],
          "the server left its control socket behind")


def case_log_json(t):
    """JSON logs: every line parses, carries session/client/tunnel/stream fields; SIGHUP reopens
    the log file after logrotate moved it"""
    import json
    import signal as signals
    echo = t.echo()
    log = t.path("server.log")
    server = t.server("server", data_dir(t, "server"), log_file=log,
                      args=["--allowed-ports", str(echo.port)])
    client = t.client("client", data_dir(t, "client"), server.port,
                      [fwd(echo.port), fwd(1)], token=server.token, args=["--log-json"])
    tunnels = t.ready(client, 2)
    port = t.accepted_port(tunnels, fwd(echo.port))
    t.verify("verify", port, 2)
    refused_port = tunnels[fwd(1)][0]
    with socket.create_connection(("127.0.0.1", refused_port), timeout=10) as s:
        s.settimeout(10)
        check(s.recv(1) == b"", "a refused tunnel's connection must be closed")
    server.wait_for(r"refused: port_not_allowed", "the refusal")
    # The client's log is asynchronous: its line may land after the connection closed.
    client.wait_for(r"refused by the peer", "the client's refusal line")

    def entries(text, who):
        parsed = []
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                parsed.append(json.loads(line))
            except ValueError:
                raise Failure(f"{who}: a log line is not JSON: {line!r}") from None
        check(parsed, f"{who} logged nothing")
        for entry in parsed:
            check({"ts", "level", "msg"} <= entry.keys(), f"{who}: fields missing in {entry}")
        return parsed

    server_lines = entries(open(log).read(), "server log file")
    client_lines = entries(open(client.out).read(), "client --log-json")
    refusal = [e for e in server_lines if "port_not_allowed" in e["msg"]]
    check(refusal and refusal[0].get("tunnel") == fwd(1) and
          refusal[0].get("client", "").startswith("SHA256:") and
          isinstance(refusal[0].get("stream"), int) and refusal[0].get("session"),
          f"the refusal line lacks its tunnel/client/stream/session fields: {refusal}")
    connected = [e for e in server_lines if " connected (core" in e["msg"]]
    check(connected and connected[0].get("client", "").startswith("SHA256:"),
          f"the connect line lacks the client field: {connected}")
    up = [e for e in client_lines if e["msg"].endswith(")") and ": up (server identity" in e["msg"]]
    check(up and up[0].get("session", "").startswith("session 0 to "),
          f"the client's session-up line lacks its session field: {up}")
    peer_refusal = [e for e in client_lines if "refused by the peer" in e["msg"]]
    check(peer_refusal and peer_refusal[0].get("tunnel") == fwd(1),
          f"the client's refusal line lacks its tunnel field: {peer_refusal}")
    # logrotate: move the file away, SIGHUP; the next lines go to a new file of that name.
    os.rename(log, log + ".1")
    server.popen.send_signal(signals.SIGHUP)
    deadline = time.monotonic() + 20
    while not os.path.exists(log):
        check(time.monotonic() < deadline, "no new log file after SIGHUP")
        time.sleep(0.05)
    check(file_mode(log) == 0o600, f"the reopened log file is {oct(file_mode(log))}")
    moved_size = os.path.getsize(log + ".1")
    time.sleep(0.2)  # the reload's own lines may still be on their way
    second = t.client("second", data_dir(t, "second"), server.port, [fwd(echo.port)],
                      token=server.token)
    t.ready(second, 1)
    deadline = time.monotonic() + 20
    while " connected (core" not in open(log).read():
        check(time.monotonic() < deadline, "the second client's connect line is not in the new file")
        time.sleep(0.05)
    entries(open(log).read(), "reopened log file")
    check(os.path.getsize(log + ".1") >= moved_size, "the moved file shrank")


def case_reload_tunnels(t):
    """SIGHUP on connect PROFILE: tunnels added and removed live, across cores; open streams on a
    removed tunnel finish; a broken file changes nothing; a removed port can come back"""
    import signal as signals
    from udp_test import UdpEcho, roundtrip, udp_socket
    echo = t.echo()
    udp_echo = UdpEcho()
    try:
        server = t.server("server", data_dir(t, "server"))
        a, b, c = free_port(), free_port(), free_port()
        tunnel_a = f"127.0.0.1:{a}:127.0.0.1:{echo.port}"
        tunnel_b = f"127.0.0.1:{b}:127.0.0.1:{echo.port}"
        tunnel_c = f"127.0.0.1:{c}:127.0.0.1:{udp_echo.port}:udp"
        directory = data_dir(t, "client")
        path = os.path.join(directory, "config.yaml")

        def write(tunnels):
            with open(path + ".new", "w") as f:
                f.write(f"""profiles:
  dev:
    server: 127.0.0.1
    port: {server.port}
    accept_new_host: true
    token: {server.token}
    sessions: 2
    tunnels: [{", ".join('"' + x + '"' for x in tunnels)}]
""")
            os.rename(path + ".new", path)

        def reload(expect):
            mark = len(client.text())
            client.popen.send_signal(signals.SIGHUP)
            deadline = time.monotonic() + 20
            while expect not in client.text()[mark:]:
                check(time.monotonic() < deadline,
                      f"expected '{expect}' after SIGHUP: {client.text()[mark:][-1500:]}")
                time.sleep(0.05)

        def refused(port):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=2).close()
                except ConnectionRefusedError:
                    return True
                time.sleep(0.05)
            return False

        write([tunnel_a])
        client = connect(t, "client", directory, "dev")
        client.wait_for(r"client ready: 1 tunnel\(s\) over 2 session\(s\)", "'client ready'")
        held = socket.create_connection(("127.0.0.1", a), timeout=10)
        held.settimeout(10)
        held.sendall(b"before")
        check(read_exactly(held, 6, 10) == b"before", "no echo on tunnel A before the reload")

        write([tunnel_b, tunnel_c])
        reload("reload: 2 tunnel(s) added, 1 removed, 0 unchanged")
        client.wait_for(rf"tunnel {re.escape(tunnel_b)}: listening on 127\.0\.0\.1:{b}; the server "
                        "accepts", "tunnel B accepted")
        client.wait_for(rf"tunnel {re.escape(tunnel_c)}: listening on 127\.0\.0\.1:{c}; the server "
                        "accepts", "tunnel C accepted")
        check(f"tunnel {tunnel_a}: removed by the reload" in client.text(), "A's removal not logged")
        t.verify("verify-b", b, 8)  # new connections land on both cores' listeners
        with udp_socket() as s:
            check(roundtrip(s, ("127.0.0.1", c), b"datagram") == b"datagram",
                  "no UDP echo through the added tunnel C")
        check(refused(a), "the removed tunnel A still accepts connections")
        held.sendall(b"after")
        check(read_exactly(held, 5, 10) == b"after",
              "the stream open on tunnel A did not go on after A was removed")
        held.close()

        with open(path, "w") as f:
            f.write("profiles:\n  dev: [\n")
        reload("the tunnels stay as they were")
        check("not valid YAML" in client.text(), "the broken file's error was not named")
        t.verify("verify-b-again", b, 2)

        write([tunnel_a, tunnel_b])
        reload("reload: 1 tunnel(s) added, 1 removed, 1 unchanged")
        client.wait_for(rf"tunnel {re.escape(tunnel_a)}: listening on 127\.0\.0\.1:{a}; the server "
                        "accepts", "tunnel A back")
        t.verify("verify-a", a, 4)
        t.verify("verify-b-last", b, 2)
        with udp_socket(timeout=1) as s:
            deadline = time.monotonic() + 10
            while roundtrip(s, ("127.0.0.1", c), b"gone?", timeout=0.3) is not None:
                check(time.monotonic() < deadline, "the removed UDP tunnel C still answers")
        client.stop_ok()
    finally:
        udp_echo.close()


def case_help(t):
    """--help on every command explains its flags and shows their defaults"""
    for command, expected in (("client", ["--port", "=9000", "--token-file", "RINGTUNNEL_TOKEN"]),
                              ("connect", ["profile", "--bind", "=localhost", "--log-level"]),
                              ("server", ["--max-streams", "=8192", "--transport", "=native"]),
                              ("config", ["init", "show"])):
        rc, out = run(t, [command, "--help"])
        check(rc == 0, f"{command} --help: status {rc}")
        for word in expected:
            check(word in out, f"{command} --help does not mention {word}: {out}")


CASES = {
    "connect_profile": case_connect_profile,
    "precedence": case_precedence,
    "config_errors": case_config_errors,
    "init_show": case_init_show,
    "server_section": case_server_section,
    "token_input": case_token_input,
    "status": case_status,
    "log_json": case_log_json,
    "reload_tunnels": case_reload_tunnels,
    "help": case_help,
}

if __name__ == "__main__":
    raise SystemExit(run_cases(CASES, __doc__))
