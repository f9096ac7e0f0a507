#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bootstrap.sh: installs every build, test and benchmark dependency of ringtunnel from Debian.
# Idempotent: packages already present are left alone and apt is not touched at all.
set -euo pipefail

packages=(
  # build
  build-essential meson ninja-build pkg-config
  # libraries (all found by meson's dependency())
  liburing-dev libssl-dev libwolfssl-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev libcli11-dev catch2 libbenchmark-dev
  # the HTTP ingress's request parser (nodejs/http-parser 2.9; no .pc file: meson falls back to
  # find_library)
  libhttp-parser-dev
  # sanitizer and fuzzing toolchain
  clang-14 libclang-rt-14-dev
  # tests and benchmarks: baselines and helpers (stunnel4: the TLS 1.3 baseline of tunnel.py)
  socat stunnel4 procps iproute2 python3
  # the HTTP ingress's tests and benchmark: curl and a WebSocket client/server library in front
  # of and behind the tunnel, wrk for requests/s, nginx as the service behind the client
  curl python3-websockets wrk nginx-light
  # the ssh -L baseline of the tunnel benchmarks (a private sshd on 127.0.0.1, never the system one)
  openssh-client openssh-server
)

if [[ ! -r /etc/debian_version ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "bootstrap.sh: this script supports Debian and Ubuntu (apt-get) only." >&2
  echo "Install these packages (or your distribution's equivalents) by hand: ${packages[*]}" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "bootstrap.sh: all ${#packages[@]} dependencies are installed."
  exit 0
fi

sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null 2>&1 || { echo "bootstrap.sh: not root and no sudo; install as root: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi

echo "bootstrap.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# Debian starts a package's daemon on install (sshd on :22, nginx on :80). We only need their
# binaries: a policy-rc.d that refuses every start keeps the machine as it was.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  own_policy=1
fi
status=0
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" || status=$?
((own_policy)) && "${sudo[@]}" rm -f "$policy"
((status == 0)) || exit "$status"
echo "bootstrap.sh: done."
