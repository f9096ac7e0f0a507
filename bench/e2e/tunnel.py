#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Tunnel comparison: direct TCP vs ringtunnel (client -L + server; native and --transport tls)
vs ssh -L (aes256-gcm) vs a stunnel pair (TLS 1.3, AES-256-GCM).

Usage: tunnel.py --build-dir DIR [--quick] [--runs N] [--out DIR] [--paths direct,ssh,...]

Per path and run (paths interleaved A B A B inside every run, order rotated per run), each
sample on a freshly started tunnel (both ends): single-stream throughput into a sink with the CPU
time of the tunnel's two ends, 64-byte ping-pong RTT, stream setup rate (connect, 1-byte echo,
close; sequential and 16 in parallel), and on the first runs the RSS of both ends idle and while
10,000 streams are held. Prints one markdown table and the targets of the tunnel and the TLS
issues (PASS/MISS) to stdout, progress to stderr, all raw samples to OUT/tunnel.json. Stdlib
only; run with /usr/bin/python3.
Loopback only; every step is bounded in time.
"""

import argparse
import json
import os
import platform
import pwd
import re
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

from common import (READY_TIMEOUT, MeasureError, build_options, cpu_by_group, cpu_spent, fmt,
                    free_port, load_average, loadgen_client, log, median_of, pids_memory,
                    proc_tree, ratio, run_client, run_driver, set_log_tag, spread,
                    start_loadgen_servers, wait_forwards)

PATHS = ("direct", "ringtunnel", "ringtunnel-tls", "ringtunnel-expose", "ssh", "stunnel")
# SIGTERM must stop these with exit 0
RINGTUNNEL_PATHS = ("ringtunnel", "ringtunnel-tls", "ringtunnel-expose")
PEERS = ("ssh", "stunnel")  # the table has a ratio column to each
PINGPONG_SIZE = 64
PINGPONG_WARMUP = 2000
RATE_PARALLEL = 16
RATE_STREAM_TIMEOUT = 10
HOLD_STREAMS = 10_000
HOLD_TIMEOUT = 180  # seconds allowed to establish the held streams
TUNNEL_THREADS = 2
SSH_CIPHER = "aes256-gcm@openssh.com"
SSHD = "/usr/sbin/sshd"
SSHD_PRIVSEP_DIR = "/run/sshd"
STUNNEL_TLS_VERSION = "TLSv1.3"
STUNNEL_CIPHERSUITE = "TLS_AES_256_GCM_SHA384"
# stunnel sizes its client limit from RLIMIT_NOFILE at start: 125/256 of it (9,765 at 20,000).
STUNNEL_CLIENTS_PER_FD = 125 / 256

# memory_runs: how many runs (the first ones) measure the 10,000-stream figure, per path. It is
# the slowest figure: 10,000 streams through ssh -L take 1-2 minutes to establish (ssh walks
# every channel on each event), and the peers' figures (ssh, stunnel) are references, not
# targets, so they are measured once (not at all in quick mode, where ringtunnel's, on either
# transport, is measured once). budget_per_path: the time budget in seconds is this times the
# number of paths measured (690 s for the three of direct, ringtunnel and ssh).
FULL = {"runs": 5, "seconds": 10, "count": 20000, "rate_seconds": 5, "budget_per_path": 230,
        "memory_runs": {"ringtunnel": 3, "ringtunnel-tls": 3, "ringtunnel-expose": 1, "ssh": 1,
                        "stunnel": 1}}
QUICK = {"runs": 3, "seconds": 2, "count": 5000, "rate_seconds": 2, "budget_per_path": 57,
         "memory_runs": {"ringtunnel": 1, "ringtunnel-tls": 1, "ringtunnel-expose": 0, "ssh": 0,
                         "stunnel": 0}}

# figure -> the sample keys summarized (median, min–max) per path
FIGURE_KEYS = {
    "throughput": ("gbit_per_s", "cpu_cores", "gbit_per_core"),
    "pingpong": ("p50_us", "p99_us", "p999_us"),
    "rate_seq": ("streams_per_s", "stream_p50_us", "stream_p99_us"),
    "rate_par": ("streams_per_s", "stream_p50_us", "stream_p99_us"),
    "memory": ("kib_per_stream", "pss_kib_per_stream", "rss_idle_client_kib",
               "rss_idle_server_kib"),
}


class Tunnel:
    """One launch of a path: its local forward ports and, for a real tunnel, its two ends."""

    def __init__(self, path):
        self.path = path
        self.ports = {}  # "sink"/"echo" -> the port the load generator connects to
        self.client = None
        self.server = None
        self.server_pids = lambda: proc_tree(self.server.pid)
        self.dirs = []  # removed once both ends are stopped

    def end_pids(self):
        """{"client": [pids], "server": [pids]}: the processes its CPU and RSS are charged to
        (each end's process and any descendants; ringtunnel and ssh have none)."""
        if self.client is None:
            return {}
        return {"client": proc_tree(self.client.pid), "server": self.server_pids()}

    def procs(self):
        return [p for p in (self.client, self.server) if p is not None]


class DirectPath:
    name = "direct"

    def prepare(self):
        return None

    def start(self, tunnel, targets):
        tunnel.ports = dict(targets)


class SshPath:
    """A private sshd (current user, 127.0.0.1, temp keys) and `ssh -N -L` per launch."""
    name = "ssh"

    def __init__(self, launcher, workdir):
        self.launcher = launcher
        self.dir = os.path.join(workdir, "ssh")
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.ssh = shutil.which("ssh")
        self.version = None

    def prepare(self):
        """Checks the tools, makes the keys and checks the config; returns a skip reason."""
        keygen = shutil.which("ssh-keygen")
        for tool, what in ((SSHD, "sshd"), (self.ssh, "ssh"), (keygen, "ssh-keygen")):
            if not tool or not os.access(tool, os.X_OK):
                return f"{what} not installed"
        if not os.path.isdir(SSHD_PRIVSEP_DIR):
            if os.getuid() != 0:
                return f"sshd needs its privilege-separation dir {SSHD_PRIVSEP_DIR} (not root)"
            os.makedirs(SSHD_PRIVSEP_DIR, mode=0o755)
        os.makedirs(self.dir, mode=0o700)
        for key in ("host_ed25519", "client_ed25519"):
            made = subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", "", "-f",
                                   os.path.join(self.dir, key)], capture_output=True, text=True,
                                  timeout=10)
            if made.returncode != 0:
                return f"ssh-keygen failed: {made.stderr.strip()[-300:]}"
        shutil.copyfile(os.path.join(self.dir, "client_ed25519.pub"), self.authorized_keys)
        os.chmod(self.authorized_keys, 0o600)
        check = subprocess.run([SSHD, "-t", "-f", self.write_config(free_port())],
                               capture_output=True, text=True, timeout=10)
        if check.returncode != 0:
            return f"sshd -t rejects the private config: {check.stderr.strip()[-300:]}"
        self.version = subprocess.run([self.ssh, "-V"], capture_output=True, text=True,
                                      timeout=5).stderr.strip()
        return None

    @property
    def authorized_keys(self):
        return os.path.join(self.dir, "authorized_keys")

    def write_config(self, port):
        path = os.path.join(self.dir, f"sshd_config.{port}")
        lines = [f"ListenAddress 127.0.0.1:{port}",
                 f"HostKey {os.path.join(self.dir, 'host_ed25519')}",
                 f"AuthorizedKeysFile {self.authorized_keys}",
                 "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
                 f"PidFile {os.path.join(self.dir, f'sshd.{port}.pid')}", "StrictModes no",
                 f"Ciphers {SSH_CIPHER}", "AllowTcpForwarding yes", "MaxStartups 100"]
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start(self, tunnel, targets):
        port = free_port()
        sshd = self.launcher.start("sshd", [SSHD, "-D", "-e", "-f", self.write_config(port)],
                                   reap_tree=True)
        tunnel.server = sshd
        # The listener only accepts; the per-connection children (setsid) do the work.
        tunnel.server_pids = lambda: proc_tree(sshd.pid)[1:]
        sshd.wait_line(r"Server listening on 127\.0\.0\.1 port", READY_TIMEOUT)
        tunnel.ports = {name: free_port() for name in targets}
        argv = [self.ssh, "-N", "-F", "/dev/null", "-o", "BatchMode=yes",
                "-o", "ExitOnForwardFailure=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-o", f"Ciphers={SSH_CIPHER}", "-o", "Compression=no", "-o", "IdentitiesOnly=yes",
                "-i", os.path.join(self.dir, "client_ed25519"), "-p", str(port)]
        for name, target in targets.items():
            argv += ["-L", f"127.0.0.1:{tunnel.ports[name]}:127.0.0.1:{target}"]
        tunnel.client = self.launcher.start("ssh", argv + [f"{self.user}@127.0.0.1"])
        wait_forwards(tunnel.client, tunnel.ports.values(), READY_TIMEOUT)


class RingtunnelPath:
    """`ringtunnel server` and `ringtunnel client -L` per launch, fresh data dirs each time, on
    the native transport or (`transport="tls"`: path ringtunnel-tls) on `--transport tls` at both
    ends with no other TLS flag (the server's self-signed certificate, pinned by the client).
    `expose=True` (path ringtunnel-expose): the other direction, `client -R PUBLIC:TARGET` with
    the server's `--expose-bind 127.0.0.1`; the load generator connects to the server's public
    port and the client connects each visitor to the target."""

    def __init__(self, launcher, workdir, binary, transport="native", expose=False):
        self.name = ("ringtunnel-expose" if expose else
                     "ringtunnel" if transport == "native" else f"ringtunnel-{transport}")
        self.expose = expose
        self.launcher = launcher
        self.workdir = workdir
        self.binary = binary
        self.transport = transport
        # The native transport runs without the flag, as it did before --transport existed.
        self.transport_args = [] if transport == "native" else ["--transport", transport]
        self.token = secrets.token_hex(16)
        self.version = None
        self.ready_lines = {}  # the last launch's "server ready" / "client ready" lines

    def prepare(self):
        if not os.access(self.binary, os.X_OK):
            return f"ringtunnel not built ({self.binary})"
        # `ringtunnel server --help` exits 0 even without that subcommand (the top-level help):
        # look for it in the subcommand list instead.
        listing = subprocess.run([self.binary, "--help"], capture_output=True, text=True,
                                 timeout=10).stdout
        for command in ("server", "client"):
            if not re.search(rf"^\s+{command}\s", listing, re.MULTILINE):
                return f"this build has no `ringtunnel {command}` subcommand yet"
        if self.expose:
            server_help = subprocess.run([self.binary, "server", "--help"], capture_output=True,
                                         text=True, timeout=10).stdout
            if "--expose-bind" not in server_help:
                return "this build has no `client -R` / `server --expose-bind`"
        if self.transport_args:
            server_help = subprocess.run([self.binary, "server", "--help"], capture_output=True,
                                         text=True, timeout=10).stdout
            if not re.search(rf"--transport\b.*\b{self.transport}\b", server_help):
                return f"this build has no `--transport {self.transport}`"
        version = subprocess.run([self.binary, "version"], capture_output=True, text=True,
                                 timeout=10)
        self.version = " ".join(version.stdout.split())
        return None

    def start(self, tunnel, targets):
        # Flags only: a RINGTUNNEL_* variable in the caller's environment (threads, sessions,
        # verbosity...) must not change what is measured.
        env = {k: v for k, v in os.environ.items() if not k.startswith("RINGTUNNEL_")}
        port = free_port()
        server_dir = tempfile.mkdtemp(prefix="server-", dir=self.workdir)  # mode 0700
        client_dir = tempfile.mkdtemp(prefix="client-", dir=self.workdir)
        tunnel.dirs += [server_dir, client_dir]
        tunnel.server = self.launcher.start(
            "ringtunnel server",
            [self.binary, "server", "--bind", "127.0.0.1", "--port", str(port), "--data-dir",
             server_dir, "--threads", str(TUNNEL_THREADS), "--token", self.token]
            + self.transport_args + (["--expose-bind", "127.0.0.1"] if self.expose else []),
            env=env)
        self.ready_lines["server"] = tunnel.server.wait_line(r"server ready", READY_TIMEOUT)
        tunnel.ports = {name: free_port() for name in targets}
        argv = [self.binary, "client", "--ip", "127.0.0.1", "--port", str(port), "--data-dir",
                client_dir, "--token", self.token, "--accept-new-host", "--threads",
                str(TUNNEL_THREADS)] + self.transport_args
        for name, target in targets.items():
            if self.expose:
                argv += ["-R", f"{tunnel.ports[name]}:127.0.0.1:{target}"]
            else:
                argv += ["-L", f"127.0.0.1:{tunnel.ports[name]}:127.0.0.1:{target}"]
        tunnel.client = self.launcher.start("ringtunnel client", argv, env=env)
        self.ready_lines["client"] = tunnel.client.wait_line(r"client ready", READY_TIMEOUT)
        # -R: the public ports are the server's, granted before "client ready".
        wait_forwards(tunnel.server if self.expose else tunnel.client, tunnel.ports.values(),
                      READY_TIMEOUT)


class StunnelPath:
    """A stunnel4 pair per launch: the server accepts TLS and connects to the target, the client
    accepts plain TCP and connects with TLS to the server; one service (accept/connect pair) per
    target on each side, like ssh's -L. TLS 1.3 only, TLS_AES_256_GCM_SHA384, a throwaway
    self-signed Ed25519 certificate (the key type of ringtunnel's own), pinned by the client."""
    name = "stunnel"

    def __init__(self, launcher, workdir):
        self.launcher = launcher
        self.dir = os.path.join(workdir, "stunnel")
        self.stunnel = shutil.which("stunnel4") or shutil.which("stunnel")
        self.version = None
        self.memory_unavailable = None  # why the 10,000-stream figure cannot run, if it cannot

    @property
    def cert(self):
        return os.path.join(self.dir, "cert.pem")

    @property
    def key(self):
        return os.path.join(self.dir, "key.pem")

    def prepare(self):
        """Checks the tools and makes the certificate; returns a skip reason."""
        openssl = shutil.which("openssl")
        for tool, what in ((self.stunnel, "stunnel4"), (openssl, "openssl (the CLI)")):
            if not tool:
                return f"{what} not installed"
        os.makedirs(self.dir, mode=0o700)
        made = subprocess.run([openssl, "req", "-x509", "-newkey", "ed25519", "-nodes",
                               "-keyout", self.key, "-out", self.cert, "-days", "2",
                               "-subj", "/CN=127.0.0.1"], capture_output=True, text=True,
                              timeout=20)
        if made.returncode != 0:
            return f"openssl req failed: {made.stderr.strip()[-300:]}"
        shown = subprocess.run([self.stunnel, "-version"], capture_output=True, text=True,
                               timeout=10)
        text = shown.stdout + shown.stderr
        version = re.search(r"^stunnel (\S+)", text, re.MULTILINE)
        running = re.search(r"^Running\s+with (OpenSSL \S+)", text, re.MULTILINE)
        self.version = (f"stunnel {version.group(1) if version else '?'}"
                        + (f" ({running.group(1)})" if running else ""))
        self.memory_unavailable = self.raise_fd_limit()
        return None

    @staticmethod
    def raise_fd_limit():
        """Each stunnel end holds two sockets per stream and takes its client limit from the
        RLIMIT_NOFILE it inherits from this driver: raises the limit so that the held streams
        (and a margin) fit, if it may; returns why they cannot, or None."""
        need = int((HOLD_STREAMS + 1000) / STUNNEL_CLIENTS_PER_FD) + 1
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft >= need:
            return None
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(hard, need)))
            return None
        except (ValueError, OSError):
            clients = int(soft * STUNNEL_CLIENTS_PER_FD)
            return (f"stunnel allows {clients} clients per process at RLIMIT_NOFILE {soft}, "
                    f"fewer than {HOLD_STREAMS}, and the limit cannot be raised to {need} "
                    "(that needs CAP_SYS_RESOURCE)")

    def write_config(self, directory, role, services):
        """A config for one end; `services`: [(name, accept port, connect port)]."""
        lines = ["foreground = yes", "pid =", "debug = 4"]  # 4: warnings, none per connection
        for name, accept, connect in services:
            lines += [f"[{name}]", f"accept = 127.0.0.1:{accept}",
                      f"connect = 127.0.0.1:{connect}",
                      f"sslVersionMin = {STUNNEL_TLS_VERSION}",
                      f"sslVersionMax = {STUNNEL_TLS_VERSION}",
                      f"ciphersuites = {STUNNEL_CIPHERSUITE}"]
            if role == "server":
                lines += [f"cert = {self.cert}", f"key = {self.key}"]
            else:
                lines += ["client = yes", "verifyPeer = yes", f"CAfile = {self.cert}"]
        path = os.path.join(directory, f"{role}.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start(self, tunnel, targets):
        directory = tempfile.mkdtemp(prefix="launch-", dir=self.dir)
        tunnel.dirs.append(directory)
        server_ports = {name: free_port() for name in targets}
        server = self.write_config(directory, "server", [
            (name, server_ports[name], target) for name, target in targets.items()])
        tunnel.server = self.launcher.start("stunnel server", [self.stunnel, server])
        # No ready line below debug level 5 (which logs every connection): its ports accepting
        # is the sign. The probe costs one "SSL_accept: unexpected eof" line per launch.
        wait_forwards(tunnel.server, server_ports.values(), READY_TIMEOUT)
        tunnel.ports = {name: free_port() for name in targets}
        client = self.write_config(directory, "client", [
            (name, tunnel.ports[name], server_ports[name]) for name in targets])
        tunnel.client = self.launcher.start("stunnel client", [self.stunnel, client])
        wait_forwards(tunnel.client, tunnel.ports.values(), READY_TIMEOUT)


class Bench:
    def __init__(self, args, launcher, workdir):
        self.args = args
        self.launcher = launcher
        self.loadgen = args.loadgen or os.path.join(args.build_dir, "bench", "tools",
                                                    "ringtunnel-loadgen")
        binary = args.ringtunnel or os.path.join(args.build_dir, "src", "cli", "ringtunnel")
        self.paths = {"direct": DirectPath(), "ssh": SshPath(launcher, workdir),
                      "ringtunnel": RingtunnelPath(launcher, workdir, binary),
                      "ringtunnel-tls": RingtunnelPath(launcher, workdir, binary, "tls"),
                      "ringtunnel-expose": RingtunnelPath(launcher, workdir, binary,
                                                          expose=True),
                      "stunnel": StunnelPath(launcher, workdir)}
        self.servers = {}

    def client(self, argv, timeout):
        return loadgen_client(self.launcher, self.loadgen, argv, timeout)

    def measure(self, figure, path, **kw):
        sample = {"path": path, "figure": figure, "time": time.time()}
        tunnel = Tunnel(path)
        try:
            started = time.monotonic()
            self.paths[path].start(tunnel, self.servers)
            sample["ready_s"] = round(time.monotonic() - started, 3)
            getattr(self, "_" + figure.split("_")[0])(sample, tunnel, **kw)
        except MeasureError as err:
            sample["error"] = str(err)
        finally:
            self.stop_tunnel(tunnel, sample)
        if "error" in sample:
            log(f"{figure} {path}: ERROR {' '.join(sample['error'].split())[:400]}")
        return sample

    def stop_tunnel(self, tunnel, sample):
        running = {}
        for end in ("client", "server"):
            proc = getattr(tunnel, end)
            if proc is None:
                continue
            running[end] = proc.popen.poll() is None
            if not running[end] and "error" not in sample:
                sample["error"] = (f"{proc.name} exited with {proc.popen.returncode} during the "
                                   f"measurement: {proc.text('err')[-300:]}")
        codes = {}
        for end in running:  # the client first: its streams end before the server's
            codes[end] = self.launcher.stop(getattr(tunnel, end))
        if codes:
            sample["exit"] = codes
        if "error" in sample:  # for the diagnosis: what each end said last
            sample["output_tail"] = {end: getattr(tunnel, end).text()[-2000:] for end in codes}
        # SIGTERM must stop ringtunnel cleanly (exit 0); the peers' codes are only recorded.
        unclean = {end: code for end, code in codes.items() if running[end] and code != 0}
        if tunnel.path in RINGTUNNEL_PATHS and unclean:
            sample["stop_error"] = f"exit code(s) after SIGTERM {unclean} (0 expected)"
            log(f"{sample['figure']} {tunnel.path}: {sample['stop_error']}")
        for path in tunnel.dirs:
            shutil.rmtree(path, ignore_errors=True)

    # -- figures ------------------------------------------------------------------------

    def _throughput(self, sample, tunnel, seconds):
        before, started = cpu_by_group(tunnel.end_pids()), time.monotonic()
        result = self.client(["throughput", "--connect", f"127.0.0.1:{tunnel.ports['sink']}",
                              "--seconds", str(seconds)], timeout=seconds + 45)
        wall = time.monotonic() - started
        after = cpu_by_group(tunnel.end_pids())
        gbit = result["gbit_per_s"]
        sample.update(gbit_per_s=gbit, raw=result)
        text = f"throughput {tunnel.path}: {gbit:.3f} Gbit/s"
        if before:
            spent = cpu_spent(before, after)
            cores = sum(spent.values()) / wall
            if cores <= 0:
                raise MeasureError("the tunnel's processes recorded no CPU time")
            sample.update(cpu_s={end: round(v, 3) for end, v in spent.items()},
                          wall_s=round(wall, 3), cpu_cores=cores, gbit_per_core=gbit / cores)
            text += f" on {cores:.2f} cores = {gbit / cores:.2f} Gbit/s per core"
        log(text)

    def _pingpong(self, sample, tunnel, count):
        result = self.client(["pingpong", "--connect", f"127.0.0.1:{tunnel.ports['echo']}",
                              "--count", str(count), "--warmup", str(PINGPONG_WARMUP), "--size",
                              str(PINGPONG_SIZE), "--timeout", "100"], timeout=110)
        rtt = result["rtt_us"]
        sample.update(p50_us=rtt["p50"], p99_us=rtt["p99"], p999_us=rtt["p99.9"], raw=result)
        log(f"pingpong {tunnel.path}: p50 {rtt['p50']:.1f} us, p99 {rtt['p99']:.1f} us")

    def _rate(self, sample, tunnel, parallel, seconds):
        code, result, err = run_client(
            self.launcher, self.loadgen,
            ["rate", "--connect", f"127.0.0.1:{tunnel.ports['echo']}", "--parallel", str(parallel),
             "--seconds", str(seconds), "--timeout", str(RATE_STREAM_TIMEOUT)],
            timeout=seconds + RATE_STREAM_TIMEOUT + 20)
        sample["raw"] = result
        if code != 0 or result is None:
            raise MeasureError(f"loadgen rate exit {code}: {err}")
        times = result["stream_us"]
        sample.update(streams_per_s=result["streams_per_s"], stream_p50_us=times["p50"],
                      stream_p99_us=times["p99"])
        log(f"rate {tunnel.path} ×{parallel}: {result['streams_per_s']:.0f} streams/s, "
            f"p50 {times['p50']:.0f} us, p99 {times['p99']:.0f} us")

    def _memory(self, sample, tunnel):
        time.sleep(0.5)  # let the readiness probes' teardown settle
        idle = self.end_memory(tunnel)
        hold = self.launcher.start("loadgen hold", [
            self.loadgen, "hold", "--connect", f"127.0.0.1:{tunnel.ports['echo']}",
            "--connections", str(HOLD_STREAMS), "--seconds", "600", "--timeout",
            str(HOLD_TIMEOUT), "--json"])
        try:
            holding = hold.wait_line(r"^loadgen: holding ", HOLD_TIMEOUT + 5)
            time.sleep(1.0)
            held = self.end_memory(tunnel)
        finally:
            code = self.launcher.stop(hold)
        result = [line for line in hold.text("out").splitlines() if line.startswith("{")]
        if code != 0 or not result:
            raise MeasureError(f"hold exit {code}: {hold.text('err')[-300:]}")

        def total(memory, key):
            return sum(end[key] for end in memory.values())

        per_stream = (total(held, "rss_kib") - total(idle, "rss_kib")) / HOLD_STREAMS
        sample.update(idle=idle, held=held, raw=json.loads(result[-1]), hold_line=holding,
                      rss_idle_client_kib=idle["client"]["rss_kib"],
                      rss_idle_server_kib=idle["server"]["rss_kib"], kib_per_stream=per_stream,
                      pss_kib_per_stream=(total(held, "pss_kib") - total(idle, "pss_kib"))
                      / HOLD_STREAMS)
        log(f"memory {tunnel.path}: idle client {idle['client']['rss_kib']} KiB + server "
            f"{idle['server']['rss_kib']} KiB; {per_stream:.2f} KiB/stream at {HOLD_STREAMS}")

    def end_memory(self, tunnel):
        return {end: pids_memory(pids) for end, pids in tunnel.end_pids().items()}


# -- the run ------------------------------------------------------------------------------

def run_one(bench, run_index, live, params):
    k = run_index % len(live)
    order = live[k:] + live[:k]  # rotate so no path always goes first
    log(f"run {run_index + 1}: order {', '.join(order)}")
    figures = [("throughput", {"seconds": params["seconds"]}),
               ("pingpong", {"count": params["count"]}),
               ("rate_seq", {"parallel": 1, "seconds": params["rate_seconds"]}),
               ("rate_par", {"parallel": RATE_PARALLEL, "seconds": params["rate_seconds"]})]
    samples = []
    for figure, kw in figures:
        samples += [bench.measure(figure, path, **kw) for path in order]
    samples += [bench.measure("memory", path) for path in order
                if run_index < params["memory_runs"].get(path, 0)]
    for sample in samples:
        sample["run"] = run_index
    return samples


def warm_up(bench, live):
    log("warm-up (not summarized)")
    samples = []
    for path in live:
        samples.append(bench.measure("throughput", path, seconds=1))
        samples.append(bench.measure("pingpong", path, count=1000))
        samples.append(bench.measure("rate_seq", path, parallel=1, seconds=1))
    return samples


def summarize(samples, paths):
    summary = {}
    for path in paths:
        mine = [s for s in samples if s["path"] == path]
        entry = {}
        for figure, keys in FIGURE_KEYS.items():
            ok = [s for s in mine if s["figure"] == figure and "error" not in s]
            entry[figure] = {key: spread([s[key] for s in ok if key in s]) for key in keys}
            errors = [s["error"] for s in mine if s["figure"] == figure and "error" in s]
            if errors:
                entry.setdefault("errors", {})[figure] = errors
        stops = [s["stop_error"] for s in mine if "stop_error" in s]
        if stops:
            entry["stop_errors"] = stops
        summary[path] = entry
    return summary


def value(summary, path, figure, key):
    return median_of(summary.get(path, {}), figure, key)


def render_row(summary, path, meta):
    e = summary[path]
    tp = value(summary, path, "throughput", "gbit_per_s")
    ratios = [ratio(tp, value(summary, other, "throughput", "gbit_per_s"))
              for other in ("direct",) + PEERS]
    p50 = value(summary, path, "pingpong", "p50_us")
    direct_p50 = value(summary, "direct", "pingpong", "p50_us")
    added = p50 - direct_p50 if None not in (p50, direct_p50) else None
    tunnel = path != "direct"
    mem = e["memory"]
    idle = (f"{fmt(mem['rss_idle_client_kib'], 0)} + {fmt(mem['rss_idle_server_kib'], 0)}"
            if tunnel else "n/a")
    per_stream = fmt(mem["kib_per_stream"], 2) if tunnel else "n/a"
    if tunnel and meta["params"]["memory_runs"].get(path, 0) == 0:
        idle = per_stream = ("not measurable here (notes)" if path in meta["memory_unavailable"]
                             else "not measured in this mode")
    problems = sum(len(v) for v in e.get("errors", {}).values()) + len(e.get("stop_errors", []))
    name = f"{path} ⚠ {problems} problem(s)" if problems else path
    cells = [name, fmt(e["throughput"]["gbit_per_s"], 2)]
    cells += ["—" if r is None else f"{r:.2f}×" for r in ratios]
    cells += [fmt(e["throughput"]["cpu_cores"], 2) if tunnel else "n/a",
             fmt(e["throughput"]["gbit_per_core"], 2) if tunnel else "n/a",
             fmt(e["pingpong"]["p50_us"]), fmt(e["pingpong"]["p99_us"]),
             "—" if added is None else f"{added:+.1f}",
             fmt(e["rate_seq"]["streams_per_s"], 0), fmt(e["rate_par"]["streams_per_s"], 0),
             idle, per_stream]
    return "| " + " | ".join(cells) + " |"


def render(summary, skipped, paths, meta):
    columns = (["path", "1-stream Gbit/s", "÷ direct"] + [f"÷ {peer}" for peer in PEERS]
               + ["tunnel CPU cores", "Gbit/s per core", "p50 µs", "p99 µs", "p50 added µs",
                  "setup/s sequential", "setup/s ×16", "idle RSS client + server KiB",
                  "KiB/stream @10k"])
    out = [f"## Tunnel vs ssh -L and stunnel: median of {meta['runs_done']} runs (min–max)"
           f"{' — quick mode' if meta['quick'] else ''}\n",
           "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for path in paths:
        if path in skipped:
            out.append(f"| {path} | skipped: {skipped[path]} |" + "  |" * (len(columns) - 2))
        else:
            out.append(render_row(summary, path, meta))
    out += ["", render_targets(summary, skipped), "", render_tls_targets(summary, skipped), "",
            render_expose(summary, skipped), "", "Notes:"]
    out += [f"- {note}" for note in meta["notes"]]
    return "\n".join(out)


def versus_ssh(summary, figure, key, factor, label, unit, digits):
    mine, theirs = value(summary, "ringtunnel", figure, key), value(summary, "ssh", figure, key)
    if None in (mine, theirs):
        return f"- MISS ringtunnel {label} ≥ {factor}× ssh: no successful samples"
    r = mine / theirs
    verdict = "PASS" if r >= factor else "MISS"
    return (f"- {verdict} ringtunnel {label} ≥ {factor}× ssh: {mine:.{digits}f} vs "
            f"{theirs:.{digits}f} {unit} = {r:.2f}×")


def latency_target(summary):
    direct = value(summary, "direct", "pingpong", "p50_us")
    mine = value(summary, "ringtunnel", "pingpong", "p50_us")
    theirs = value(summary, "ssh", "pingpong", "p50_us")
    if None in (direct, mine, theirs):
        return "- MISS ringtunnel added p50 ≤ ½ ssh added p50: no successful samples"
    added, ssh_added = mine - direct, theirs - direct
    verdict = "PASS" if added <= ssh_added / 2 else "MISS"
    return (f"- {verdict} ringtunnel added p50 ≤ ½ ssh added p50: {added:+.1f} µs vs ssh "
            f"{ssh_added:+.1f} µs (limit {ssh_added / 2:+.1f}; direct p50 {direct:.1f} µs)")


def memory_target(summary):
    per_stream = value(summary, "ringtunnel", "memory", "kib_per_stream")
    if per_stream is None:
        return f"- MISS ringtunnel {HOLD_STREAMS} streams < 4 KiB/stream: no successful samples"
    verdict = "PASS" if per_stream < 4 else "MISS"
    return (f"- {verdict} ringtunnel {HOLD_STREAMS} streams < 4 KiB/stream (client + server RSS, "
            f"held − idle): {per_stream:.2f} KiB/stream")


def render_targets(summary, skipped):
    lines = ["### Targets (ringtunnel vs ssh -L, same run)"]
    if "ringtunnel" not in summary:
        why = skipped.get("ringtunnel", "not measured (--paths)")
        return "\n".join(lines + [f"- SKIP all targets: ringtunnel {why}"])
    if "ssh" not in summary:
        why = skipped.get("ssh", "not measured (--paths)")
        lines.append(f"- SKIP the targets relative to ssh: {why}")
    else:
        lines += [versus_ssh(summary, "throughput", "gbit_per_s", 1.3, "single-stream",
                             "Gbit/s", 2),
                  versus_ssh(summary, "throughput", "gbit_per_core", 1.5,
                             "single-stream Gbit/s per tunnel CPU core", "Gbit/s/core", 2),
                  latency_target(summary),
                  versus_ssh(summary, "rate_seq", "streams_per_s", 2, "setup rate sequential",
                             "streams/s", 0),
                  versus_ssh(summary, "rate_par", "streams_per_s", 2,
                             f"setup rate {RATE_PARALLEL} parallel", "streams/s", 0)]
    lines.append(memory_target(summary))
    return "\n".join(lines)


def tls_target(summary, other, factor, label):
    mine = value(summary, "ringtunnel-tls", "throughput", "gbit_per_s")
    theirs = value(summary, other, "throughput", "gbit_per_s")
    head = f"ringtunnel-tls single-stream ≥ {factor}× {label}"
    if None in (mine, theirs):
        return f"- MISS {head}: no successful samples"
    r = mine / theirs
    verdict = "PASS" if r >= factor else "MISS"
    return f"- {verdict} {head}: {mine:.2f} vs {theirs:.2f} Gbit/s = {r:.2f}×"


def render_tls_targets(summary, skipped):
    """The TLS issue's: single-stream at least 1.5× stunnel's pair and within 15 % of the
    native transport (medians of the same run)."""
    lines = ["### Targets (ringtunnel --transport tls vs stunnel and the native transport, "
             "same run)"]
    if "ringtunnel-tls" not in summary:
        why = skipped.get("ringtunnel-tls", "not measured (--paths)")
        return "\n".join(lines + [f"- SKIP the TLS targets (ringtunnel-tls): {why}"])
    for other, factor, label in (("stunnel", 1.5, "stunnel"),
                                 ("ringtunnel", 0.85, "native (within 15 %)")):
        if other in summary:
            lines.append(tls_target(summary, other, factor, label))
        else:
            why = skipped.get(other, "not measured (--paths)")
            lines.append(f"- SKIP ringtunnel-tls single-stream ≥ {factor}× {label}: {why}")
    return "\n".join(lines)


def render_expose(summary, skipped):
    """-R against direct and against -L (references: the expose issue's targets are the HTTP
    ingress's, measured by its own bench)."""
    lines = ["### ringtunnel -R (ringtunnel-expose) vs direct and -L, same run"]
    if "ringtunnel-expose" not in summary:
        why = skipped.get("ringtunnel-expose", "not measured (--paths)")
        return "\n".join(lines + [f"- SKIP: {why}"])
    mine = value(summary, "ringtunnel-expose", "throughput", "gbit_per_s")
    for other in ("direct", "ringtunnel"):
        theirs = value(summary, other, "throughput", "gbit_per_s")
        if None in (mine, theirs):
            lines.append(f"- {other}: no successful samples")
        else:
            lines.append(f"- single-stream: {mine:.2f} vs {other} {theirs:.2f} Gbit/s = "
                         f"{mine / theirs:.2f}×")
    return "\n".join(lines)


def build_meta(args, bench, params, live, memory_unavailable):
    ssh, rt, st = bench.paths["ssh"], bench.paths["ringtunnel"], bench.paths["stunnel"]
    meta = {"quick": args.quick, "params": params, "build": build_options(args.build_dir),
            "host": {"kernel": platform.release(), "cpus": os.cpu_count(),
                     "python": sys.version.split()[0]},
            "loadgen": bench.loadgen, "ringtunnel": rt.binary, "ringtunnel_version": rt.version,
            "ssh_version": ssh.version, "stunnel_version": st.version,
            "memory_unavailable": memory_unavailable, "loadavg_start": load_average()}
    notes = [f"Loopback on {os.cpu_count()} cores shared by the loadgen client, the loadgen "
             "sink/echo server (1 thread each) and both tunnel ends "
             f"(ringtunnel --threads {TUNNEL_THREADS} each). Every sample starts the path's "
             "two ends afresh (one ssh -N, ringtunnel client or stunnel client carries both "
             "forwards: sink and echo) and stops them after (SIGTERM, client first).",
             f"Throughput: {params['seconds']} s into a sink, counted once the sink has read it. "
             "CPU: utime+stime (all threads) from /proc/PID/stat over the same wall window, of "
             "the tunnel client and server processes (ssh: the ssh client plus every "
             "per-connection sshd process, not the listener); cores = CPU s ÷ wall s; per "
             "core = Gbit/s ÷ cores.",
             f"Ping-pong: {params['count']} × {PINGPONG_SIZE} B after {PINGPONG_WARMUP} warm-up "
             f"round trips. Setup rate: `loadgen rate`, {params['rate_seconds']} s each, "
             "connect → 1-byte echo → half-close → the peer's close, 1 worker and "
             f"{RATE_PARALLEL} workers.",
             f"Memory: RSS of both ends idle, then with {HOLD_STREAMS} streams held (each "
             f"echo-checked); KiB/stream = (held − idle) ÷ {HOLD_STREAMS}. The slowest figure, "
             "so measured on the first run(s) only: "
             + ", ".join(f"{path} {n}×" for path, n in params["memory_runs"].items()
                         if path in live) + " (ssh's and stunnel's are references, not "
             "targets)."]
    if "ssh" in live:
        notes.append(f"ssh: {ssh.version}, a private `sshd -D -e` on 127.0.0.1 (temp ed25519 "
                     f"keys, Ciphers {SSH_CIPHER}, UsePAM no), client `ssh -N -F /dev/null -o "
                     f"Ciphers={SSH_CIPHER} -o Compression=no -L …`.")
    if "stunnel" in live:
        notes.append(f"stunnel: {st.version}, a server and a client (`foreground = yes`, "
                     f"`debug = 4`), one service per target, `sslVersionMin`/`Max = "
                     f"{STUNNEL_TLS_VERSION}`, `ciphersuites = {STUNNEL_CIPHERSUITE}`; a "
                     "throwaway self-signed Ed25519 certificate (openssl req), pinned by the "
                     "client (`verifyPeer = yes`, `CAfile`); one TLS handshake per stream, "
                     "other options at stunnel's defaults.")
    for path, why in memory_unavailable.items():
        notes.append(f"{path}: the {HOLD_STREAMS}-stream memory figure is not measurable "
                     f"here: {why}.")
    if "ringtunnel" in live or "ringtunnel-tls" in live:
        notes.append(f"ringtunnel: `{rt.version}`"
                     + ("; ringtunnel-tls is the same with `--transport tls` on both ends (the "
                        "server's self-signed certificate, pinned by the client)."
                        if "ringtunnel-tls" in live else "."))
    if "ringtunnel-expose" in live:
        notes.append("ringtunnel-expose: `client -R PUBLIC:127.0.0.1:TARGET` per target and "
                     "`server --expose-bind 127.0.0.1`: loadgen → the server's public port → "
                     "session → client → target (the session's other direction).")
    if meta["build"] and meta["build"]["buildtype"] != "release":
        notes.append(f"Build type is {meta['build']['buildtype']!r}, not release "
                     "(BENCHMARKS.md rule 4): ringtunnel figures may be pessimistic.")
    if meta["loadavg_start"][0] > os.cpu_count():
        notes.append(f"The host was busy when the run started (load average "
                     f"{meta['loadavg_start'][0]:.1f} on {os.cpu_count()} cores): expect noise.")
    meta["notes"] = notes
    return meta


def finish_notes(meta, summary, live, out_path, bench, warmup):
    for path in RINGTUNNEL_PATHS:
        for end, line in bench.paths[path].ready_lines.items():
            meta["notes"].append(f"{path} {end}: `{line.split(' info ', 1)[-1].strip()}`")
    for path in live:
        for figure, errors in summary[path].get("errors", {}).items():
            first = " ".join(errors[0].split())  # one line: it is a list item
            meta["notes"].append(f"{path} {figure}: {len(errors)} failed sample(s), first: "
                                 f"{first[:300]}")
        for stop in summary[path].get("stop_errors", [])[:1]:
            meta["notes"].append(f"{path}: {len(summary[path]['stop_errors'])} sample(s) "
                                 f"stopped uncleanly, first: {stop}")
    warm_errors = [s for s in warmup if "error" in s]
    if warm_errors:
        first = " ".join(warm_errors[0]["error"].split())
        meta["notes"].append(f"warm-up: {len(warm_errors)} failed sample(s) (not summarized), "
                             f"first ({warm_errors[0]['path']}): {first[:300]}")
    meta["notes"].append(f"Wall time {meta['elapsed_s']} s. Raw samples: {out_path}.")


def run(args, launcher):
    params = dict(QUICK if args.quick else FULL)
    params["runs"] = args.runs or params["runs"]
    workdir = tempfile.mkdtemp(prefix="rt-tunnel-bench-")
    try:
        return run_in(args, launcher, params, workdir)
    finally:
        launcher.stop_all()  # before the data dirs and keys go
        shutil.rmtree(workdir, ignore_errors=True)


def run_in(args, launcher, params, workdir):
    bench = Bench(args, launcher, workdir)
    if not os.access(bench.loadgen, os.X_OK):
        sys.exit(f"tunnel.py: {bench.loadgen} not found; build it first (ninja -C BUILD)")
    paths = [p for p in PATHS if p in args.paths]
    skipped = {p: r for p in paths if (r := bench.paths[p].prepare())}
    live = [p for p in paths if p not in skipped]
    for path, why in skipped.items():
        log(f"skipping {path}: {why}")
    memory_unavailable = {p: why for p in live
                          if (why := getattr(bench.paths[p], "memory_unavailable", None))}
    params["memory_runs"] = {p: 0 if p in memory_unavailable else n
                             for p, n in params["memory_runs"].items()}
    params["budget"] = params["budget_per_path"] * len(live)
    meta = build_meta(args, bench, params, live, memory_unavailable)

    start = time.monotonic()
    bench.servers = start_loadgen_servers(launcher, bench.loadgen)
    warmup = warm_up(bench, live)
    samples, last_run, runs_done = [], 0.0, 0
    for run_index in range(params["runs"]):
        run_start = time.monotonic()
        if run_start - start + last_run > params["budget"]:
            meta["notes"].append(f"Time budget of {params['budget']} s reached: only "
                                 f"{run_index} of {params['runs']} runs were measured.")
            break
        samples += run_one(bench, run_index, live, params)
        last_run, runs_done = time.monotonic() - run_start, run_index + 1
    meta["elapsed_s"] = round(time.monotonic() - start, 1)
    meta["runs_done"], meta["loadavg_end"] = runs_done, load_average()
    summary = summarize(samples, live)
    out_path = os.path.join(args.out, "tunnel.json")
    finish_notes(meta, summary, live, out_path, bench, warmup)
    print(render(summary, skipped, paths, meta))
    os.makedirs(args.out, exist_ok=True)
    with open(out_path, "w") as f:
        json.dump({"meta": meta, "skipped": skipped, "summary": summary, "samples": samples,
                   "warmup": warmup}, f, indent=1)
    failed = any(summary[p].get("errors") or summary[p].get("stop_errors") for p in live)
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", required=True, help="meson build directory")
    parser.add_argument("--quick", action="store_true",
                        help="shorter samples, 3 runs, memory figure once")
    parser.add_argument("--runs", type=int, help="runs per figure (default 5, quick 3)")
    parser.add_argument("--out", help="results directory (default BUILD_DIR/bench-results)")
    parser.add_argument("--paths", default=",".join(PATHS),
                        help=f"comma-separated subset of {','.join(PATHS)}")
    parser.add_argument("--loadgen", help="override BUILD_DIR/bench/tools/ringtunnel-loadgen")
    parser.add_argument("--ringtunnel", help="override BUILD_DIR/src/cli/ringtunnel")
    args = parser.parse_args()
    if args.runs is not None and not 1 <= args.runs <= 50:
        parser.error("--runs must be between 1 and 50")
    args.out = args.out or os.path.join(args.build_dir, "bench-results")
    args.paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    unknown = [p for p in args.paths if p not in PATHS]
    if unknown or "direct" not in args.paths:
        parser.error(f"--paths: unknown {unknown}" if unknown else "--paths must include direct")
    set_log_tag("tunnel")
    return run_driver(run, args)


if __name__ == "__main__":
    sys.exit(main())
