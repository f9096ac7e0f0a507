#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""UDP through the tunnel, and latency beside a bulk stream: direct vs ringtunnel.

Usage: mixed.py --build-dir DIR [--quick] [--runs N] [--out DIR]

Per run (paths interleaved, order rotated per run), on one freshly started tunnel per path
(`ringtunnel client --sessions 1`, so every tunnel shares one session): UDP round trips (64-byte
datagrams), UDP throughput with 64 datagrams in flight (1,400 and 16,384 bytes, echoed back),
and 64-byte TCP ping-pong and UDP round trips, each alone and again for the whole middle of a
bulk TCP stream through the same session (for direct: beside a bulk stream to the same sink),
with the bulk stream's own throughput meanwhile. Prints one
markdown table and the issue's targets (PASS/MISS), raw samples to OUT/mixed.json. Stdlib only;
run with /usr/bin/python3. Loopback only; every step is bounded in time.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

from common import (READY_TIMEOUT, MeasureError, build_options, fmt, free_port, load_average,
                    loadgen_client, log, median_of, ratio, run_driver, set_log_tag, spread,
                    start_loadgen_servers, wait_forwards)

PATHS = ("direct", "ringtunnel")
FULL = {"runs": 5, "count": 10000, "udp_seconds": 4, "bulk_seconds": 8}
QUICK = {"runs": 3, "count": 4000, "udp_seconds": 2, "bulk_seconds": 5}
BULK_WARMUP = 1.0  # seconds of bulk before the loaded round trips start
BULK_MARGIN = 1.0  # and before it ends: the round trips run for the time between
THREADS = 2
FIGURES = {  # figure -> the sample keys summarized (median, min–max)
    "udp_rtt": ("p50_us", "p99_us"),
    "udp_tput_1400": ("gbit_per_s", "lost"),
    "udp_tput_16384": ("gbit_per_s", "lost"),
    "tcp_pp": ("p50_us", "p99_us"),
    "tcp_pp_loaded": ("p50_us", "p99_us", "bulk_gbit_per_s"),
    "udp_rtt_loaded": ("p50_us", "p99_us", "bulk_gbit_per_s"),
}


class Setup:
    """One path's endpoints for a run: where the TCP sink, TCP echo and UDP echo are reached."""

    def __init__(self, path, ports, procs=()):
        self.path, self.ports, self.procs = path, ports, list(procs)


def start_udp_echo(launcher, loadgen):
    proc = launcher.start("loadgen udp-echo", [loadgen, "udp-echo", "--listen", "127.0.0.1:0"])
    line = proc.wait_line(r"^loadgen: udp echo on ", READY_TIMEOUT)
    return int(re.search(r":(\d+)$", line).group(1))


def start_path(path, launcher, binary, servers, workdir, token):
    if path == "direct":
        return Setup(path, dict(servers))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGTUNNEL_")}
    port = free_port()
    server_dir = tempfile.mkdtemp(prefix="server-", dir=workdir)
    client_dir = tempfile.mkdtemp(prefix="client-", dir=workdir)
    server = launcher.start("ringtunnel server", [
        binary, "server", "--bind", "127.0.0.1", "--port", str(port), "--data-dir", server_dir,
        "--threads", str(THREADS), "--token", token], env=env)
    server.wait_line(r"server ready", READY_TIMEOUT)
    ports = {name: free_port() for name in servers}
    argv = [binary, "client", "--ip", "127.0.0.1", "--port", str(port), "--data-dir", client_dir,
            "--token", token, "--accept-new-host", "--threads", str(THREADS), "--sessions", "1"]
    for name, target in servers.items():
        suffix = ":udp" if name == "udp" else ""
        argv += ["-L", f"127.0.0.1:{ports[name]}:127.0.0.1:{target}{suffix}"]
    client = launcher.start("ringtunnel client", argv, env=env)
    client.wait_line(r"client ready", READY_TIMEOUT)
    wait_forwards(client, [p for n, p in ports.items() if n != "udp"], READY_TIMEOUT)
    return Setup(path, ports, [client, server])


class Bench:
    def __init__(self, args, launcher, params):
        self.args, self.launcher, self.params = args, launcher, params
        self.loadgen = os.path.join(args.build_dir, "bench", "tools", "ringtunnel-loadgen")
        self.binary = os.path.join(args.build_dir, "src", "cli", "ringtunnel")

    def client(self, argv, timeout):
        return loadgen_client(self.launcher, self.loadgen, argv, timeout)

    def udp_rtt(self, setup, count, seconds=0):
        r = self.client(["udp-pingpong", "--connect", f"127.0.0.1:{setup.ports['udp']}",
                         "--count", str(count), "--size", "64", "--timeout", "200",
                         "--seconds", str(seconds)], 220)
        return {"p50_us": r["rtt_us"]["p50"], "p99_us": r["rtt_us"]["p99"], "lost": r["lost"]}

    def udp_tput(self, setup, size):
        seconds = self.params["udp_seconds"]
        r = self.client(["udp-throughput", "--connect", f"127.0.0.1:{setup.ports['udp']}",
                         "--seconds", str(seconds), "--size", str(size), "--window", "64"],
                        seconds + 30)
        return {"gbit_per_s": r["gbit_per_s"], "lost": r["lost"], "sent": r["sent"]}

    def tcp_pp(self, setup, count, seconds=0):
        r = self.client(["pingpong", "--connect", f"127.0.0.1:{setup.ports['echo']}", "--count",
                         str(count), "--warmup", "500", "--size", "64", "--timeout", "200",
                         "--seconds", str(seconds)], 220)
        return {"p50_us": r["rtt_us"]["p50"], "p99_us": r["rtt_us"]["p99"]}

    def loaded(self, setup, measure):
        """`measure()` while a bulk TCP stream runs to the sink on the same path; the bulk's
        own throughput is recorded too. A measurement that outlasts the bulk is an error (its
        last round trips would not have been loaded)."""
        seconds = self.params["bulk_seconds"]
        started = time.monotonic()
        bulk = self.launcher.start("loadgen bulk", [
            self.loadgen, "throughput", "--connect", f"127.0.0.1:{setup.ports['sink']}",
            "--seconds", str(seconds), "--json"])
        try:
            time.sleep(BULK_WARMUP)
            if bulk.popen.poll() is not None:
                raise MeasureError(f"the bulk stream ended early: {bulk.text()[-300:]}")
            result = measure(seconds - BULK_WARMUP - BULK_MARGIN)
            if time.monotonic() - started > seconds:
                raise MeasureError(f"the round trips took longer than the {seconds} s bulk stream")
            try:
                bulk.popen.wait(seconds + 45)
            except subprocess.TimeoutExpired:
                raise MeasureError("the bulk stream did not finish") from None
            out = [line for line in bulk.text("out").splitlines() if line.startswith("{")]
            if bulk.popen.returncode != 0 or not out:
                raise MeasureError(f"bulk exit {bulk.popen.returncode}: {bulk.text('err')[-300:]}")
            result["bulk_gbit_per_s"] = json.loads(out[-1])["gbit_per_s"]
            return result
        finally:
            self.launcher.stop(bulk)

    def run_path(self, path, servers, workdir, token):
        count = self.params["count"]
        samples = []
        setup = None
        try:
            setup = start_path(path, self.launcher, self.binary, servers, workdir, token)
            steps = [
                ("udp_rtt", lambda: self.udp_rtt(setup, count)),
                ("udp_tput_1400", lambda: self.udp_tput(setup, 1400)),
                ("udp_tput_16384", lambda: self.udp_tput(setup, 16384)),
                ("tcp_pp", lambda: self.tcp_pp(setup, count)),
                ("tcp_pp_loaded",
                 lambda: self.loaded(setup, lambda s: self.tcp_pp(setup, 10**8, s))),
                ("udp_rtt_loaded",
                 lambda: self.loaded(setup, lambda s: self.udp_rtt(setup, 10**8, s))),
            ]
            for figure, step in steps:
                sample = {"path": path, "figure": figure, "time": time.time()}
                try:
                    sample.update(step())
                    log(f"{figure} {path}: " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float)
                                                          else f"{k} {v}" for k, v in sample.items()
                                                          if k not in ("path", "figure", "time")))
                except MeasureError as err:
                    sample["error"] = str(err)
                    log(f"{figure} {path}: ERROR {' '.join(str(err).split())[:300]}")
                samples.append(sample)
        except MeasureError as err:
            samples.append({"path": path, "figure": "start", "error": str(err)})
            log(f"{path}: cannot start: {err}")
        finally:
            if setup:
                for proc in setup.procs:
                    code = self.launcher.stop(proc)
                    if code != 0:
                        samples.append({"path": path, "figure": "stop",
                                        "error": f"{proc.name} exited {code} after SIGTERM"})
        return samples


def summarize(samples):
    summary = {}
    for path in PATHS:
        summary[path] = {"errors": [s["error"] for s in samples
                                    if s["path"] == path and "error" in s]}
        for figure, keys in FIGURES.items():
            for key in keys:
                values = [s[key] for s in samples if s["path"] == path and s["figure"] == figure
                          and key in s and "error" not in s]
                summary[path][f"{figure}.{key}"] = spread(values)
    return summary


def render(summary, meta):
    rows = [("UDP RTT 64 B p50 / p99 (us)", "udp_rtt", ("p50_us", "p99_us"), 1),
            ("UDP 1,400 B, 64 in flight (Gbit/s)", "udp_tput_1400", ("gbit_per_s",), 3),
            ("UDP 16 KiB, 64 in flight (Gbit/s)", "udp_tput_16384", ("gbit_per_s",), 3),
            ("TCP ping-pong 64 B p50 / p99 (us)", "tcp_pp", ("p50_us", "p99_us"), 1),
            ("… with a bulk stream beside it", "tcp_pp_loaded", ("p50_us", "p99_us"), 1),
            ("UDP RTT with a bulk stream beside it", "udp_rtt_loaded", ("p50_us", "p99_us"), 1),
            ("the bulk stream meanwhile (Gbit/s)", "tcp_pp_loaded", ("bulk_gbit_per_s",), 2)]
    out = ["| figure (median, min–max) | direct | ringtunnel | ratio |", "|---|---|---|---|"]
    for label, figure, keys, digits in rows:
        cells = []
        for path in PATHS:
            cells.append(" / ".join(fmt(summary[path][f"{figure}.{k}"], digits) for k in keys))
        last = keys[-1]
        r = ratio(median_of(summary, "ringtunnel", f"{figure}.{last}"),
                  median_of(summary, "direct", f"{figure}.{last}"))
        out.append(f"| {label} | {cells[0]} | {cells[1]} | {'—' if r is None else f'{r:.2f}×'} |")
    unloaded = median_of(summary, "ringtunnel", "tcp_pp.p99_us")
    loaded = median_of(summary, "ringtunnel", "tcp_pp_loaded.p99_us")
    out.append("")
    if unloaded and loaded:
        verdict = "PASS" if loaded <= 2 * unloaded else "MISS"
        out.append(f"- {verdict} ringtunnel TCP ping-pong p99 beside a bulk stream in the same "
                   f"session: {loaded:.0f} us vs {unloaded:.0f} us alone ({loaded / unloaded:.2f}×, "
                   f"target ≤ 2×)")
    u_alone = median_of(summary, "ringtunnel", "udp_rtt.p99_us")
    u_loaded = median_of(summary, "ringtunnel", "udp_rtt_loaded.p99_us")
    if u_alone and u_loaded:
        out.append(f"- UDP RTT p99 beside a bulk stream: {u_loaded:.0f} us vs {u_alone:.0f} us "
                   f"alone ({u_loaded / u_alone:.2f}×)")
    for path in PATHS:
        for error in summary[path]["errors"]:
            out.append(f"- ERROR {path}: {' '.join(error.split())[:300]}")
    out.append(f"- {meta['runs_done']} runs in {meta['elapsed_s']} s; build {meta['build']}; "
               f"load average at the end {meta['loadavg_end']}")
    return "\n".join(out)


def run(args, launcher):
    params = dict(QUICK if args.quick else FULL)
    params["runs"] = args.runs or params["runs"]
    workdir = tempfile.mkdtemp(prefix="rt-mixed-bench-")
    try:
        bench = Bench(args, launcher, params)
        for tool in (bench.loadgen, bench.binary):
            if not os.access(tool, os.X_OK):
                sys.exit(f"mixed.py: {tool} not found; build it first (ninja -C BUILD)")
        servers = start_loadgen_servers(launcher, bench.loadgen)
        servers["udp"] = start_udp_echo(launcher, bench.loadgen)
        token = secrets.token_hex(16)
        start = time.monotonic()
        samples = []
        for run_index in range(params["runs"]):
            order = PATHS if run_index % 2 == 0 else PATHS[::-1]
            log(f"run {run_index + 1}: order {', '.join(order)}")
            for path in order:
                samples += bench.run_path(path, servers, workdir, token)
        meta = {"runs_done": params["runs"], "elapsed_s": round(time.monotonic() - start, 1),
                "loadavg_end": load_average(), "build": build_options(args.build_dir),
                "params": params}
        summary = summarize(samples)
        print(render(summary, meta))
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "mixed.json"), "w") as f:
            json.dump({"meta": meta, "summary": summary, "samples": samples}, f, indent=1)
        return 1 if any(summary[p]["errors"] for p in PATHS) else 0
    finally:
        launcher.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", required=True, help="meson build directory")
    parser.add_argument("--quick", action="store_true", help="shorter samples, 3 runs")
    parser.add_argument("--runs", type=int, help="runs (default 5, quick 3)")
    parser.add_argument("--out", help="results directory (default BUILD_DIR/bench-results)")
    args = parser.parse_args()
    if args.runs is not None and not 1 <= args.runs <= 50:
        parser.error("--runs must be between 1 and 50")
    args.out = args.out or os.path.join(args.build_dir, "bench-results")
    set_log_tag("mixed")
    return run_driver(run, args)


if __name__ == "__main__":
    sys.exit(main())
