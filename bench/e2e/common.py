# SPDX-License-Identifier: MIT
"""Shared by the end-to-end drivers (run.py, tunnel.py): launching and stopping processes,
ports, /proc measurements (process trees, RSS/PSS, CPU time), the loadgen client runner and
the median/min–max helpers. Stdlib only; loopback only; every wait is bounded in time.
"""

import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

READY_TIMEOUT = 10.0
_log_tag = "e2e"


def set_log_tag(tag):
    global _log_tag
    _log_tag = tag


def log(message):
    print(f"[{_log_tag} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class MeasureError(Exception):
    pass


# -- /proc ------------------------------------------------------------------------------------

def _stat_fields(pid):
    """/proc/PID/stat fields after the command name (field 3 onwards), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def start_time(pid):
    """The process's start time in clock ticks since boot: with the PID, an identity."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def proc_tree(root):
    """PIDs of `root` and all its descendants (socat forks one child per connection)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(entry)
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def read_kib(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pids_memory(pids):
    """Summed RSS and PSS (KiB) of `pids`, plus each one's RSS."""
    each = {pid: read_kib(f"/proc/{pid}/status", "VmRSS") for pid in pids}
    pss = sum(read_kib(f"/proc/{p}/smaps_rollup", "Pss") for p in pids)
    return {"processes": len(pids), "rss_kib": sum(each.values()), "pss_kib": pss,
            "rss_kib_each": each}


def tree_memory(root):
    memory = pids_memory(proc_tree(root))
    del memory["rss_kib_each"]
    return memory


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """utime + stime (all threads) of each of `pids` in seconds; a vanished PID maps to None."""
    result = {}
    for pid in pids:
        fields = _stat_fields(pid)
        result[pid] = (int(fields[11]) + int(fields[12])) / _TICKS if fields else None
    return result


def cpu_by_group(groups):
    """`cpu_seconds` of each named group of PIDs: {name: {pid: seconds}}."""
    return {name: cpu_seconds(pids) for name, pids in groups.items()}


def cpu_spent(before, after):
    """CPU seconds per group between two `cpu_by_group` readings; processes born in between
    count whole. A process that vanished in between makes the sample unusable."""
    spent = {}
    for end, now in after.items():
        then = before.get(end, {})
        gone = sorted(pid for pid in set(then) | set(now) if now.get(pid) is None)
        if gone:
            raise MeasureError(f"{end} process(es) {gone} exited during the sample")
        spent[end] = sum(value - (then.get(pid) or 0.0) for pid, value in now.items())
    return spent


def load_average():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


# -- processes --------------------------------------------------------------------------------

class Proc:
    """A launched process whose stdout/stderr lines are collected by reader threads.

    `reap_tree`: descendants that leave the process group (sshd's per-connection children call
    setsid) are stopped too; they are recorded by PID and start time just before the stop.
    """

    def __init__(self, name, argv, reap_tree=False, env=None):
        self.name = name
        self.argv = argv
        self.reap_tree = reap_tree
        self.lines = []  # (stream, text)
        self.cond = threading.Condition()
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, errors="replace",
                                      start_new_session=True, env=env)  # own group
        self.readers = [threading.Thread(target=self._read, args=(stream, pipe), daemon=True)
                        for stream, pipe in (("out", self.popen.stdout),
                                             ("err", self.popen.stderr))]
        for reader in self.readers:
            reader.start()

    def _read(self, stream, pipe):
        for line in pipe:
            with self.cond:
                self.lines.append((stream, line.rstrip("\n")))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    @property
    def pid(self):
        return self.popen.pid

    def text(self, stream=None):
        with self.cond:
            return "\n".join(t for s, t in self.lines if stream is None or s == stream)

    def wait_line(self, pattern, timeout):
        """The first line matching `pattern`; raises if the process exits or time runs out."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for _, text in self.lines:
                    if regex.search(text):
                        return text
                if self.popen.poll() is not None:
                    raise MeasureError(f"{self.name} exited with {self.popen.returncode} before "
                                       f"'{pattern}': {self.text('err')[-500:]}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise MeasureError(f"{self.name}: no '{pattern}' line within {timeout} s; "
                                       f"its last output: {self.text()[-300:]}")
                self.cond.wait(min(left, 0.2))

    def stop(self, grace=5.0):
        """SIGTERM the process (its whole group), then SIGKILL after `grace` seconds."""
        strays = self._strays() if self.reap_tree else []
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.pid, signal.SIGKILL)  # leftovers (socat children) included
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:  # until the whole group is gone (reaped)
            try:
                os.killpg(self.pid, 0)
            except (ProcessLookupError, PermissionError):
                break
            time.sleep(0.05)
        stop_strays(strays, grace)
        for reader in self.readers:  # all output read once the pipes hit EOF
            reader.join(grace)
        return self.popen.returncode

    def _strays(self):
        strays = []
        for pid in proc_tree(self.pid)[1:]:
            try:
                if os.getpgid(pid) != self.pid:  # the group we started is led by self.pid
                    strays.append((pid, start_time(pid)))
            except ProcessLookupError:
                pass
        return strays


def stop_strays(strays, grace):
    """SIGTERM, then SIGKILL, each (pid, start time) that is still that same process."""
    def alive():
        return [(p, t) for p, t in strays if t is not None and start_time(p) == t]

    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid, _ in alive():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while alive() and time.monotonic() < deadline:
            time.sleep(0.05)


class Launcher:
    """Owns every process the driver starts; `stop_all` runs on exit, exceptions and signals."""

    def __init__(self):
        self.procs = []

    def start(self, name, argv, **kw):
        proc = Proc(name, argv, **kw)
        self.procs.append(proc)
        return proc

    def stop(self, proc):
        code = proc.stop()
        if proc in self.procs:
            self.procs.remove(proc)
        return code

    def stop_all(self):
        while self.procs:
            self.stop(self.procs[-1])


def run_driver(run, args):
    """Runs `run(args, launcher)` with every started process stopped on exit, exception and
    SIGINT/SIGTERM/SIGHUP; raises the open-files limit first (children inherit it)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    def on_signal(signo, _frame):
        raise KeyboardInterrupt(f"signal {signo}")

    for signo in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signo, on_signal)  # explicit: SIGINT may arrive ignored from a script
    launcher = Launcher()
    try:
        return run(args, launcher)
    except KeyboardInterrupt:
        log("interrupted: stopping every process started")
        return 130
    finally:
        launcher.stop_all()


def run_client(launcher, loadgen, argv, timeout):
    """Runs a loadgen client; returns (exit code, its JSON result or None, stderr tail)."""
    proc = launcher.start("loadgen " + argv[0], [loadgen] + argv + ["--json"])
    try:
        proc.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        launcher.stop(proc)
        raise MeasureError(f"loadgen {argv[0]} still running after {timeout} s")
    launcher.stop(proc)
    out = [line for line in proc.text("out").splitlines() if line.startswith("{")]
    return proc.popen.returncode, (json.loads(out[-1]) if out else None), proc.text("err")[-400:]


def loadgen_client(launcher, loadgen, argv, timeout):
    """Runs a loadgen client, returns its JSON result; raises MeasureError on failure."""
    code, result, err = run_client(launcher, loadgen, argv, timeout)
    if code != 0 or result is None:
        raise MeasureError(f"loadgen {argv[0]} exit {code}: {err}")
    return result


def start_loadgen_servers(launcher, loadgen):
    """A sink and an echo loadgen server on free ports; returns {"sink": port, "echo": port}."""
    servers = {}
    for mode in ("sink", "echo"):
        proc = launcher.start(f"loadgen {mode} server",
                              [loadgen, "server", "--listen", "127.0.0.1:0", "--mode", mode,
                               "--threads", "1"])
        line = proc.wait_line(r"^loadgen: listening on ", READY_TIMEOUT)
        servers[mode] = int(re.search(r":(\d+)\b", line.split(" on ", 1)[1]).group(1))
    log(f"servers: sink :{servers['sink']}, echo :{servers['echo']}")
    return servers


def build_options(build_dir):
    """buildtype, b_ndebug and b_sanitize of a meson build dir, or None if unreadable."""
    info_path = os.path.join(build_dir, "meson-info", "intro-buildoptions.json")
    try:
        with open(info_path) as f:
            options = {o["name"]: o["value"] for o in json.load(f)}
    except (OSError, ValueError):
        return None
    return {k: options.get(k) for k in ("buildtype", "b_ndebug", "b_sanitize")}


# -- ports ------------------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_connectable(port, timeout, proc=None):
    """Until 127.0.0.1:`port` accepts; fails early if `proc` (the listener's owner) exits."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.popen.poll() is not None:
            raise MeasureError(f"{proc.name} exited with {proc.popen.returncode}: "
                               f"{proc.text('err')[-400:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError as err:
            if time.monotonic() >= deadline:
                raise MeasureError(f"127.0.0.1:{port} not accepting after {timeout} s: {err}")
            time.sleep(0.05)


def wait_forwards(proc, ports, timeout):
    """Until every local forward port of `proc` accepts; fails early if `proc` exits."""
    deadline = time.monotonic() + timeout
    for port in ports:
        wait_connectable(port, max(0.1, deadline - time.monotonic()), proc)


# -- statistics and formatting ----------------------------------------------------------------

def spread(values):
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def median_of(summary, path, key):
    stats = summary.get(path, {}).get(key)
    return stats["median"] if stats else None


def fmt(stats, digits=1, unit=""):
    if not stats:
        return "—"
    m, lo, hi = stats["median"], stats["min"], stats["max"]
    return f"{m:.{digits}f}{unit} ({lo:.{digits}f}–{hi:.{digits}f})"


def ratio(a, b):
    return a / b if a is not None and b else None
