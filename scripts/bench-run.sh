#!/usr/bin/env bash
# make bench-run: isolate run against the python3 of the same build, in one run,
# interleaved: wall-time medians and ratios, cachegrind instruction counts, then
# the Google Benchmark start-up program. Pass --quick for a smoke run.
set -euo pipefail
build=${1:-build}
shift || true
isolate="$build/bin/isolate"
python=$("$isolate" run -I -c 'import sys; print(sys.executable)')  # the build's real python3.x

"$python" bench/python/run_vs_python.py --runner "$isolate run" --python "$python" --cachegrind --markdown "$@"
echo
"$build/bin/bench_python_startup"
