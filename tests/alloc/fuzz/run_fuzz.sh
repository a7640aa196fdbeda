#!/usr/bin/env bash
# Builds fuzz_alloc with clang++ (libFuzzer + ASan + UBSan) in BUILD_DIR and
# runs it for SECONDS (default 45; ISO_FUZZ_SECONDS overrides), keeping its
# corpus in BUILD_DIR/corpus so later runs start where earlier ones stopped.
# A crash leaves the input in BUILD_DIR/artifacts and fails the run.
set -euo pipefail
build=${1:?usage: run_fuzz.sh BUILD_DIR [SECONDS]}
seconds=${ISO_FUZZ_SECONDS:-${2:-45}}
src=$(cd "$(dirname "$0")" && pwd)

if ! command -v clang++ >/dev/null; then
  echo "run_fuzz.sh: clang++ not found (scripts/install-deps.sh installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi
cmake -S "$src" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
mkdir -p "$build/corpus" "$build/artifacts"
# One worker: the test shares the machine with the rest of the suite.
"$build/fuzz_alloc" -max_total_time="$seconds" -max_len=4096 -timeout=20 -rss_limit_mb=4096 \
  -print_final_stats=1 -artifact_prefix="$build/artifacts/" "$build/corpus" 2>"$build/fuzz.log" || {
  tail -40 "$build/fuzz.log" >&2
  exit 1
}
grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$build/fuzz.log"
echo "PASS fuzz_alloc ran ${seconds}s without a failure"
