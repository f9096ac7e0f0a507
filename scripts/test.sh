#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test.sh: installs dependencies, builds with AddressSanitizer + UBSan on OpenSSL and on wolfSSL,
# runs every test (on wolfSSL, the suites that differ by backend), and ends with one line
# "N passed, N failed[, N skipped]" (counting individual test cases of both builds).
set -uo pipefail
cd "$(dirname "$0")/.."

./scripts/bootstrap.sh || { echo "0 passed, 1 failed"; exit 1; }

build=${RINGTUNNEL_TEST_BUILD:-build-asan}
# -O1 -g1 (line tables only): what sanitizer builds are usually run at; it halves the compile
# time of the CLI11-heavy files against -O2 -g (measured: main.cpp 61 s -> 21 s under ASan) and
# keeps file:line in every report. The micro benches are not tests: not built here.
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" --buildtype=plain -Doptimization=1 -Db_ndebug=false -Dcpp_args=-g1 \
    -Dcpp_link_args=-g1 -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false \
    || { echo "0 passed, 1 failed"; exit 1; }
fi
# Two cores here: build with both, then run the tests one binary at a time (they start servers).
if ! ninja -C "$build"; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# The wolfSSL build (-Dcrypto=wolfssl), same sanitizers: only what its tests need is built (the
# binary, the load generator and the unit tests of the code that touches the library), and
# only the suites that differ between backends run on it: crypto, protocol and tunnel, the TLS
# cases and a few end-to-end ones. The OpenSSL build's cross_backend cases then run each end
# against the other build's binary.
wolf=${RINGTUNNEL_TEST_WOLFSSL_BUILD:-$build-wolfssl}
wolf_targets=(src/cli/ringtunnel bench/tools/ringtunnel-loadgen tests/unit_crypto
  tests/unit_protocol tests/unit_tunnel)
wolf_tests=(crypto protocol tunnel tls_pinned tls_s_client tls_ca_chain tls_mtls tls_tampered
  tls_insecure tunnel_streams_100 tunnel_mitm_flip tunnel_server_key_changed udp_echo_10000
  resilience_server_killed)
if [[ ! -f $wolf/build.ninja ]]; then
  meson setup "$wolf" -Dcrypto=wolfssl --buildtype=plain -Doptimization=1 -Db_ndebug=false \
    -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false \
    || { echo "0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$wolf" "${wolf_targets[@]}"; then
  echo "wolfSSL build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
export RINGTUNNEL_PEER_BINARY=$PWD/$wolf/src/cli/ringtunnel

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
meson test -C "$build" --print-errorlogs --num-processes 1 --timeout-multiplier 2
status=$?
echo
echo "== the wolfSSL build: ${wolf_tests[*]}"
RINGTUNNEL_PEER_BINARY=$PWD/$build/src/cli/ringtunnel meson test -C "$wolf" --no-rebuild \
  --print-errorlogs --num-processes 1 --timeout-multiplier 2 "${wolf_tests[@]}"
wolf_status=$?

summary=$(/usr/bin/python3 scripts/test_summary.py "$build/meson-logs/testlog.json" \
  "$wolf/meson-logs/testlog.json")
summary_status=$?
echo
echo "$summary"
if ((status != 0 || wolf_status != 0 || summary_status != 0)); then exit 1; fi
exit 0
