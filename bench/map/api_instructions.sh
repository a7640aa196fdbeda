#!/usr/bin/env bash
# Instructions (cachegrind, deterministic) per call of isolate.map against
# the plain loop, on the api_bench cases that fit under valgrind; "cross" is
# isolate.map with chunksize=4096, where every call crosses to a worker and
# back (caller and worker counted): its excess over the loop is the crossing's
# instructions, pickling and the hand-over, per item. Each way
# runs REPS+1 times in one `isolate run` process, and the count of a 1-call
# process is subtracted, so start-up, the first call (which measures, and
# starts the warm pool in the background) and exit cancel out.
#   bench/map/api_instructions.sh [REPS]      # default 5
set -euo pipefail
cd "$(dirname "$0")/../.."
REPS=${1:-5}
count() {  # $1: calls, $2: way, $3: case
  PYTHONHASHSEED=0 valgrind --tool=cachegrind --trace-children=yes --cache-sim=no --cachegrind-out-file=/dev/null \
    build/bin/isolate run -c "
import sys; sys.path.insert(0, 'bench/map')
import isolate, work
fn, n = {'tiny': (work.tiny, 100_000), 'medium': (work.medium, 4_000)}['$3']
args = list(range(n))
for _ in range($1):
    if '$2' == 'loop':
        [fn(a) for a in args]
    elif '$2' == 'cross':
        isolate.map(fn, args, max_workers=1, chunksize=4096)
    else:
        isolate.map(fn, args, max_workers=${WORKERS:-2})
" 2>&1 >/dev/null | sed -n 's/.*I *refs: *//p' | tr -d , | paste -sd+ | bc
}
echo "| case | way | instructions per map | per item | vs the loop |"
echo "|---|---|---:|---:|---:|"
for case in tiny medium; do
  items=$([ $case = tiny ] && echo 100000 || echo 4000)
  loop=0
  for way in loop map cross; do
    one=$(count 1 "$way" "$case")
    many=$(count $((REPS + 1)) "$way" "$case")
    per=$(( (many - one) / REPS ))
    [ $way = loop ] && loop=$per
    echo "| $case | $way | $per | $(( per / items )) | $(echo "scale=3; $per / $loop" | bc) |"
  done
done
