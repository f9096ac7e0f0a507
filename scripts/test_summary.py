#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Counts individual test cases from meson's testlog.json files (one per build) and prints
'N passed, N failed[, N skipped]' over all of them.

Catch2 binaries report their own case counts; any other test (a script) counts as one case.
Exit status 1 when anything failed."""
import json
import re
import sys

CATCH_ALL = re.compile(r"All tests passed \(\d+ assertions? in (\d+) test cases?\)")
CATCH_SOME = re.compile(r"test cases:\s+(\d+)\s+\|\s+(\d+) passed\s+\|\s+(\d+) failed")
PLAIN = re.compile(r"^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$", re.M)


def count(entry):
    out = entry.get("stdout", "") or ""
    result = entry.get("result", "")
    if result == "SKIP":
        return 0, 0, 1
    m = CATCH_ALL.search(out)
    if m and result == "OK":
        return int(m.group(1)), 0, 0
    m = CATCH_SOME.search(out)
    if m:
        total, passed, failed = map(int, m.groups())
        return passed, max(failed, total - passed), 0
    m = PLAIN.findall(out)
    if m:
        p, f, s = m[-1]
        return int(p), int(f), int(s or 0)
    # A crash, timeout or a plain script: one case.
    return (1, 0, 0) if result == "OK" else (0, 1, 0)


def main(paths):
    passed = failed = skipped = 0
    entries = []
    for path in paths:
        try:
            with open(path) as f:
                entries += [json.loads(line) for line in f if line.strip()]
        except OSError as e:
            print(f"cannot read {path}: {e}", file=sys.stderr)
            failed += 1
    for entry in entries:
        p, f, s = count(entry)
        if entry.get("result") not in ("OK", "SKIP") and f == 0:
            f = 1  # the binary failed (crash, sanitizer report, timeout) after its cases passed
        passed, failed, skipped = passed + p, failed + f, skipped + s
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
