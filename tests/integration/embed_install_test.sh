#!/bin/bash
# SPDX-License-Identifier: MIT
# The embedding API as an outsider gets it: `meson install` into a temp prefix, then a program
# compiled against the installed headers and libringtunnel.so through pkg-config, run.
# Also checks that the public headers pull in no liburing, OpenSSL, spdlog, fmt, yaml-cpp,
# nlohmann or CLI11 header, and no header from the source tree.
# Usage: embed_install_test.sh BUILD_DIR PROGRAM.cpp CXX [SANITIZE]
set -euo pipefail
build=$1 program=$2 cxx=$3 sanitize=${4:-none}
work=$(mktemp -d /tmp/rt-embed-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

meson install -C "$build" --no-rebuild --destdir "$work/root" > "$work/install.log" 2>&1 ||
  { cat "$work/install.log"; fail "meson install failed"; }
pc=$(find "$work/root" -name ringtunnel.pc | head -n 1)
[[ -n $pc ]] || fail "meson install wrote no ringtunnel.pc"
export PKG_CONFIG_PATH=${pc%/*}
# The .pc file names the real prefix (/usr/local); point it into the temp root instead.
prefix=$work/root$(pkg-config --variable=prefix ringtunnel)
pc_args=(--define-variable=prefix="$prefix")
cflags=$(pkg-config "${pc_args[@]}" --cflags ringtunnel)
libs=$(pkg-config "${pc_args[@]}" --libs ringtunnel)
libdir=$(pkg-config "${pc_args[@]}" --variable=libdir ringtunnel)
[[ $cflags == *"$work"* && $libdir == "$work"* ]] ||
  fail "pkg-config does not point into the install prefix: $cflags / $libdir"
echo "pkg-config: $cflags $libs"

# Every header the public ones include, as the compiler opens them (-H).
probe='#include <ringtunnel/client.hpp>\n#include <ringtunnel/server.hpp>\n'
printf "$probe" | "$cxx" -std=c++20 $cflags -fsyntax-only -x c++ - ||
  fail "the installed public headers do not compile on their own"
opened=$(printf "$probe" | "$cxx" -std=c++20 $cflags -H -fsyntax-only -x c++ - 2>&1 >/dev/null |
  grep '^\.' || true)
leaks=$(grep -E 'liburing|openssl|spdlog|/fmt/|yaml-cpp|nlohmann|/CLI/' <<<"$opened" || true)
[[ -z $leaks ]] || fail "public headers include private dependencies:"$'\n'"$leaks"
outside=$(grep ringtunnel <<<"$opened" | grep -v "$work" || true)
[[ -z $outside ]] || fail "public headers come from outside the install prefix:"$'\n'"$outside"
count=$(grep -c "$work.*ringtunnel/" <<<"$opened" || true)
(( count >= 5 )) || fail "expected the installed ringtunnel headers to be opened, saw $count"
echo "public headers: $count ringtunnel headers from the prefix, no private dependency"

san=()
[[ $sanitize == none ]] || san=(-fsanitize="$sanitize")
"$cxx" -std=c++20 -O1 -g "${san[@]}" $cflags "$program" -o "$work/embed" $libs \
  -Wl,-rpath,"$libdir" -pthread || fail "the program does not build against the install"
"$work/embed" || fail "the embedded server and client did not pass"
echo "1 passed, 0 failed"
