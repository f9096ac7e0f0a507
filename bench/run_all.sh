#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run_all.sh BUILD_DIR BENCH...: what `ninja -C BUILD_DIR bench` runs. The micro benches first
# (console table + JSON), then the end-to-end relay comparison (run.py), the tunnel comparison
# against ssh -L and stunnel (tunnel.py), UDP / latency under load (mixed.py) and the HTTP
# ingress against direct nginx with wrk (ingress.py), each one markdown table + JSON, all
# results under BUILD_DIR/bench-results/. Pass
# RINGTUNNEL_BENCH_QUICK=1 for quick end-to-end runs. Every driver runs even if an earlier one
# fails; the exit status is non-zero if any did.
set -euo pipefail
build=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
out=$build/bench-results
mkdir -p "$out"

buildtype=$(/usr/bin/python3 - "$build" <<'PY'
import json, subprocess, sys
opts = json.loads(subprocess.check_output(["meson", "introspect", sys.argv[1], "--buildoptions"]))
print(next((o["value"] for o in opts if o["name"] == "buildtype"), "unknown"))
PY
)
if [[ $buildtype != release ]]; then
  echo "NOTE: this is a '$buildtype' build; quote numbers only from --buildtype=release -Db_ndebug=true."
fi

echo "== micro benchmarks (Google Benchmark)"
for bench in "$@"; do
  name=$(basename "$bench")
  "$bench" --benchmark_out="$out/$name.json" --benchmark_out_format=json
done

quick=()
[[ ${RINGTUNNEL_BENCH_QUICK:-0} == 1 ]] && quick=(--quick)
status=0

echo
echo "== end-to-end: relay vs direct TCP vs socat (interleaved, same run)"
/usr/bin/python3 "$here/e2e/run.py" --build-dir "$build" --out "$out" "${quick[@]}" || status=$?

echo
echo "== end-to-end: ringtunnel (native, TLS) vs ssh -L vs stunnel vs direct TCP (interleaved)"
/usr/bin/python3 "$here/e2e/tunnel.py" --build-dir "$build" --out "$out" "${quick[@]}" || status=$?

echo
echo "== end-to-end: UDP, and latency beside a bulk stream: ringtunnel vs direct (same run)"
/usr/bin/python3 "$here/e2e/mixed.py" --build-dir "$build" --out "$out" "${quick[@]}" || status=$?

echo
echo "== end-to-end: HTTP ingress vs direct (wrk)"
/usr/bin/python3 "$here/e2e/ingress.py" --build-dir "$build" --out "$out" "${quick[@]}" || status=$?
exit "$status"
