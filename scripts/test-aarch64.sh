#!/usr/bin/env bash
# `make test-aarch64`: the aarch64 cross build's tests under qemu-aarch64.
#   scripts/test-aarch64.sh BUILD_DIR
# Runs, each part timed:
#   unit       every unit test (allocator, executor, conc, contract, python,
#              pool, api, serve, cli, front) but the four listed below
#   pages64k   the allocator's and executor's unit tests with 64 KiB pages
#              (qemu's -p: the page size the guest's auxv and mmap see)
#   bitexact   `isolate run` and `isolate call` against Debian's arm64
#              python3.11, byte for byte, every case
#   map, call  a slice of e2e.map and e2e.serve (named below)
# Not under qemu, each for a reason of qemu's (docs/PORTING.md):
#   Fork.*                         qemu-user aborts when a multithreaded guest forks
#   the two RSS tests              the process's RSS includes qemu's translated code
#   Threads.SmallBatchRunsInline*  decides by measured time; emulation skews it
# (each also under its lite. name: exec_lite_test, the lite executor's run)
set -euo pipefail
build=${1:?usage: scripts/test-aarch64.sh BUILD_DIR}
build=$(cd "$build" && pwd)
root=$(sed -n 's/^ISO_SYSROOT:PATH=//p' "$build/CMakeCache.txt")
[ -d "$root" ] || { echo "test-aarch64: $build is not a cross build (no ISO_SYSROOT)" >&2; exit 2; }
src=$(cd "$(dirname "$0")/.." && pwd)
export QEMU_LD_PREFIX=$root
python=$(sed -n 's/^ISO_PYTHON:FILEPATH=//p' "$build/CMakeCache.txt")

# The front execs the core, and the drivers start aarch64 programs: the
# kernel must hand aarch64 executables to qemu (Debian's qemu-user-binfmt
# registers it, when binfmt_misc is mounted as the package is installed).
binfmt=/proc/sys/fs/binfmt_misc
if ! grep -qs '^enabled' "$binfmt/qemu-aarch64"; then
  if [ ! -e "$binfmt/register" ]; then
    mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null ||
      { echo "test-aarch64: binfmt_misc is not mounted and cannot be (not root?): mount it and rerun" >&2; exit 1; }
  fi
  update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || update-binfmts --import qemu-aarch64 >/dev/null 2>&1 || true
  grep -qs '^enabled' "$binfmt/qemu-aarch64" ||
    { echo "test-aarch64: no binfmt_misc entry for qemu-aarch64 (package qemu-user-binfmt)" >&2; exit 1; }
fi

times=()
failed=()
part() {
  local name=$1 start=$SECONDS
  shift
  echo "== test-aarch64: $name" >&2
  if "$@"; then
    times+=("$(printf '%-9s %4d s' "$name" $((SECONDS - start)))")
  else
    times+=("$(printf '%-9s %4d s  FAILED' "$name" $((SECONDS - start)))")
    failed+=("$name")
  fi
}
jobs=$(nproc)
# The tests above that qemu cannot run, once, as GoogleTest patterns; ctest
# gets the same list as a regular expression.
not_under_qemu=('Fork.*' IsoallocThreads.ChurnRandomSizesWithPatternsAndRss
  IsoallocMemory.RssReturnsAfterFreeingEverything Threads.SmallBatchRunsInlineOnTheCaller)
gtest_exclude="-$(IFS=:; echo "${not_under_qemu[*]}")"
ctest_exclude="^(lite\\.)?($(printf '%s\n' "${not_under_qemu[@]}" | sed 's/\./\\./g; s/\*/.*/g' | paste -sd'|'))$"

pages64k() {
  local rc=0 t pagesize
  # That qemu's -p reaches the guest at all: the tests below would pass on 4 KiB too.
  pagesize=$(QEMU_PAGESIZE=65536 "$python" -c 'import os; print(os.sysconf("SC_PAGE_SIZE"))')
  [ "$pagesize" = 65536 ] || { echo "test-aarch64: QEMU_PAGESIZE=65536 gave pages of $pagesize bytes" >&2; return 1; }
  for t in alloc_test exec_test conc_test; do
    QEMU_PAGESIZE=65536 "$build/bin/$t" --gtest_brief=1 --gtest_filter="$gtest_exclude" || rc=1
  done
  return $rc
}

e2e() {
  ISOLATE_BIN="$build/bin/isolate" ISOLATE_CORE="$build/libexec/isolate/isolate-core" \
    ISOLATE_REF_PYTHON="$python" "$python" "$src/tests/e2e/$1" -v "${@:2}"
}
cd "$build"
part unit ctest --output-on-failure -j "$jobs" -L unit -E "$ctest_exclude"
part pages64k pages64k
part bitexact ctest --output-on-failure -j "$jobs" -L bitexact
part map e2e test_map.py -k every_backend -k input_order -k file_target -k an_exception_fails \
  -k bad_json -k dying_worker -k bad_targets -k ctrl_c
part call e2e test_serve.py -k Behaviour -k Isolation.test_crashes -k Control.test_status_and_stop

printf '\ntest-aarch64, time per part (qemu-aarch64 %s):\n' "$(qemu-aarch64 --version | sed -n '1s/.*version //p')"
printf '  %s\n' "${times[@]}"
printf '  %-9s %4d s\n' total "$SECONDS"
[ ${#failed[@]} -eq 0 ] || { echo "test-aarch64: failed: ${failed[*]}" >&2; exit 1; }
