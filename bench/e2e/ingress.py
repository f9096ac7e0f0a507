#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""HTTP ingress vs direct: wrk → nginx, and wrk → ringtunnel server's HTTP ingress → session →
ringtunnel client → the same nginx.

Usage: ingress.py --build-dir DIR [--quick] [--runs N] [--out DIR] [--paths direct,ingress]
                  [--resource /|/1k] [--ringtunnel BIN] [--wrk BIN] [--nginx BIN]

One private nginx (Debian's /usr/sbin/nginx: its own prefix and nginx.conf in a temp dir, one
worker, keep-alive, no access log) serves both paths for the whole run; `GET /` answers
"hello\n" (6 bytes, `return 200`), `GET /1k` a 1 KiB static file (`--resource /1k`). Per path
and run (paths interleaved A B A B inside every run, order rotated per run), each sample on a
freshly started path (for the ingress: `ringtunnel server --http-bind` and `ringtunnel client
--http bench=NGINX`, both fresh, polled with curl until the name answers 200):
`wrk -t1 -c32 -d10s --latency` (quick: 3 s) for requests/s and latency p50/p99, and the same
with `-c1` for the latency one request at a time adds. Prints one markdown table and the
targets (PASS/MISS: ingress requests/s ≥ 0.50× direct at 32 connections, added p50 at one
connection < 50 µs) to stdout, progress to stderr, all raw samples to OUT/ingress.json. A
missing wrk or nginx, or a ringtunnel without the HTTP ingress, is reported as skipped (exit 0).
Stdlib only; run with /usr/bin/python3. Loopback only; every step is bounded in time.
"""

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

from common import (READY_TIMEOUT, MeasureError, build_options, fmt, free_port, load_average,
                    log, median_of, ratio, run_driver, set_log_tag, spread, wait_connectable)

PATHS = ("direct", "ingress")
WRK = "/usr/bin/wrk"
NGINX = "/usr/sbin/nginx"
CURL = "/usr/bin/curl"
DOMAIN = "example.com"
NAME = "bench"  # the client's --http name: requests for bench.example.com reach it
HOST = f"{NAME}.{DOMAIN}"
RESOURCES = {"/": '"hello\\n" (6 bytes, `return 200`)', "/1k": "a 1 KiB static file"}
ONE_KIB = 1024
TUNNEL_THREADS = 2
ROUTE_TIMEOUT = 10.0  # seconds the ingress may take to answer 200 for HOST once both ends are up
WRK_THREADS = 1
# figure -> wrk connections; both figures are summarized with the same keys
FIGURES = {"c32": 32, "c1": 1}
KEYS = ("rps", "p50_us", "p99_us")
TARGET_RPS_RATIO = 0.50  # ingress req/s ÷ direct, 32 connections: at least
TARGET_ADDED_P50_US = 50.0  # ingress p50 − direct p50, 1 connection: below

# budget_per_path: the time budget in seconds is this times the number of paths measured; a
# full run of both paths takes about 4 minutes, a quick one about 1.
FULL = {"runs": 5, "seconds": 10, "warmup_seconds": 2, "budget_per_path": 180}
QUICK = {"runs": 3, "seconds": 3, "warmup_seconds": 1, "budget_per_path": 50}


def ringtunnel_env():
    """Flags only: a RINGTUNNEL_* variable in the caller's environment must not change what is
    measured."""
    return {k: v for k, v in os.environ.items() if not k.startswith("RINGTUNNEL_")}


def http_code(port, path, timeout=1.0):
    """curl's %{http_code} and size for GET `path` with Host HOST on 127.0.0.1:`port`."""
    try:
        done = subprocess.run([CURL, "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                               "--max-time", str(timeout), "-H", f"Host: {HOST}",
                               f"http://127.0.0.1:{port}{path}"],
                              capture_output=True, text=True, timeout=timeout + 5)
    except subprocess.TimeoutExpired:
        return "timeout", 0
    parts = done.stdout.split()
    return (parts[0], int(parts[1])) if len(parts) == 2 else (f"curl exit {done.returncode}", 0)


def wait_http_200(port, path, timeout, procs=()):
    """Until GET `path` on `port` answers 200; fails early if one of `procs` exits."""
    deadline = time.monotonic() + timeout
    tries = 0
    while True:
        for proc in procs:
            if proc.popen.poll() is not None:
                raise MeasureError(f"{proc.name} exited with {proc.popen.returncode} before "
                                   f"{HOST} answered: {proc.text('err')[-400:]}")
        code, size = http_code(port, path)
        tries += 1
        if code == "200":
            return tries, size
        if time.monotonic() >= deadline:
            raise MeasureError(f"GET {path} Host {HOST} on 127.0.0.1:{port}: still {code} after "
                               f"{timeout} s ({tries} tries)")
        time.sleep(0.1)


class Nginx:
    """A private nginx: temp prefix, own config, `daemon off`, one worker, stopped by the
    launcher (SIGTERM: fast shutdown)."""

    def __init__(self, launcher, workdir, binary):
        self.launcher = launcher
        self.dir = os.path.join(workdir, "nginx")
        self.binary = binary
        self.port = None
        self.proc = None
        self.version = None

    def config(self, port):
        d = self.dir
        return f"""daemon off;
master_process on;
worker_processes 1;
error_log stderr;
pid {d}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    default_type text/plain;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "hello\\n"; }}
        location = /1k {{ root {d}/html; }}
    }}
}}
"""

    def prepare(self):
        """Checks the tools; returns a skip reason or None."""
        if not os.access(self.binary, os.X_OK):
            return f"nginx not installed ({self.binary})"
        if not os.access(CURL, os.X_OK):
            return f"curl not installed ({CURL})"
        shown = subprocess.run([self.binary, "-v"], capture_output=True, text=True, timeout=10)
        self.version = (shown.stderr or shown.stdout).strip().replace("nginx version: ", "")
        # Readable by nginx's workers, which run as nobody when this runs as root.
        os.makedirs(os.path.join(self.dir, "html"), mode=0o755)
        os.chmod(os.path.dirname(self.dir), 0o755)
        with open(os.path.join(self.dir, "html", "1k"), "wb") as f:
            f.write(b"x" * (ONE_KIB - 1) + b"\n")
        os.chmod(os.path.join(self.dir, "html", "1k"), 0o644)
        self.port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(self.config(self.port))
        check = subprocess.run([self.binary, "-t", "-q", "-p", self.dir + "/", "-c", conf,
                                "-e", "stderr"], capture_output=True, text=True, timeout=10)
        if check.returncode != 0:
            return f"nginx -t rejects the private config: {check.stderr.strip()[-300:]}"
        return None

    def start(self):
        conf = os.path.join(self.dir, "nginx.conf")
        self.proc = self.launcher.start("nginx", [self.binary, "-p", self.dir + "/", "-c", conf,
                                                  "-e", "stderr"])
        wait_connectable(self.port, READY_TIMEOUT, self.proc)
        for path, size in (("/", 6), ("/1k", ONE_KIB)):
            _, got = wait_http_200(self.port, path, READY_TIMEOUT, [self.proc])
            if got != size:
                raise MeasureError(f"nginx GET {path}: {got} bytes, {size} expected")
        log(f"nginx ({self.version}) on 127.0.0.1:{self.port}")


class Launch:
    """One start of a path: the port wrk connects to and, for the ingress, its two ends."""

    def __init__(self, path):
        self.path = path
        self.port = None
        self.client = None
        self.server = None
        self.dirs = []


class DirectPath:
    name = "direct"

    def __init__(self, nginx):
        self.nginx = nginx

    def prepare(self):
        return None

    def start(self, launch):
        launch.port = self.nginx.port


class IngressPath:
    """`ringtunnel server --http-bind 127.0.0.1:HP --domain example.com` and `ringtunnel client
    --http bench=127.0.0.1:NGINX` per launch, fresh data dirs each time, one token per run (as
    tunnel.py starts them)."""
    name = "ingress"

    def __init__(self, launcher, workdir, binary, nginx):
        self.launcher = launcher
        self.workdir = workdir
        self.binary = binary
        self.nginx = nginx
        self.token = secrets.token_hex(16)
        self.version = None
        self.ready_lines = {}  # the last launch's readiness lines

    def prepare(self):
        if not os.access(self.binary, os.X_OK):
            return f"ringtunnel not built ({self.binary})"
        listing = subprocess.run([self.binary, "--help"], capture_output=True, text=True,
                                 timeout=10).stdout
        for command in ("server", "client"):
            if not re.search(rf"^\s+{command}\s", listing, re.MULTILINE):
                return f"this build has no `ringtunnel {command}` subcommand yet"
        server_help = subprocess.run([self.binary, "server", "--help"], capture_output=True,
                                     text=True, timeout=10).stdout
        client_help = subprocess.run([self.binary, "client", "--help"], capture_output=True,
                                     text=True, timeout=10).stdout
        if "--http-bind" not in server_help or "--domain" not in server_help:
            return "this build has no HTTP ingress (`server --http-bind --domain`)"
        if not re.search(r"--http\b(?!-)", client_help):
            return "this build has no `client --http NAME=TARGET`"
        if not os.access(CURL, os.X_OK):
            return f"curl not installed ({CURL})"
        version = subprocess.run([self.binary, "version"], capture_output=True, text=True,
                                 timeout=10)
        self.version = " ".join(version.stdout.split())
        return None

    def start(self, launch):
        env = ringtunnel_env()
        port, http_port = free_port(), free_port()
        server_dir = tempfile.mkdtemp(prefix="server-", dir=self.workdir)  # mode 0700
        client_dir = tempfile.mkdtemp(prefix="client-", dir=self.workdir)
        launch.dirs += [server_dir, client_dir]
        launch.server = self.launcher.start(
            "ringtunnel server",
            [self.binary, "server", "--port", str(port), "--bind", "127.0.0.1", "--data-dir",
             server_dir, "--allowed-ports", "1-65535", "--http-bind", f"127.0.0.1:{http_port}",
             "--domain", DOMAIN, "--threads", str(TUNNEL_THREADS), "--token", self.token],
            env=env)
        self.ready_lines["server"] = launch.server.wait_line(r"server ready", READY_TIMEOUT)
        self.ready_lines["server http"] = launch.server.wait_line(
            rf"http ingress: listening on 127\.0\.0\.1:{http_port}\b", READY_TIMEOUT)
        target = f"127.0.0.1:{self.nginx.port}"
        launch.client = self.launcher.start(
            "ringtunnel client",
            [self.binary, "client", "--ip", "127.0.0.1", "--port", str(port), "--data-dir",
             client_dir, "--accept-new-host", "--token", self.token, "--threads",
             str(TUNNEL_THREADS), "--http", f"{NAME}={target}"], env=env)
        self.ready_lines["client http"] = launch.client.wait_line(
            rf"http {NAME}: the server routes requests for it to {re.escape(target)}\b",
            READY_TIMEOUT)
        launch.port = http_port
        tries, _ = wait_http_200(http_port, "/", ROUTE_TIMEOUT, [launch.server, launch.client])
        launch.route_tries = tries


# -- wrk ----------------------------------------------------------------------------------------

_UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def to_us(text):
    """wrk's time ("228.00us", "1.02ms", "2.00s", "1.00m") in microseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise MeasureError(f"wrk: cannot read the time {text!r}")
    return float(match.group(1)) * _UNITS_US[match.group(2)]


def parse_wrk(text):
    """Requests/sec, the 50 % and 99 % latencies, the request count, the non-2xx/3xx count and
    the socket errors from wrk --latency's report."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
    dist = text.split("Latency Distribution", 1)
    if not rps or len(dist) != 2:
        raise MeasureError(f"wrk: no Requests/sec or Latency Distribution in: {text[-400:]}")
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+(\S+)", dist[1], re.MULTILINE))
    if "50" not in percentiles or "99" not in percentiles:
        raise MeasureError(f"wrk: no 50%/99% lines in: {dist[1][:400]}")
    total = re.search(r"^\s+(\d+) requests in ([\d.]+\w+)", text, re.MULTILINE)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                     text)
    return {"rps": float(rps.group(1)), "p50_us": to_us(percentiles["50"]),
            "p99_us": to_us(percentiles["99"]),
            "requests": int(total.group(1)) if total else None,
            "duration_us": to_us(total.group(2)) if total else None,
            "non_2xx_3xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": (dict(zip(("connect", "read", "write", "timeout"),
                                       map(int, sock.groups()))) if sock else {})}


class Bench:
    def __init__(self, args, launcher, workdir):
        self.args = args
        self.launcher = launcher
        self.wrk = args.wrk
        self.nginx = Nginx(launcher, workdir, args.nginx)
        binary = args.ringtunnel or os.path.join(args.build_dir, "src", "cli", "ringtunnel")
        self.paths = {"direct": DirectPath(self.nginx),
                      "ingress": IngressPath(launcher, workdir, binary, self.nginx)}
        self.wrk_version = None

    def prepare(self):
        """A reason that skips every path (wrk or nginx missing), or None."""
        if not os.access(self.wrk, os.X_OK):
            return f"wrk not installed ({self.wrk})"
        shown = subprocess.run([self.wrk, "--version"], capture_output=True, text=True,
                               timeout=10)
        first = (shown.stdout or shown.stderr).splitlines()
        self.wrk_version = first[0].split(" Copyright")[0].strip() if first else "?"
        return self.nginx.prepare()

    def measure(self, figure, path, seconds):
        connections = FIGURES[figure]
        sample = {"path": path, "figure": figure, "connections": connections,
                  "seconds": seconds, "time": time.time()}
        launch = Launch(path)
        try:
            if self.nginx.proc.popen.poll() is not None:
                raise MeasureError(f"nginx exited with {self.nginx.proc.popen.returncode}: "
                                   f"{self.nginx.proc.text('err')[-300:]}")
            started = time.monotonic()
            self.paths[path].start(launch)
            sample["ready_s"] = round(time.monotonic() - started, 3)
            if hasattr(launch, "route_tries"):
                sample["route_tries"] = launch.route_tries
            self.run_wrk(sample, launch, connections, seconds)
        except MeasureError as err:
            sample["error"] = str(err)
        finally:
            self.stop_launch(launch, sample)
        if "error" in sample:
            log(f"{figure} {path}: ERROR {' '.join(sample['error'].split())[:400]}")
        return sample

    def run_wrk(self, sample, launch, connections, seconds):
        url = f"http://127.0.0.1:{launch.port}{self.args.resource}"
        argv = [self.wrk, f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency",
                "-H", f"Host: {HOST}", url]
        proc = self.launcher.start("wrk", argv)
        timeout = seconds + 30
        try:
            proc.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise MeasureError(f"wrk still running after {timeout} s") from None
        finally:
            self.launcher.stop(proc)
        out = proc.text("out")
        sample["wrk_output"] = out
        if proc.popen.returncode != 0:
            tail = (out + proc.text("err"))[-400:]
            raise MeasureError(f"wrk exit {proc.popen.returncode}: {tail}")
        result = parse_wrk(out)
        sample.update(result)
        log(f"c{connections} {launch.path}: {result['rps']:.0f} req/s, "
            f"p50 {result['p50_us']:.0f} us, p99 {result['p99_us']:.0f} us")
        errors = {k: v for k, v in result["socket_errors"].items() if v}
        if result["non_2xx_3xx"] or errors or not result["requests"]:
            raise MeasureError(f"wrk: {result['requests']} requests, {result['non_2xx_3xx']} not "
                               f"2xx/3xx, socket errors {errors or 'none'}")

    def stop_launch(self, launch, sample):
        running = {}
        for end in ("client", "server"):
            proc = getattr(launch, end)
            if proc is None:
                continue
            running[end] = proc.popen.poll() is None
            if not running[end] and "error" not in sample:
                sample["error"] = (f"{proc.name} exited with {proc.popen.returncode} during the "
                                   f"measurement: {proc.text('err')[-300:]}")
        codes = {}
        for end in running:  # the client first: its streams end before the server's
            codes[end] = self.launcher.stop(getattr(launch, end))
        if codes:
            sample["exit"] = codes
        if "error" in sample and codes:  # for the diagnosis: what each end said last
            sample["output_tail"] = {end: getattr(launch, end).text()[-2000:] for end in codes}
        unclean = {end: code for end, code in codes.items() if running[end] and code != 0}
        if unclean:  # SIGTERM must stop ringtunnel cleanly
            sample["stop_error"] = f"exit code(s) after SIGTERM {unclean} (0 expected)"
            log(f"{sample['figure']} {launch.path}: {sample['stop_error']}")
        for path in launch.dirs:
            shutil.rmtree(path, ignore_errors=True)


# -- the run ------------------------------------------------------------------------------------

def run_one(bench, run_index, live, params):
    k = run_index % len(live)
    order = live[k:] + live[:k]  # rotate so no path always goes first
    log(f"run {run_index + 1}: order {', '.join(order)}")
    samples = []
    for figure in FIGURES:
        samples += [bench.measure(figure, path, params["seconds"]) for path in order]
    for sample in samples:
        sample["run"] = run_index
    return samples


def warm_up(bench, live, params):
    log("warm-up (not summarized)")
    return [bench.measure(figure, path, params["warmup_seconds"])
            for path in live for figure in FIGURES]


def summarize(samples, paths):
    summary = {}
    for path in paths:
        mine = [s for s in samples if s["path"] == path]
        entry = {}
        for figure in FIGURES:
            ok = [s for s in mine if s["figure"] == figure and "error" not in s]
            entry[figure] = {key: spread([s[key] for s in ok]) for key in KEYS}
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


def targets(summary, skipped):
    """{name: {value, target, verdict, text}} for the two targets (verdict SKIP if a path is
    missing, MISS if it has no successful samples)."""
    found = {}
    missing = [p for p in PATHS if p not in summary]
    direct_rps, ingress_rps = (value(summary, p, "c32", "rps") for p in PATHS)
    direct_p50, ingress_p50 = (value(summary, p, "c1", "p50_us") for p in PATHS)
    head_ratio = f"ingress requests/s ≥ {TARGET_RPS_RATIO:.2f}× direct (wrk -c{FIGURES['c32']})"
    head_added = f"ingress added p50 < {TARGET_ADDED_P50_US:.0f} µs (wrk -c{FIGURES['c1']})"
    if missing:
        reasons = {p: skipped.get(p, "not measured (--paths)") for p in missing}
        why = ("; ".join(f"{p}: {r}" for p, r in reasons.items())
               if len(set(reasons.values())) > 1 else
               f"{' and '.join(reasons)}: {next(iter(reasons.values()))}")
        for name, head, target in (("rps_ratio", head_ratio, f">= {TARGET_RPS_RATIO}"),
                                   ("added_p50_us", head_added, f"< {TARGET_ADDED_P50_US}")):
            found[name] = {"value": None, "target": target, "verdict": "SKIP",
                           "text": f"- SKIP {head}: {why}"}
        return found
    r = ratio(ingress_rps, direct_rps)
    if r is None:
        found["rps_ratio"] = {"value": None, "verdict": "MISS",
                              "text": f"- MISS {head_ratio}: no successful samples"}
    else:
        verdict = "PASS" if r >= TARGET_RPS_RATIO else "MISS"
        found["rps_ratio"] = {"value": r, "verdict": verdict,
                              "text": f"- {verdict} {head_ratio}: {ingress_rps:.0f} vs "
                                      f"{direct_rps:.0f} req/s = {r:.2f}×"}
    found["rps_ratio"]["target"] = f">= {TARGET_RPS_RATIO}"
    if None in (direct_p50, ingress_p50):
        found["added_p50_us"] = {"value": None, "verdict": "MISS",
                                 "text": f"- MISS {head_added}: no successful samples"}
    else:
        added = ingress_p50 - direct_p50
        verdict = "PASS" if added < TARGET_ADDED_P50_US else "MISS"
        found["added_p50_us"] = {"value": added, "verdict": verdict,
                                 "text": f"- {verdict} {head_added}: {added:+.1f} µs (ingress "
                                         f"{ingress_p50:.1f} vs direct {direct_p50:.1f} µs)"}
    found["added_p50_us"]["target"] = f"< {TARGET_ADDED_P50_US}"
    return found


def render_row(summary, path):
    e = summary[path]
    problems = sum(len(v) for v in e.get("errors", {}).values()) + len(e.get("stop_errors", []))
    name = f"{path} ⚠ {problems} problem(s)" if problems else path
    r = ratio(value(summary, path, "c32", "rps"), value(summary, "direct", "c32", "rps"))
    p50, direct_p50 = value(summary, path, "c1", "p50_us"), value(summary, "direct", "c1", "p50_us")
    added = p50 - direct_p50 if None not in (p50, direct_p50) else None
    cells = [name, fmt(e["c32"]["rps"], 0), "—" if r is None else f"{r:.2f}×",
             fmt(e["c32"]["p50_us"], 0), fmt(e["c32"]["p99_us"], 0), fmt(e["c1"]["rps"], 0),
             fmt(e["c1"]["p50_us"], 1), fmt(e["c1"]["p99_us"], 1),
             "—" if added is None else f"{added:+.1f}"]
    return "| " + " | ".join(cells) + " |"


def render(summary, skipped, paths, meta, found):
    c32, c1 = FIGURES["c32"], FIGURES["c1"]
    columns = ["path", f"req/s ×{c32}", "÷ direct", f"p50 µs ×{c32}", f"p99 µs ×{c32}",
               f"req/s ×{c1}", f"p50 µs ×{c1}", f"p99 µs ×{c1}", f"p50 added µs ×{c1}"]
    out = [f"## HTTP ingress vs direct (wrk → nginx, GET {meta['resource']}): median of "
           f"{meta['runs_done']} runs (min–max){' — quick mode' if meta['quick'] else ''}\n",
           "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for path in paths:
        if path in skipped:
            out.append(f"| {path} | skipped: {skipped[path]} |" + "  |" * (len(columns) - 2))
        else:
            out.append(render_row(summary, path))
    out += ["", "### Targets (HTTP ingress vs direct, same run)"]
    out += [found[name]["text"] for name in ("rps_ratio", "added_p50_us")]
    out += ["", "Notes:"] + [f"- {note}" for note in meta["notes"]]
    return "\n".join(out)


def build_meta(args, bench, params, live):
    ingress = bench.paths["ingress"]
    meta = {"quick": args.quick, "params": params, "resource": args.resource,
            "build": build_options(args.build_dir),
            "host": {"kernel": platform.release(), "cpus": os.cpu_count(),
                     "python": sys.version.split()[0]},
            "wrk": bench.wrk, "wrk_version": bench.wrk_version, "nginx": bench.nginx.binary,
            "nginx_version": bench.nginx.version, "ringtunnel": ingress.binary,
            "ringtunnel_version": ingress.version, "loadavg_start": load_average()}
    if not live:
        meta["notes"] = ["Nothing measured: every path is skipped (see the table)."]
        return meta
    notes = [f"Loopback on {os.cpu_count()} cores shared by wrk (1 thread), nginx (1 worker) "
             f"and, for the ingress, both tunnel ends (--threads {TUNNEL_THREADS} each).",
             f"{bench.wrk_version}: `wrk -t{WRK_THREADS} -c{FIGURES['c32']}|-c{FIGURES['c1']} "
             f"-d{params['seconds']}s --latency -H 'Host: {HOST}' "
             f"http://127.0.0.1:PORT{args.resource}`; req/s is wrk's Requests/sec, p50/p99 its "
             "Latency Distribution (per request, send to full response; no coordinated-omission "
             "correction). A sample with any non-2xx/3xx response or socket error is an error.",
             f"nginx {bench.nginx.version}: a private instance (temp prefix, `daemon off`, "
             "`master_process on`, `worker_processes 1`, `access_log off`, `keepalive_requests "
             f"1000000`) for the whole run; GET {args.resource} answers "
             f"{RESOURCES[args.resource]}.",
             "Every sample starts the path afresh: ingress = `ringtunnel server --http-bind "
             f"127.0.0.1:HP --domain {DOMAIN}` + `ringtunnel client --http {NAME}=127.0.0.1:NGINX`"
             f" (fresh data dirs, one token per run), polled with curl until {HOST} answers 200 "
             f"(≤ {ROUTE_TIMEOUT:.0f} s), stopped after with SIGTERM, client first (exit 0 "
             "expected). Paths interleaved, order rotated per run; a warm-up sample of each "
             f"figure per path ({params['warmup_seconds']} s) first, not summarized."]
    if "ingress" in live:
        notes.append(f"ringtunnel: `{ingress.version}`")
    if meta["build"] and meta["build"]["buildtype"] != "release":
        notes.append(f"Build type is {meta['build']['buildtype']!r}, not release "
                     "(BENCHMARKS.md rule 4): ingress figures may be pessimistic.")
    if meta["loadavg_start"][0] > os.cpu_count():
        notes.append(f"The host was busy when the run started (load average "
                     f"{meta['loadavg_start'][0]:.1f} on {os.cpu_count()} cores): expect noise.")
    meta["notes"] = notes
    return meta


def finish_notes(meta, summary, live, out_path, bench, warmup):
    for end, line in bench.paths["ingress"].ready_lines.items():
        meta["notes"].append(f"ingress {end}: `{line.split(' info ', 1)[-1].strip()}`")
    for path in live:
        for figure, errors in summary[path].get("errors", {}).items():
            first = " ".join(errors[0].split())
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
    meta["notes"].append(f"Wall time {meta['elapsed_s']} s, load average at the end "
                         f"{meta['loadavg_end'][0]:.2f}. Raw samples: {out_path}.")


def run(args, launcher):
    params = dict(QUICK if args.quick else FULL)
    params["runs"] = args.runs or params["runs"]
    workdir = tempfile.mkdtemp(prefix="rt-ingress-bench-")
    try:
        return run_in(args, launcher, params, workdir)
    finally:
        launcher.stop_all()  # before the data dirs and nginx's prefix go
        shutil.rmtree(workdir, ignore_errors=True)


def run_in(args, launcher, params, workdir):
    bench = Bench(args, launcher, workdir)
    paths = [p for p in PATHS if p in args.paths]
    common = bench.prepare()  # wrk and nginx serve every path
    skipped = ({p: common for p in paths} if common else
               {p: r for p in paths if (r := bench.paths[p].prepare())})
    live = [p for p in paths if p not in skipped]
    for path, why in skipped.items():
        log(f"skipping {path}: {why}")
    params["budget"] = params["budget_per_path"] * len(live)
    meta = build_meta(args, bench, params, live)

    start = time.monotonic()
    samples, warmup, runs_done = [], [], 0
    if live:
        bench.nginx.start()
        warmup = warm_up(bench, live, params)
        last_run = 0.0
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
    found = targets(summary, skipped)
    out_path = os.path.join(args.out, "ingress.json")
    finish_notes(meta, summary, live, out_path, bench, warmup)
    print(render(summary, skipped, paths, meta, found))
    os.makedirs(args.out, exist_ok=True)
    with open(out_path, "w") as f:
        json.dump({"meta": meta, "skipped": skipped, "summary": summary, "targets": found,
                   "samples": samples, "warmup": warmup}, f, indent=1)
    failed = any(summary[p].get("errors") or summary[p].get("stop_errors") for p in live)
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", required=True, help="meson build directory")
    parser.add_argument("--quick", action="store_true", help="3 s samples, 3 runs")
    parser.add_argument("--runs", type=int, help="runs per figure (default 5, quick 3)")
    parser.add_argument("--out", help="results directory (default BUILD_DIR/bench-results)")
    parser.add_argument("--paths", default=",".join(PATHS),
                        help=f"comma-separated subset of {','.join(PATHS)}")
    parser.add_argument("--resource", default="/", choices=sorted(RESOURCES),
                        help="what wrk requests: / (hello, 6 bytes; default) or /1k (1 KiB file)")
    parser.add_argument("--ringtunnel", help="override BUILD_DIR/src/cli/ringtunnel")
    parser.add_argument("--wrk", default=WRK, help=f"wrk binary (default {WRK})")
    parser.add_argument("--nginx", default=NGINX, help=f"nginx binary (default {NGINX})")
    args = parser.parse_args()
    if args.runs is not None and not 1 <= args.runs <= 50:
        parser.error("--runs must be between 1 and 50")
    args.out = args.out or os.path.join(args.build_dir, "bench-results")
    args.paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    unknown = [p for p in args.paths if p not in PATHS]
    if unknown or "direct" not in args.paths:
        parser.error(f"--paths: unknown {unknown}" if unknown else "--paths must include direct")
    set_log_tag("ingress")
    return run_driver(run, args)


if __name__ == "__main__":
    sys.exit(main())
