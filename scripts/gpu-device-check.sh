#!/usr/bin/env bash
# Runs on the device tool's machine from the folder scripts/gpu-bundle.sh
# makes: every hybrid_map mode against the CPU's results (the test under
# each ISO_DEVICE), then the figures. Logs and the table go to $1 (or $OUT);
# further arguments go to gpu_hybrid_bench.
# Exit 1 if a test or the benchmark failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-${OUT:-/tmp/gpu-check}}
shift || true  # the rest goes to the benchmark (e.g. --sizes 1000,1000000)
mkdir -p "$out"
export LD_LIBRARY_PATH=$here${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || true
  echo "cpus: $(nproc)"
} | tee "$out/device.txt"
rc=0
for mode in auto gpu split cpu; do
  if ISO_DEVICE=$mode "$here/gpu_cuda_test" >"$out/test-$mode.log" 2>&1; then
    echo "gpu_cuda_test ISO_DEVICE=$mode: passed ($(grep -c '^\[       OK' "$out/test-$mode.log") tests)"
  else
    echo "gpu_cuda_test ISO_DEVICE=$mode: FAILED"
    tail -30 "$out/test-$mode.log"
    rc=1
  fi
done
timeout "${BENCH_SECONDS:-420}" "$here/gpu_hybrid_bench" --markdown "$@" 2>&1 | tee "$out/bench.md"
[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
exit $rc
