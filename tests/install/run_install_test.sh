#!/usr/bin/env bash
# `cmake --install` into a fresh prefix, then build and run a downstream project
# against it with find_package(isolate CONFIG).
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -x "$work/prefix/bin/isolate"
test -f "$work/prefix/include/isolate/python.h"
test -f "$work/prefix/lib/libisolate.a"
"$work/prefix/bin/isolate" info --json | grep -q '"libpython_static":true'

cmake -S "$src/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
out=$("$work/consumer/consumer" -c 'import json, sys; print(json.dumps({"sum": 1 + 2}), sys.argv)')
expected="embeds $("$work/prefix/bin/isolate" run -c 'import platform; print(platform.python_version())')
{\"sum\": 3} ['-c']"
if [ "$out" != "$expected" ]; then
  printf 'consumer printed:\n%s\nexpected:\n%s\n' "$out" "$expected" >&2
  exit 1
fi
echo "PASS install + find_package(isolate) consumer"
