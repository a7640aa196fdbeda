#!/usr/bin/env bash
# make demo: what isolate embeds, then the example job run by python3 and by
# `isolate run`, checked byte for byte, then interleaved start-up timings.
set -euo pipefail
build=${1:-build}
isolate="$build/bin/isolate"
python=$("$isolate" run -I -c 'import sys; print(sys.executable)')  # the build's real python3.x

echo "== isolate info"
"$isolate" info
echo

echo "== examples/report.py through $python and through isolate run"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
set +e
"$python" examples/report.py >"$tmp/py.out" 2>"$tmp/py.err"; py_rc=$?
"$isolate" run examples/report.py >"$tmp/iso.out" 2>"$tmp/iso.err"; iso_rc=$?
set -e
cat "$tmp/iso.out" "$tmp/iso.err"
if cmp -s "$tmp/py.out" "$tmp/iso.out" && cmp -s "$tmp/py.err" "$tmp/iso.err" && [ "$py_rc" -eq "$iso_rc" ]; then
  echo "-> identical stdout, stderr and exit status ($iso_rc)"
else
  echo "-> MISMATCH between python3 and isolate run" >&2
  diff "$tmp/py.out" "$tmp/iso.out" >&2 || true
  diff "$tmp/py.err" "$tmp/iso.err" >&2 || true
  exit 1
fi
echo

echo "== start-up, 21 interleaved runs of each (median)"
"$python" - "$python" "$isolate" <<'PY'
import statistics, subprocess, sys, time
python, isolate = sys.argv[1], sys.argv[2]
commands = {"python3": [python, "examples/report.py"], "isolate run": [isolate, "run", "examples/report.py"]}
times = {name: [] for name in commands}
for _ in range(21):
    for name, cmd in commands.items():
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times[name].append((time.perf_counter() - t) * 1e3)
med = {name: statistics.median(v) for name, v in times.items()}
for name, m in med.items():
    print(f"{name:<12} {m:7.2f} ms")
print(f"isolate/python3 = {med['isolate run'] / med['python3']:.3f} (wall, this machine, now; see docs/BENCHMARKS.md)")
PY
