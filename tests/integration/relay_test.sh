#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration: 1,000 concurrent connections with random payloads through the bench relay on
# 127.0.0.1, every byte checked by hash; then a graceful stop that must exit 0 (under ASan that
# also proves no coroutine frame or buffer leaked).
# Usage: relay_test.sh RELAY LOADGEN BACKEND
set -uo pipefail
relay=$1 loadgen=$2 backend=$3
workdir=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$workdir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$workdir"/*.log; do echo "--- $f"; cat "$f"; done; exit 1; }

wait_for_line() {  # file pattern [pid]: at most 20 s, or until that process has exited
  for _ in $(seq 200); do
    grep -q "$2" "$1" 2>/dev/null && { grep -m1 "$2" "$1"; return 0; }
    [[ -n ${3:-} ]] && ! kill -0 "$3" 2>/dev/null && return 1
    sleep 0.1
  done
  return 1
}

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

"$loadgen" server --listen 127.0.0.1:0 --mode echo >"$workdir/echo.log" 2>&1 &
pids+=($!)
line=$(wait_for_line "$workdir/echo.log" "listening on") || fail "echo server did not start"
echo_port=$(sed -E 's/.*listening on [^ ]*:([0-9]+).*/\1/' <<<"$line")

relay_port=$(free_port)
"$relay" --listen "127.0.0.1:$relay_port" --target "127.0.0.1:$echo_port" --threads 2 \
  --io-backend "$backend" >"$workdir/relay.log" 2>&1 &
relay_pid=$!
pids+=($relay_pid)
if ! wait_for_line "$workdir/relay.log" "^relay:" "$relay_pid" >/dev/null; then
  if grep -q "io_uring was requested but is unavailable" "$workdir/relay.log"; then
    echo "SKIP: $(cat "$workdir/relay.log")"
    exit 77
  fi
  fail "relay did not start"
fi
grep -q "backend: $backend" "$workdir/relay.log" || fail "relay is not running the $backend backend"

"$loadgen" verify --connect "127.0.0.1:$relay_port" --connections 1000 --min-bytes 1 \
  --max-bytes 262144 --seed "$RANDOM" --timeout 120 >"$workdir/verify.log" 2>&1 \
  || fail "verify through the relay failed"
grep -q "1000/1000 connections ok" "$workdir/verify.log" || fail "not every connection verified"
cat "$workdir/verify.log"

kill -TERM "$relay_pid"
for _ in $(seq 300); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$relay_pid" 2>/dev/null && fail "relay did not stop within 30 s of SIGTERM"
wait "$relay_pid"
rc=$?
((rc == 0)) || fail "relay exited with status $rc"
grep -q "relay: 1000 connections" "$workdir/relay.log" || fail "relay did not count 1000 connections"
grep "connections," "$workdir/relay.log"
echo "relay over $backend: ok"
