#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Tunnel comparison: direct TCP vs ringtunnel (client -L + server) vs ssh -L (aes256-gcm).

Usage: tunnel.py --build-dir DIR [--quick] [--runs N] [--out DIR] [--paths direct,ssh,...]

Per path and run (paths interleaved A B A B inside every run, order rotated per run), each
sample on a freshly started tunnel (both ends): single-stream throughput into a sink with the CPU
time of the tunnel's two ends, 64-byte ping-pong RTT, stream setup rate (connect, 1-byte echo,
close; sequential and 16 in parallel), and on the first runs the RSS of both ends idle and while
10,000 streams are held. Prints one markdown table and the issue's targets (PASS/MISS) to stdout,
progress to stderr, all raw samples to OUT/tunnel.json. Stdlib only; run with /usr/bin/python3.
Loopback only; every step is bounded in time.
"""

import argparse
import json
import os
import platform
import pwd
import re
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

PATHS = ("direct", "ringtunnel", "ssh")
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

# memory_runs: how many runs (the first ones) measure the 10,000-stream figure, per path. It is
# the slowest figure: 10,000 streams through ssh -L take 1-2 minutes to establish (ssh walks
# every channel on each event), and ssh's figure is a reference, not a target, so it is measured
# once (not at all in quick mode, where ringtunnel's is measured once).
FULL = {"runs": 5, "memory_runs": {"ringtunnel": 3, "ssh": 1}, "seconds": 10, "count": 20000,
        "rate_seconds": 5, "budget": 690}
QUICK = {"runs": 3, "memory_runs": {"ringtunnel": 1, "ssh": 0}, "seconds": 2, "count": 5000,
         "rate_seconds": 2, "budget": 170}

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
    """`ringtunnel server` and `ringtunnel client -L` per launch, fresh data dirs each time."""
    name = "ringtunnel"

    def __init__(self, launcher, workdir, binary):
        self.launcher = launcher
        self.workdir = workdir
        self.binary = binary
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
             server_dir, "--threads", str(TUNNEL_THREADS), "--token", self.token], env=env)
        self.ready_lines["server"] = tunnel.server.wait_line(r"server ready", READY_TIMEOUT)
        tunnel.ports = {name: free_port() for name in targets}
        argv = [self.binary, "client", "--ip", "127.0.0.1", "--port", str(port), "--data-dir",
                client_dir, "--token", self.token, "--accept-new-host", "--threads",
                str(TUNNEL_THREADS)]
        for name, target in targets.items():
            argv += ["-L", f"127.0.0.1:{tunnel.ports[name]}:127.0.0.1:{target}"]
        tunnel.client = self.launcher.start("ringtunnel client", argv, env=env)
        self.ready_lines["client"] = tunnel.client.wait_line(r"client ready", READY_TIMEOUT)
        wait_forwards(tunnel.client, tunnel.ports.values(), READY_TIMEOUT)


class Bench:
    def __init__(self, args, launcher, workdir):
        self.args = args
        self.launcher = launcher
        self.loadgen = args.loadgen or os.path.join(args.build_dir, "bench", "tools",
                                                    "ringtunnel-loadgen")
        binary = args.ringtunnel or os.path.join(args.build_dir, "src", "cli", "ringtunnel")
        self.paths = {"direct": DirectPath(), "ssh": SshPath(launcher, workdir),
                      "ringtunnel": RingtunnelPath(launcher, workdir, binary)}
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
        # SIGTERM must stop ringtunnel cleanly (exit 0); ssh's codes are only recorded.
        unclean = {end: code for end, code in codes.items() if running[end] and code != 0}
        if tunnel.path == "ringtunnel" and unclean:
            sample["stop_error"] = f"exit code(s) after SIGTERM {unclean} (0 expected)"
            log(f"{sample['figure']} ringtunnel: {sample['stop_error']}")
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


def render_row(summary, path, memory_runs):
    e = summary[path]
    tp = value(summary, path, "throughput", "gbit_per_s")
    r_direct = ratio(tp, value(summary, "direct", "throughput", "gbit_per_s"))
    r_ssh = ratio(tp, value(summary, "ssh", "throughput", "gbit_per_s"))
    p50 = value(summary, path, "pingpong", "p50_us")
    direct_p50 = value(summary, "direct", "pingpong", "p50_us")
    added = p50 - direct_p50 if None not in (p50, direct_p50) else None
    tunnel = path != "direct"
    mem = e["memory"]
    idle = (f"{fmt(mem['rss_idle_client_kib'], 0)} + {fmt(mem['rss_idle_server_kib'], 0)}"
            if tunnel else "n/a")
    per_stream = fmt(mem["kib_per_stream"], 2) if tunnel else "n/a"
    if tunnel and memory_runs.get(path, 0) == 0:
        idle = per_stream = "not measured in this mode"
    problems = sum(len(v) for v in e.get("errors", {}).values()) + len(e.get("stop_errors", []))
    name = f"{path} ⚠ {problems} problem(s)" if problems else path
    cells = [name, fmt(e["throughput"]["gbit_per_s"], 2),
             "—" if r_direct is None else f"{r_direct:.2f}×",
             "—" if r_ssh is None else f"{r_ssh:.2f}×",
             fmt(e["throughput"]["cpu_cores"], 2) if tunnel else "n/a",
             fmt(e["throughput"]["gbit_per_core"], 2) if tunnel else "n/a",
             fmt(e["pingpong"]["p50_us"]), fmt(e["pingpong"]["p99_us"]),
             "—" if added is None else f"{added:+.1f}",
             fmt(e["rate_seq"]["streams_per_s"], 0), fmt(e["rate_par"]["streams_per_s"], 0),
             idle, per_stream]
    return "| " + " | ".join(cells) + " |"


def render(summary, skipped, paths, meta):
    out = [f"## Tunnel vs ssh -L: median of {meta['runs_done']} runs (min–max)"
           f"{' — quick mode' if meta['quick'] else ''}\n",
           "| path | 1-stream Gbit/s | ÷ direct | ÷ ssh | tunnel CPU cores | Gbit/s per core "
           "| p50 µs | p99 µs | p50 added µs | setup/s sequential | setup/s ×16 "
           "| idle RSS client + server KiB | KiB/stream @10k |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for path in paths:
        if path in skipped:
            out.append(f"| {path} | skipped: {skipped[path]} |" + "  |" * 11)
        else:
            out.append(render_row(summary, path, meta["params"]["memory_runs"]))
    out += ["", render_targets(summary, skipped), "", "Notes:"]
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


def build_meta(args, bench, params, live):
    ssh, rt = bench.paths["ssh"], bench.paths["ringtunnel"]
    meta = {"quick": args.quick, "params": params, "build": build_options(args.build_dir),
            "host": {"kernel": platform.release(), "cpus": os.cpu_count(),
                     "python": sys.version.split()[0]},
            "loadgen": bench.loadgen, "ringtunnel": rt.binary, "ringtunnel_version": rt.version,
            "ssh_version": ssh.version, "loadavg_start": load_average()}
    notes = [f"Loopback on {os.cpu_count()} cores shared by the loadgen client, the loadgen "
             "sink/echo server (1 thread each) and both tunnel ends "
             f"(ringtunnel --threads {TUNNEL_THREADS} each). Every sample starts the path's "
             "two ends afresh (one ssh -N or ringtunnel client carries both -L: sink and echo) "
             "and stops them after (SIGTERM, client first).",
             f"Throughput: {params['seconds']} s into a sink, counted once the sink has read it. "
             "CPU: utime+stime from /proc/PID/stat over the same wall window, of the tunnel "
             "client and server processes (ssh: the ssh client plus every per-connection sshd "
             "process, not the listener); cores = CPU s ÷ wall s; per core = Gbit/s ÷ cores.",
             f"Ping-pong: {params['count']} × {PINGPONG_SIZE} B after {PINGPONG_WARMUP} warm-up "
             f"round trips. Setup rate: `loadgen rate`, {params['rate_seconds']} s each, "
             "connect → 1-byte echo → half-close → the peer's close, 1 worker and "
             f"{RATE_PARALLEL} workers.",
             f"Memory: RSS of both ends idle, then with {HOLD_STREAMS} streams held (each "
             f"echo-checked); KiB/stream = (held − idle) ÷ {HOLD_STREAMS}. The slowest figure, "
             "so measured on the first run(s) only: "
             + ", ".join(f"{path} {n}×" for path, n in params["memory_runs"].items()
                         if path in live) + " (ssh's is a reference, not a target)."]
    if "ssh" in live:
        notes.append(f"ssh: {ssh.version}, a private `sshd -D -e` on 127.0.0.1 (temp ed25519 "
                     f"keys, Ciphers {SSH_CIPHER}, UsePAM no), client `ssh -N -F /dev/null -o "
                     f"Ciphers={SSH_CIPHER} -o Compression=no -L …`.")
    if "ringtunnel" in live:
        notes.append(f"ringtunnel: `{rt.version}`.")
    if meta["build"] and meta["build"]["buildtype"] != "release":
        notes.append(f"Build type is {meta['build']['buildtype']!r}, not release "
                     "(BENCHMARKS.md rule 4): ringtunnel figures may be pessimistic.")
    if meta["loadavg_start"][0] > os.cpu_count():
        notes.append(f"The host was busy when the run started (load average "
                     f"{meta['loadavg_start'][0]:.1f} on {os.cpu_count()} cores): expect noise.")
    meta["notes"] = notes
    return meta


def finish_notes(meta, summary, live, out_path, bench, warmup):
    for end, line in bench.paths["ringtunnel"].ready_lines.items():
        meta["notes"].append(f"ringtunnel {end}: `{line.split(' info ', 1)[-1].strip()}`")
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
    meta = build_meta(args, bench, params, live)

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
