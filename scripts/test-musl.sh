#!/usr/bin/env bash
# `make test-musl`: isolate's musl-ready parts built against musl (Debian's
# musl-tools) instead of glibc, and tested:
# - the `isolate` front, on musl's headers, then the bit-exact suite through
#   it, both `isolate run` (the front execs the core) and `isolate call` (the
#   front talks to the server itself). The front links no C library either
#   way (its own _start and system calls, src/front/start.cc): what musl
#   changes is every struct and constant it takes from a C header (stat,
#   sockaddr_un, msghdr, pollfd, the O_* and SOCK_* numbers);
# - isoalloc, linked as the malloc of a static musl program
#   (tests/alloc/musl_stress.c): threads, every size class, cross-thread frees.
#   scripts/test-musl.sh BUILD_DIR    (a host build: its core serves the front)
set -euo pipefail
build=${1:?usage: scripts/test-musl.sh BUILD_DIR}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
specs=/usr/lib/x86_64-linux-musl/musl-gcc.specs
[ -f "$specs" ] || { echo "test-musl: $specs is missing: scripts/install-deps.sh musl" >&2; exit 1; }
python=$(sed -n 's/^ISO_PYTHON:FILEPATH=//p' "$build/CMakeCache.txt")
[ -x "$python" ] || { echo "test-musl: $build has no ISO_PYTHON" >&2; exit 2; }

# A tree of its own beside the build's: bin/isolate (musl) and the build's core
# where the front looks for it.
out="$build/musl"
rm -rf "$out"
mkdir -p "$out/bin" "$out/libexec/isolate" "$out/obj"
ln -s "$build/libexec/isolate/isolate-core" "$out/libexec/isolate/isolate-core"
core_from_front=../libexec/isolate/isolate-core  # src/CMakeLists.txt's layout

# C++ on musl: musl's C headers first (the specs file), then Debian's
# libstdc++ headers (only what needs no run time: <cstddef>, <atomic>, ...),
# which are configured for glibc and ask its version macro.
musl_cxx=(-std=c++20 -O2 -specs "$specs" -isystem /usr/include/c++/12
  -isystem "/usr/include/$(gcc -print-multiarch)/c++/12" "-D__GLIBC_PREREQ(major,minor)=0"
  -fno-exceptions -fno-rtti -Wall -Wextra -Werror)
flags=("${musl_cxx[@]}" -DISO_FREESTANDING=1 "-DISO_CORE_FROM_FRONT=\"$core_from_front\""
  -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-stack-protector
  -fno-threadsafe-statics -fno-pie -fcf-protection=none
  -I "$src/src" -I "$src/include" -I "$build/generated")
for f in main call socket_path start; do
  g++ "${flags[@]}" -c "$src/src/front/$f.cc" -o "$out/obj/front_$f.o"
done
gcc -static -nostdlib -no-pie -Wl,--gc-sections -Wl,--build-id=none "$out"/obj/front_*.o -lgcc -o "$out/bin/isolate"
echo "test-musl: built $out/bin/isolate ($(stat -c %s "$out/bin/isolate") bytes) on musl's headers" >&2

# isoalloc: <atomic> reaches further into those headers, to two glibc-only
# names (scripts/musl-glibcxx-compat.h gives them); it needs no C++ run time,
# so musl-gcc links it into a C program.
alloc_flags=("${musl_cxx[@]}" -include "$src/scripts/musl-glibcxx-compat.h" -ftls-model=initial-exec -fPIC
  -fno-builtin-malloc -fno-builtin-free -fno-builtin-calloc -fno-builtin-realloc
  -I "$src/include" -I "$src/src/alloc")
# The sources as src/alloc/CMakeLists.txt lists them (written once, there).
alloc_sources=$(sed -n 's/^set(isoalloc_sources \(.*\))$/\1/p' "$src/src/alloc/CMakeLists.txt")
[[ -n "$alloc_sources" ]] || { echo "test-musl: no isoalloc_sources in src/alloc/CMakeLists.txt" >&2; exit 1; }
for f in $alloc_sources override.cc; do
  g++ "${alloc_flags[@]}" -c "$src/src/alloc/$f" -o "$out/obj/alloc_${f%.cc}.o"
done
musl-gcc -O2 -Wall -Wextra -Werror -I "$src/include" -c "$src/tests/alloc/musl_stress.c" -o "$out/obj/musl_stress.o"
musl-gcc -static "$out/obj/musl_stress.o" "$out"/obj/alloc_*.o -lpthread -o "$out/bin/musl_stress"
rc=0
"$out/bin/musl_stress" || rc=1

runtime=$(mktemp -d)
chmod 700 "$runtime"
trap '"$out/bin/isolate" serve --stop >/dev/null 2>&1 || true; rm -rf "$runtime"' EXIT
export XDG_RUNTIME_DIR=$runtime ISO_SERVE_IDLE_TIMEOUT=600
"$python" "$src/tests/e2e/bitexact/run_case.py" --runner "$out/bin/isolate run" --python "$python" --all || rc=1
# The first call starts the server (cold); every case after it must run warm.
"$out/bin/isolate" call -c 'pass'
ISO_CALL_REQUIRE_WARM=$("$python" -c 'import sysconfig; print(0 if sysconfig.get_config_var("Py_GIL_DISABLED") else 1)') \
  "$python" "$src/tests/e2e/bitexact/run_case.py" --runner "$out/bin/isolate call" --python "$python" --all || rc=1
exit $rc
