#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""End-to-end comparison: direct TCP vs ringtunnel-bench-relay (auto and epoll backends) vs socat.

Usage: run.py --build-dir DIR [--quick] [--runs N] [--out DIR]

Measures, per path and run (paths interleaved A B A B inside every run, order rotated per run):
single-stream throughput into a sink, 64-byte ping-pong RTT against an echo server, and the
proxy's RSS idle and while 1,000 idle connections are held through it. Prints one markdown table
and the targets (PASS/MISS) to stdout, progress to stderr, and all raw samples to OUT/e2e.json.
Stdlib only; run with /usr/bin/python3. Loopback only; every step is bounded in time.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time

from common import (READY_TIMEOUT, MeasureError, fmt, free_port, build_options, log,
                    loadgen_client, median_of, ratio, run_driver, spread, start_loadgen_servers,
                    tree_memory, wait_connectable)

HOLD_CONNECTIONS = 1000
PINGPONG_SIZE = 64
PINGPONG_WARMUP = 2000
RELAY_THREADS = 2
PATHS = ("direct", "relay", "relay-epoll", "socat")


class Bench:
    def __init__(self, args, launcher):
        self.args = args
        self.launcher = launcher
        self.loadgen = args.loadgen or os.path.join(args.build_dir, "bench", "tools",
                                                    "ringtunnel-loadgen")
        self.relay = args.relay or os.path.join(args.build_dir, "bench", "ringtunnel-bench-relay")
        self.socat = shutil.which("socat")
        self.servers = {}
        self.notes = {}  # path -> facts seen while running (relay backend line, ...)

    # -- processes ------------------------------------------------------------------------

    def start_servers(self):
        self.servers = start_loadgen_servers(self.launcher, self.loadgen)

    def skip_reason(self, path):
        if path.startswith("relay") and not os.access(self.relay, os.X_OK):
            return f"relay not built ({self.relay})"
        if path == "socat" and not self.socat:
            return "socat not installed"
        return None

    def start_proxy(self, path, target_port):
        """Starts the proxy for `path` in front of `target_port`; returns (proc, port)."""
        if path == "direct":
            return None, target_port
        port = free_port()
        if path == "socat":
            argv = [self.socat, f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,backlog=1024",
                    f"TCP:127.0.0.1:{target_port}"]
            proc = self.launcher.start("socat", argv)
        else:
            backend = "epoll" if path == "relay-epoll" else "auto"
            argv = [self.relay, "--listen", f"127.0.0.1:{port}", "--target",
                    f"127.0.0.1:{target_port}", "--threads", str(RELAY_THREADS),
                    "--io-backend", backend]
            proc = self.launcher.start(path, argv)
            line = proc.wait_line(r"^relay:", READY_TIMEOUT)
            self.notes.setdefault(path, {})["ready_line"] = line
        wait_connectable(port, READY_TIMEOUT)
        return proc, port

    def stop_proxy(self, path, proc, sample):
        if proc is None:
            return
        if proc.popen.poll() is not None:
            sample.setdefault("error", f"{path} exited with {proc.popen.returncode} during the "
                                       f"measurement: {proc.text('err')[-300:]}")
        code = self.launcher.stop(proc)
        if path != "socat":
            sample["proxy_exit"] = code
            sample["proxy_final"] = proc.text("out").splitlines()[-1:]

    def client(self, argv, timeout):
        """Runs a loadgen client, returns its JSON result; raises MeasureError on failure."""
        return loadgen_client(self.launcher, self.loadgen, argv, timeout)

    # -- figures ------------------------------------------------------------------------

    def measure(self, figure, path, **kw):
        sample = {"path": path, "figure": figure, "time": time.time()}
        target = self.servers["sink" if figure == "throughput" else "echo"]
        proc = None
        try:
            proc, port = self.start_proxy(path, target)
            getattr(self, "_" + figure)(sample, path, proc, port, **kw)
        except MeasureError as err:
            sample["error"] = str(err)
        finally:
            self.stop_proxy(path, proc, sample)
        if "error" in sample:
            log(f"{figure} {path}: ERROR {sample['error']}")
        return sample

    def _throughput(self, sample, path, proc, port, seconds):
        result = self.client(["throughput", "--connect", f"127.0.0.1:{port}", "--seconds",
                              str(seconds)], timeout=seconds + 45)
        sample.update(gbit_per_s=result["gbit_per_s"], raw=result)
        log(f"throughput {path}: {result['gbit_per_s']:.3f} Gbit/s")

    def _pingpong(self, sample, path, proc, port, count):
        result = self.client(["pingpong", "--connect", f"127.0.0.1:{port}", "--count", str(count),
                              "--warmup", str(PINGPONG_WARMUP), "--size", str(PINGPONG_SIZE),
                              "--timeout", "100"], timeout=110)
        rtt = result["rtt_us"]
        sample.update(p50_us=rtt["p50"], p99_us=rtt["p99"], p999_us=rtt["p99.9"], raw=result)
        log(f"pingpong {path}: p50 {rtt['p50']:.1f} us, p99 {rtt['p99']:.1f} us")

    def _memory(self, sample, path, proc, port):
        if proc is None:
            sample["skipped"] = "no proxy process on the direct path"
            return
        time.sleep(0.5)  # let the probe connection's teardown settle
        idle = tree_memory(proc.pid)
        hold = self.launcher.start("loadgen hold",
                                   [self.loadgen, "hold", "--connect", f"127.0.0.1:{port}",
                                    "--connections", str(HOLD_CONNECTIONS), "--seconds", "60",
                                    "--timeout", "50", "--json"])
        try:
            hold.wait_line(r"^loadgen: holding ", 55)
            time.sleep(0.5)
            held = tree_memory(proc.pid)
        finally:
            code = self.launcher.stop(hold)
        result = [line for line in hold.text("out").splitlines() if line.startswith("{")]
        if code != 0 or not result:
            raise MeasureError(f"hold exit {code}: {hold.text('err')[-300:]}")
        n = HOLD_CONNECTIONS
        sample.update(idle=idle, held=held, raw=json.loads(result[-1]),
                      rss_idle_kib=idle["rss_kib"],
                      kib_per_conn=(held["rss_kib"] - idle["rss_kib"]) / n,
                      pss_kib_per_conn=(held["pss_kib"] - idle["pss_kib"]) / n)
        log(f"memory {path}: idle {idle['rss_kib']} KiB, {held['processes']} process(es), "
            f"{sample['kib_per_conn']:.1f} KiB/conn (RSS), {sample['pss_kib_per_conn']:.1f} (PSS)")


def summarize(samples, paths):
    summary = {}
    for path in paths:
        mine = [s for s in samples if s["path"] == path]
        entry = {}
        for figure, key in (("throughput", "gbit_per_s"), ("pingpong", "p50_us"),
                            ("pingpong", "p99_us"), ("memory", "rss_idle_kib"),
                            ("memory", "kib_per_conn"), ("memory", "pss_kib_per_conn")):
            got = [s[key] for s in mine if s["figure"] == figure and key in s]
            entry[key] = spread(got)
            errors = [s["error"] for s in mine if s["figure"] == figure and "error" in s]
            if errors:
                entry.setdefault("errors", {})[figure] = errors
        summary[path] = entry
    return summary


def render(summary, skipped, paths, meta):
    out = []
    direct_tp = median_of(summary, "direct", "gbit_per_s")
    socat_tp = median_of(summary, "socat", "gbit_per_s")
    direct_p50 = median_of(summary, "direct", "p50_us")
    out.append(f"## End-to-end: median of {meta['runs']} runs (min–max)"
               f"{' — quick mode' if meta['quick'] else ''}\n")
    out.append("| path | 1-stream Gbit/s | ÷ direct | ÷ socat | p50 µs | p99 µs "
               "| p50 added µs | idle RSS KiB | KiB/conn @1000 |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        if path in skipped:
            out.append(f"| {path} | skipped: {skipped[path]} |  |  |  |  |  |  |  |")
            continue
        e = summary[path]
        tp = median_of(summary, path, "gbit_per_s")
        p50 = median_of(summary, path, "p50_us")
        r_direct, r_socat = ratio(tp, direct_tp), ratio(tp, socat_tp)
        added = p50 - direct_p50 if p50 is not None and direct_p50 is not None else None
        mem = "n/a" if path == "direct" else fmt(e["kib_per_conn"], 1)
        if path == "socat" and e["kib_per_conn"]:
            mem += f" ¹"
        idle = "n/a" if path == "direct" else fmt(e["rss_idle_kib"], 0)
        errs = sum(len(v) for v in e.get("errors", {}).values())
        name = f"{path} ⚠ {errs} error(s)" if errs else path
        out.append(f"| {name} | {fmt(e['gbit_per_s'], 2)} | "
                   f"{'—' if r_direct is None else f'{r_direct:.2f}×'} | "
                   f"{'—' if r_socat is None else f'{r_socat:.2f}×'} | {fmt(e['p50_us'])} | "
                   f"{fmt(e['p99_us'])} | {'—' if added is None else f'{added:+.1f}'} | "
                   f"{idle} | {mem} |")
    out.append("")
    out.append(render_targets(summary, skipped))
    out.append("")
    out.append("Notes:")
    for note in meta["notes"]:
        out.append(f"- {note}")
    return "\n".join(out)


def target_lines(summary, skipped, path):
    if "socat" in skipped or path in skipped:
        why = skipped.get(path) or skipped.get("socat")
        return [f"- SKIP {path} targets: {why}"]
    lines = []
    tp, socat_tp = median_of(summary, path, "gbit_per_s"), median_of(summary, "socat", "gbit_per_s")
    if tp is None or socat_tp is None:
        lines.append(f"- MISS {path} single-stream ≥ 1.5× socat: no successful samples")
    else:
        r = tp / socat_tp
        verdict = "PASS" if r >= 1.5 else "MISS"
        lines.append(f"- {verdict} {path} single-stream ≥ 1.5× socat: {tp:.2f} vs "
                     f"{socat_tp:.2f} Gbit/s = {r:.2f}×")
    direct = median_of(summary, "direct", "p50_us")
    p50, socat_p50 = median_of(summary, path, "p50_us"), median_of(summary, "socat", "p50_us")
    if None in (direct, p50, socat_p50):
        lines.append(f"- MISS {path} added p50 ≤ socat added p50: no successful samples")
    else:
        mine, theirs = p50 - direct, socat_p50 - direct
        verdict = "PASS" if mine <= theirs else "MISS"
        lines.append(f"- {verdict} {path} added p50 ≤ socat added p50: {mine:+.1f} µs vs "
                     f"{theirs:+.1f} µs (direct p50 {direct:.1f} µs)")
    return lines


def render_targets(summary, skipped):
    lines = ["### Targets"]
    lines += target_lines(summary, skipped, "relay")
    info = target_lines(summary, skipped, "relay-epoll")
    lines += [line + " (info: epoll backend)" for line in info]
    return "\n".join(lines)


def build_meta(args, bench, params):
    meta = {"quick": args.quick, "runs": args.runs, "params": params,
            "host": {"kernel": platform.release(), "cpus": os.cpu_count(),
                     "python": sys.version.split()[0]},
            "loadgen": bench.loadgen, "relay": bench.relay, "socat": bench.socat}
    notes = [f"Loopback on {os.cpu_count()} cores: the relay runs with --threads "
             f"{RELAY_THREADS}; the loadgen client, the loadgen server (1 thread) and the proxy "
             "all share these cores, so proxies compete with the load they carry.",
             f"Throughput: {params['seconds']} s per sample into a sink; bytes counted once the "
             "sink has read them (half-close, wait for its close). Ping-pong: "
             f"{params['count']} × {PINGPONG_SIZE} B after {PINGPONG_WARMUP} warm-up round trips.",
             f"Memory: proxy RSS idle, then with {HOLD_CONNECTIONS} idle connections held "
             "(each checked with a 16-byte echo); KiB/conn = (held − idle) / "
             f"{HOLD_CONNECTIONS}."]
    meta["build"] = build_options(args.build_dir)
    if meta["build"] and meta["build"]["buildtype"] != "release":
        notes.append(f"Build type is {meta['build']['buildtype']!r}, not release "
                     "(BENCHMARKS.md rule 4): relay figures may be pessimistic.")
    if bench.socat:
        version = subprocess.run([bench.socat, "-V"], capture_output=True, text=True, timeout=5)
        found = re.search(r"socat version (\S+)", version.stdout)
        meta["socat_version"] = found.group(1) if found else "?"
        notes.append(f"socat {meta['socat_version']}: `TCP-LISTEN:P,bind=127.0.0.1,reuseaddr,"
                     "fork,backlog=1024 TCP:127.0.0.1:Q` (backlog raised from socat's default 5, "
                     "which overflows and resets connections under 64 concurrent connects). "
                     "¹ socat forks one process per connection: its KiB/conn is the summed RSS "
                     "of the whole process tree (shared pages counted in every process).")
    meta["notes"] = notes
    return meta


def run(args, launcher):
    params = {"seconds": 2 if args.quick else 5, "count": 5000 if args.quick else 20000}
    budget = 115 if args.quick else 290  # seconds; runs that would overrun it are dropped
    bench = Bench(args, launcher)
    for tool in (bench.loadgen,):
        if not os.access(tool, os.X_OK):
            sys.exit(f"run.py: {tool} not found; build it first (ninja -C {args.build_dir})")
    paths = [p for p in PATHS if p in args.paths]
    skipped = {p: r for p in paths if (r := bench.skip_reason(p))}
    live = [p for p in paths if p not in skipped]
    meta = build_meta(args, bench, params)
    for path, why in skipped.items():
        log(f"skipping {path}: {why}")

    start = time.monotonic()
    bench.start_servers()
    log("warm-up (not recorded)")
    for path in live:
        bench.measure("throughput", path, seconds=1)
        bench.measure("pingpong", path, count=1000)
    samples = []
    last_run = 0.0
    for run_index in range(args.runs):
        run_start = time.monotonic()
        if run_start - start + last_run > budget:
            meta["notes"].append(f"Time budget of {budget} s reached: only {run_index} of "
                                 f"{args.runs} runs were measured.")
            break
        k = run_index % len(live) if live else 0
        order = live[k:] + live[:k]  # rotate so no path always goes first
        log(f"run {run_index + 1}/{args.runs}: order {', '.join(order)}")
        for path in order:
            samples.append(bench.measure("throughput", path, seconds=params["seconds"]))
        for path in order:
            samples.append(bench.measure("pingpong", path, count=params["count"]))
        for path in order:
            if path != "direct":
                samples.append(bench.measure("memory", path))
        for sample in samples:
            sample.setdefault("run", run_index)
        last_run = time.monotonic() - run_start
    meta["elapsed_s"] = round(time.monotonic() - start, 1)
    for path, facts in bench.notes.items():
        if "ready_line" in facts:
            meta["notes"].append(f"{path}: `{facts['ready_line']}`")
    summary = summarize(samples, live)
    socat_pss = summary.get("socat", {}).get("pss_kib_per_conn")
    if socat_pss:
        meta["notes"].append(f"¹ socat by PSS (shared pages split between processes): "
                             f"{fmt(socat_pss)} KiB/conn.")
    for path in live:
        for figure, errors in summary[path].get("errors", {}).items():
            meta["notes"].append(f"{path} {figure}: {len(errors)} failed sample(s), first: "
                                 f"{errors[0][:200]}")
    meta["notes"].append(f"Wall time {meta['elapsed_s']} s. Raw samples: "
                         f"{os.path.join(args.out, 'e2e.json')}.")
    print(render(summary, skipped, paths, meta))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "e2e.json"), "w") as f:
        json.dump({"meta": meta, "skipped": skipped, "summary": summary, "samples": samples},
                  f, indent=1)
    failed = any(summary[p].get("errors") for p in live)
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", required=True, help="meson build directory")
    parser.add_argument("--quick", action="store_true", help="shorter samples, 3 runs")
    parser.add_argument("--runs", type=int, help="runs per figure (default 5, quick 3)")
    parser.add_argument("--out", help="results directory (default BUILD_DIR/bench-results)")
    parser.add_argument("--paths", default=",".join(PATHS),
                        help=f"comma-separated subset of {','.join(PATHS)}")
    parser.add_argument("--loadgen", help="override BUILD_DIR/bench/tools/ringtunnel-loadgen")
    parser.add_argument("--relay", help="override BUILD_DIR/bench/ringtunnel-bench-relay")
    args = parser.parse_args()
    args.runs = args.runs or (3 if args.quick else 5)
    if not 1 <= args.runs <= 50:
        parser.error("--runs must be between 1 and 50")
    args.out = args.out or os.path.join(args.build_dir, "bench-results")
    args.paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    unknown = [p for p in args.paths if p not in PATHS]
    if unknown or "direct" not in args.paths:
        parser.error(f"--paths: unknown {unknown}" if unknown else "--paths must include direct")

    return run_driver(run, args)


if __name__ == "__main__":
    sys.exit(main())
