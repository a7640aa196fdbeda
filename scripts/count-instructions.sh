#!/usr/bin/env bash
# Instructions (cachegrind, deterministic) of each interpreter on the runner
# workloads: pyenv's python3.13, `isolate run` of the default build, the
# optimised 3.13 (make python OPTIMIZE=1) and `isolate run` built on it, and
# Debian's python3.11. Every process of `isolate run` (front and core) counts.
#   scripts/count-instructions.sh            # all of them; NAMES="a b" for some
set -euo pipefail
cd "$(dirname "$0")/.."
W=bench/python/workloads
declare -A RUN=(
  [pyenv-3.13.0]="$HOME/.pyenv/versions/3.13.0/bin/python3.13"
  [pyenv-3.13.0-isolate-run]="build/bin/isolate run"
  [opt-3.13-python]="build/cpython/3.13-opt/bin/python3.13"
  [opt-3.13-isolate-run]="build-3.13-opt-python3.13/bin/isolate run"
  [debian-3.11]="/usr/bin/python3.11"
)
for name in ${NAMES:-pyenv-3.13.0 pyenv-3.13.0-isolate-run opt-3.13-python opt-3.13-isolate-run debian-3.11}; do
  for args in "loop.py 1000000" "amortize.py 100000" "-c pass"; do
    a=$args
    [[ $a == *.py* ]] && a="$W/$args"
    # shellcheck disable=SC2086
    n=$(PYTHONHASHSEED=0 valgrind --tool=cachegrind --trace-children=yes --cache-sim=no \
      --cachegrind-out-file=/dev/null ${RUN[$name]} $a 2>&1 >/dev/null |
      sed -n 's/.*I *refs: *//p' | tr -d , | paste -sd+ | bc)
    echo "$name | $args | $n"
  done
done
