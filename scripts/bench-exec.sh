#!/usr/bin/env bash
# make bench-exec: iso::parallel_for against TBB and OpenMP (exec_busy_work),
# interleaved process runs, medians and the floors of issue 4. Pass --quick for
# a smoke run, --rounds N for more rounds.
set -euo pipefail
build=${1:-build}
shift || true
exec /usr/bin/python3 bench/exec/run_exec_bench.py --build "$build" --markdown "$@"
