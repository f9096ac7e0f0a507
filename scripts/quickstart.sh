#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# quickstart.sh: installs dependencies, makes a release build, and runs the main job as it stands:
# a local service (an echo server), ringtunnel's relay in front of it, and real bytes pushed
# through the relay, with what flowed printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/bootstrap.sh
build=build-release
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" --buildtype=release -Db_ndebug=true -Dtests=false
fi
ninja -C "$build"

loadgen=$build/bench/tools/ringtunnel-loadgen
relay=$build/bench/ringtunnel-bench-relay
workdir=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$workdir"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (at most 10 s) for a line matching $2 in file $1 and prints it.
wait_for_line() {
  for _ in $(seq 100); do
    if grep -q "$2" "$1" 2>/dev/null; then grep -m1 "$2" "$1"; return 0; fi
    sleep 0.1
  done
  echo "quickstart: timed out waiting for '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}

echo
echo "== 1. a local service: an echo server on 127.0.0.1"
"$loadgen" server --listen 127.0.0.1:0 --mode echo >"$workdir/service.log" 2>&1 &
pids+=($!)
service_line=$(wait_for_line "$workdir/service.log" "listening on")
service_port=$(sed -E 's/.*listening on [^ ]*:([0-9]+).*/\1/' <<<"$service_line")
echo "   $service_line"

echo "== 2. ringtunnel's relay in front of it (one reactor per core)"
relay_port=$(free_port)
"$relay" --listen "127.0.0.1:$relay_port" --target "127.0.0.1:$service_port" >"$workdir/relay.log" 2>&1 &
relay_pid=$!
pids+=($relay_pid)
echo "   $(wait_for_line "$workdir/relay.log" "^relay:")"

echo "== 3. 200 concurrent connections, random payloads, every byte checked"
"$loadgen" verify --connect "127.0.0.1:$relay_port" --connections 200 --max-bytes 1048576 --timeout 60

echo "== 4. request/response latency through the relay (64-byte messages)"
"$loadgen" pingpong --connect "127.0.0.1:$relay_port" --count 20000 --size 64

echo "== 5. bulk throughput through the relay for 3 seconds"
"$loadgen" server --listen 127.0.0.1:0 --mode sink >"$workdir/sink.log" 2>&1 &
pids+=($!)
sink_line=$(wait_for_line "$workdir/sink.log" "listening on")
sink_port=$(sed -E 's/.*listening on [^ ]*:([0-9]+).*/\1/' <<<"$sink_line")
relay2_port=$(free_port)
"$relay" --listen "127.0.0.1:$relay2_port" --target "127.0.0.1:$sink_port" >"$workdir/relay2.log" 2>&1 &
relay2_pid=$!
pids+=($relay2_pid)
wait_for_line "$workdir/relay2.log" "^relay:" >/dev/null
"$loadgen" throughput --connect "127.0.0.1:$relay2_port" --seconds 3

echo "== 6. what flowed through the relays"
kill -TERM "$relay_pid" "$relay2_pid"
wait "$relay_pid" "$relay2_pid" || true
grep -h "connections," "$workdir/relay.log" "$workdir/relay2.log" | sed 's/^/   /'
echo
echo "quickstart: done. Next: ./scripts/test.sh runs every test; 'ninja -C $build bench' compares"
echo "the relay with direct TCP and socat (see docs/ and README.md)."
