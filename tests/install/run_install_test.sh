#!/usr/bin/env bash
# `cmake --install` into a fresh prefix, then build and run a downstream
# project against it with find_package(isolate CONFIG COMPONENTS ...), once
# per component: each must work alone, and only isolate::python may bring
# libpython into a program.
set -euo pipefail
build=$1
with_cuda=${2:-OFF}  # whether isolate was built with CUDA (ISO_HAVE_CUDA)
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
  printf 'install test: %s\n' "$*" >&2
  exit 1
}

cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -x "$work/prefix/bin/isolate" || fail "no bin/isolate"
test -x "$work/prefix/libexec/isolate/isolate-core" || fail "no libexec/isolate/isolate-core"
for header in python.h pool.h exec.h alloc.h conc/spsc_ring.h conc/sharded_lru.h version.h; do
  test -f "$work/prefix/include/isolate/$header" || fail "no include/isolate/$header"
done
for private in serve.h conc/buffer_pool.h conc/log.h; do
  test ! -e "$work/prefix/include/isolate/$private" || fail "include/isolate/$private is not public"
done
for library in libisolate.a libisolate_exec.a libisoalloc.a libisoalloc.so; do
  test -f "$work/prefix/lib/$library" || fail "no lib/$library"
done
"$work/prefix/bin/isolate" info --json | grep -q '"libpython_static":true' || fail "isolate info"

consumer() {  # COMPONENT: configures and builds the consumer for it
  cmake -S "$src/consumer" -B "$work/$1" -DCOMPONENT="$1" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
  cmake --build "$work/$1" >/dev/null
}
expect() {  # WHAT EXPECTED ACTUAL
  [ "$3" = "$2" ] || fail "$1 printed '$3', expected '$2'"
}

# The executor alone: no libpython in the program, and a position-independent
# executable (isolate::python's -no-pie must not reach it).
consumer exec
expect "exec consumer" 333328333350000 "$("$work/exec/consumer")"
if nm "$work/exec/consumer" | grep -q ' Py_Initialize'; then fail "the exec consumer links libpython"; fi
readelf -h "$work/exec/consumer" | grep -q 'Type: *DYN' || fail "the exec consumer is not a PIE"

# isoalloc, static (the iso_* API) and shared (malloc itself).
consumer alloc
expect "alloc consumer" "isoalloc 32" "$("$work/alloc/consumer")"
expect "malloc consumer" 32 "$("$work/alloc/consumer_malloc")"
if nm "$work/alloc/consumer" | grep -q ' Py_Initialize'; then fail "the alloc consumer links libpython"; fi

# CPython embedded, through isolate::python and the old isolate::isolate.
consumer python
expected="embeds $("$work/prefix/bin/isolate" run -c 'import platform; print(platform.python_version())')
{\"sum\": 3} ['-c']"
for program in consumer consumer_legacy; do
  out=$("$work/python/$program" -c 'import json, sys; print(json.dumps({"sum": 1 + 2}), sys.argv)')
  expect "python $program" "$expected" "$out"
done

# A component that was not built, or does not exist, is refused by find_package.
refused() {  # COMPONENT
  mkdir -p "$work/refused-$1"
  printf 'cmake_minimum_required(VERSION 3.25)\nproject(u LANGUAGES CXX)\nfind_package(isolate CONFIG REQUIRED COMPONENTS %s)\n' \
    "$1" >"$work/refused-$1/CMakeLists.txt"
  if cmake -S "$work/refused-$1" -B "$work/refused-$1/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null 2>&1; then
    fail "find_package(isolate COMPONENTS $1) succeeded"
  fi
}
refused nosuch
components="exec, alloc, alloc_shared, python"

# iso::hybrid_map: compiled by nvcc and by g++. Without a device both run on
# the CPU, which is all this machine can check.
if [ "$with_cuda" = ON ]; then
  test -f "$work/prefix/include/isolate/gpu.h" || fail "no include/isolate/gpu.h"
  consumer gpu
  expect "gpu consumer" "saxpy 1048576 items, 0 wrong" "$("$work/gpu/consumer")"
  expect "gpu consumer, g++" 333328333350000 "$("$work/gpu/consumer_host")"
  components="$components, gpu"
else
  test ! -e "$work/prefix/include/isolate/gpu.h" || fail "include/isolate/gpu.h without isolate::gpu"
  refused gpu
fi
echo "PASS install + find_package(isolate) per component: $components"
