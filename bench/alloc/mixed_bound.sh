#!/usr/bin/env bash
# The reference Mixed loop (alloc_mixed, defaults) under mimalloc, isoalloc,
# bound_alloc (the cheapest malloc it can run on) and isoalloc linked in,
# interleaved, RUNS rounds; prints the medians and the per-round ratios to
# mimalloc (docs/BENCHMARKS.md, issue 18).
#   bench/alloc/mixed_bound.sh [BUILD] [RUNS]
set -euo pipefail
build=${1:-build}
runs=${2:-21}
mimalloc=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2
for f in "$mimalloc" "$build/lib/libisoalloc.so" "$build/lib/libbound_alloc.so" "$build/bin/alloc_mixed" \
  "$build/bin/alloc_mixed_isoalloc"; do
  [ -e "$f" ] || { echo "mixed_bound: $f is missing" >&2; exit 1; }
done
rate() { sed -n 's/.*Mops_s=//p'; }
samples=$(mktemp)
trap 'rm -f "$samples"' EXIT
for round in $(seq "$runs"); do
  echo "$round mimalloc $(LD_PRELOAD=$mimalloc "$build/bin/alloc_mixed" | rate)"
  echo "$round isoalloc $(LD_PRELOAD=$build/lib/libisoalloc.so "$build/bin/alloc_mixed" | rate)"
  echo "$round bound_alloc $(LD_PRELOAD=$build/lib/libbound_alloc.so "$build/bin/alloc_mixed" | rate)"
  echo "$round isoalloc_linked $("$build/bin/alloc_mixed_isoalloc" | rate)"
done >"$samples"
python3 - "$samples" <<'PY'
import statistics as st, sys
d = {}
for line in open(sys.argv[1]):
    r, name, v = line.split()
    d.setdefault(name, {})[r] = float(v)
mi = d["mimalloc"]
print(f"{'allocator':16s} {'median Mops/s':>14s} {'per-round ratio to mimalloc':>28s} {'quartiles':>12s}")
for name, v in d.items():
    ratios = [v[r] / mi[r] for r in v]
    q = st.quantiles(ratios, n=4)
    print(f"{name:16s} {st.median(v.values()):14.1f} {st.median(ratios):28.2f} {q[0]:6.2f}-{q[2]:.2f}")
PY
