#!/usr/bin/env bash
# make demo: what isolate embeds; the example job run by python3 and by
# `isolate run`, checked byte for byte; examples/primes.py through
# `isolate map` and through the Python API, checked against a plain loop;
# the job again through `isolate call` (the warm server); then interleaved
# start-up timings.
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

echo "== isolate map examples/primes.py:count_primes over 24 inputs, against python3 one by one"
"$python" - "$python" "$isolate" "$tmp" <<'PY'
import subprocess, sys, time
python, isolate, tmp = sys.argv[1:]
limits = "".join(f"{20000 + 500 * i}\n" for i in range(24)).encode()
loop = ("import json, sys; sys.path.insert(0, 'examples'); from primes import count_primes\n"
        "for line in sys.stdin: print(json.dumps(count_primes(json.loads(line))))")
t0 = time.perf_counter()
seq = subprocess.run([python, "-c", loop], input=limits, capture_output=True, check=True).stdout
t1 = time.perf_counter()
par = subprocess.run([isolate, "map", "examples/primes.py:count_primes"], input=limits, capture_output=True)
t2 = time.perf_counter()
sys.stderr.write(par.stderr.decode())
if par.returncode != 0 or par.stdout != seq:
    sys.exit("-> MISMATCH between python3 and isolate map")
print(f"-> identical results; python3 {t1 - t0:.2f} s, isolate map {t2 - t1:.2f} s ({(t1 - t0) / (t2 - t1):.2f}x)")
PY
echo

echo "== the Python API: isolate run examples/primes.py"
"$isolate" run examples/primes.py
echo

echo "== examples/report.py through isolate call (a warm server, started on first use)"
export XDG_RUNTIME_DIR="$tmp/runtime"
mkdir -m 700 "$XDG_RUNTIME_DIR"
trap '"$isolate" serve --stop >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
set +e
ISO_CALL_REQUIRE_WARM=1 "$isolate" call examples/report.py >"$tmp/call.out" 2>"$tmp/call.err"; call_rc=$?
set -e
if cmp -s "$tmp/py.out" "$tmp/call.out" && cmp -s "$tmp/py.err" "$tmp/call.err" && [ "$py_rc" -eq "$call_rc" ]; then
  echo "-> identical stdout, stderr and exit status ($call_rc)"
else
  echo "-> MISMATCH between python3 and isolate call" >&2
  cat "$tmp/call.err" >&2
  exit 1
fi
"$isolate" serve --status
echo

echo "== start-up, 21 interleaved runs of each (median)"
"$python" - "$python" "$isolate" <<'PY'
import statistics, subprocess, sys, time
python, isolate = sys.argv[1], sys.argv[2]
commands = {"python3": [python, "examples/report.py"], "isolate run": [isolate, "run", "examples/report.py"],
            "isolate call": [isolate, "call", "examples/report.py"]}
times = {name: [] for name in commands}
for _ in range(21):
    for name, cmd in commands.items():
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times[name].append((time.perf_counter() - t) * 1e3)
med = {name: statistics.median(v) for name, v in times.items()}
for name, m in med.items():
    print(f"{name:<12} {m:7.2f} ms")
print(f"isolate run/python3 = {med['isolate run'] / med['python3']:.3f}, "
      f"python3/isolate call = {med['python3'] / med['isolate call']:.1f}x (wall, this machine, now; see docs/BENCHMARKS.md)")
PY
