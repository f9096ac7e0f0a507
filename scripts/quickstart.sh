#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# quickstart.sh: installs dependencies, makes a release build, and runs the main job: a local
# service (a TCP and a UDP echo server), `ringtunnel server` and `ringtunnel client -L` and `-R` on
# loopback carrying connections and datagrams to it through an encrypted session, real bytes
# through the tunnel (every byte checked), and what flowed printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/bootstrap.sh
build=build-release
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" --buildtype=release -Db_ndebug=true -Dtests=false
fi
ninja -C "$build"

ringtunnel=$build/src/cli/ringtunnel
loadgen=$build/bench/tools/ringtunnel-loadgen
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

# Waits (at most 15 s) for a line matching $2 in file $1 and prints it.
wait_for_line() {
  for _ in $(seq 150); do
    if grep -q "$2" "$1" 2>/dev/null; then grep -m1 "$2" "$1"; return 0; fi
    sleep 0.1
  done
  echo "quickstart: timed out waiting for '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}

show() { sed -E 's/^[0-9-]+ [0-9:.]+ //; s/^/   /'; }

echo
echo "== 1. a local service: an echo server on 127.0.0.1 (a sink for bulk data, a UDP echo)"
"$loadgen" server --listen 127.0.0.1:0 --mode echo >"$workdir/echo.log" 2>&1 &
pids+=($!)
echo_port=$(wait_for_line "$workdir/echo.log" "listening on" | sed -E 's/.*listening on [^ ]*:([0-9]+).*/\1/')
"$loadgen" server --listen 127.0.0.1:0 --mode sink >"$workdir/sink.log" 2>&1 &
pids+=($!)
sink_port=$(wait_for_line "$workdir/sink.log" "listening on" | sed -E 's/.*listening on [^ ]*:([0-9]+).*/\1/')
"$loadgen" udp-echo --listen 127.0.0.1:0 >"$workdir/udp_echo.log" 2>&1 &
pids+=($!)
udp_port=$(wait_for_line "$workdir/udp_echo.log" "udp echo on" | sed -E 's/.*udp echo on [^ ]*:([0-9]+).*/\1/')
echo "   echo on 127.0.0.1:$echo_port, sink on 127.0.0.1:$sink_port, UDP echo on 127.0.0.1:$udp_port"

echo "== 2. ringtunnel server (zero config: it makes its key and an enrolment token)"
server_port=$(free_port)
"$ringtunnel" server --bind 127.0.0.1 --port "$server_port" --data-dir "$workdir/server" \
  --expose-bind 127.0.0.1 >"$workdir/server.log" 2>&1 &
server_pid=$!
pids+=($server_pid)
wait_for_line "$workdir/server.log" "server ready" >/dev/null
grep -E "server identity|server ready|ringtunnel client --ip" "$workdir/server.log" | show
token=$(cat "$workdir/server/server_token")

echo "== 3. ringtunnel client -L and -R (enrols with the token, pins the server's identity)"
echo_local=$(free_port)
echo_public=$(free_port)
sink_local=$(free_port)
udp_local=$(free_port)
RINGTUNNEL_TOKEN=$token "$ringtunnel" client --ip 127.0.0.1 --port "$server_port" \
  --data-dir "$workdir/client" --accept-new-host \
  -L "127.0.0.1:$echo_local:localhost:$echo_port" -L "127.0.0.1:$sink_local:localhost:$sink_port" \
  -L "127.0.0.1:$udp_local:localhost:$udp_port:udp" -R "$echo_public:localhost:$echo_port" \
  >"$workdir/client.log" 2>&1 &
client_pid=$!
pids+=($client_pid)
wait_for_line "$workdir/client.log" "client ready" >/dev/null
grep -E "pinned|tunnel .*listening|expose .*listens|client ready" "$workdir/client.log" | show

echo "== 4. 200 concurrent connections through the tunnel, random payloads, every byte checked"
"$loadgen" verify --connect "127.0.0.1:$echo_local" --connections 200 --max-bytes 1048576 --timeout 60

echo "== 5. request/response latency through the tunnel (64-byte messages)"
"$loadgen" pingpong --connect "127.0.0.1:$echo_local" --count 20000 --size 64

echo "== 6. bulk throughput through the tunnel for 3 seconds"
"$loadgen" throughput --connect "127.0.0.1:$sink_local" --seconds 3

echo "== 7. UDP through the tunnel: 5,000 datagram round trips of 512 bytes (boundaries kept)"
"$loadgen" udp-pingpong --connect "127.0.0.1:$udp_local" --count 5000 --size 512

echo "== 8. the other direction (-R): 50 visitors on the server's port $echo_public reach the"
echo "   client's echo service, as a service behind NAT would be reached"
"$loadgen" verify --connect "127.0.0.1:$echo_public" --connections 50 --max-bytes 262144 --timeout 60

echo "== 9. what flowed (client stopped, then server, both with SIGTERM)"
kill -TERM "$client_pid"
wait "$client_pid" || true
kill -TERM "$server_pid"
wait "$server_pid" || true
grep -E "client stopped" "$workdir/client.log" | show
grep -E "disconnected|server stopped" "$workdir/server.log" | show
echo
echo "quickstart: done. Next: ./scripts/test.sh runs every test; 'ninja -C $build bench' compares"
echo "the tunnel with direct TCP and ssh -L (see docs/ and README.md)."
