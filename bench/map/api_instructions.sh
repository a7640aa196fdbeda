#!/usr/bin/env bash
# Instructions (cachegrind, deterministic) per call of isolate.map against
# the plain loop, on the api_bench cases that fit under valgrind: each way
# runs REPS+1 times in one `isolate run` process, and the count of a 1-call
# process is subtracted, so start-up, the first call (which measures, and
# starts the warm pool in the background) and exit cancel out.
#   bench/map/api_instructions.sh [REPS]      # default 5
set -euo pipefail
cd "$(dirname "$0")/../.."
REPS=${1:-5}
count() {  # $1: calls, $2: way, $3: case
  PYTHONHASHSEED=0 valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
    build/bin/isolate run -c "
import sys; sys.path.insert(0, 'bench/map')
import isolate, work
fn, n = {'tiny': (work.tiny, 100_000), 'medium': (work.medium, 4_000)}['$3']
args = list(range(n))
for _ in range($1):
    if '$2' == 'loop':
        [fn(a) for a in args]
    else:
        isolate.map(fn, args, max_workers=${WORKERS:-2})
" 2>&1 >/dev/null | sed -n 's/.*I *refs: *//p' | tr -d , | paste -sd+ | bc
}
echo "| case | way | instructions per call |"
echo "|---|---|---:|"
for case in tiny medium; do
  for way in loop map; do
    one=$(count 1 "$way" "$case")
    many=$(count $((REPS + 1)) "$way" "$case")
    echo "| $case | $way | $(( (many - one) / REPS )) |"
  done
done
