#!/usr/bin/env bash
# The device checks of issue 19 as a folder that runs on the device tool's
# machine: gpu_cuda_test and gpu_hybrid_bench (static libstdc++ and CUDA
# runtime), the TBB library the benchmark's peer column needs, and the script
# that runs them. Built here, where nvcc is; carried there:
#   scripts/gpu-bundle.sh build
#   (device tool) carry build/gpu-bundle, run: build/gpu-bundle/device-check.sh "$OUT"
set -euo pipefail
build=${1:-build}
cmake --build "$build" -j "${JOBS:-2}" --target gpu_cuda_test gpu_hybrid_bench
out=$build/gpu-bundle
rm -rf "$out"
mkdir -p "$out"
cp "$build/bin/gpu_cuda_test" "$build/bin/gpu_hybrid_bench" "$out/"
tbb=$(ldd "$build/bin/gpu_hybrid_bench" | awk '/libtbb\.so/ { print $3 }')
[ -n "$tbb" ] || { echo "gpu-bundle: gpu_hybrid_bench links no libtbb" >&2; exit 1; }
cp -L "$tbb" "$out/"
cp scripts/gpu-device-check.sh "$out/device-check.sh"
# What else the binaries need must be on any Linux with a CUDA driver.
for bin in "$out/gpu_cuda_test" "$out/gpu_hybrid_bench"; do
  extra=$(ldd "$bin" | awk '{ print $1 }' | grep -vE '^(linux-vdso|/lib64/ld-linux|libc\.|libm\.|libtbb|libstdc\+\+|libgcc_s)' || true)
  [ -z "$extra" ] || { echo "gpu-bundle: $bin needs $extra" >&2; exit 1; }
done
du -sh "$out"
