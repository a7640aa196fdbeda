#!/usr/bin/env bash
# Installs the Debian packages isolate needs to build, test and benchmark.
# Idempotent: apt-get runs only when a package is missing, so `make` stays fast
# on a machine that already has everything.
#   scripts/install-deps.sh          what `make demo` and `make test` need
#   scripts/install-deps.sh cpython  also what scripts/build-cpython.sh needs
#   scripts/install-deps.sh aarch64  also the arm64 cross toolchain and qemu
#                                    (make cross-aarch64, make test-aarch64)
#   scripts/install-deps.sh musl     also musl-gcc (make test-musl)
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libspdlog-dev
  python3 python3-dev libpython3-dev libpython3.11-testsuite zlib1g-dev libexpat1-dev
  valgrind clang-format clang-tidy
  libmimalloc-dev libjemalloc-dev libgoogle-perftools-dev libtbb-dev
  clang libclang-rt-14-dev
  libopenmpi-dev openmpi-bin
)
for group in "$@"; do
  case "$group" in
    # CPython's own build dependencies for the modules isolate's tests import
    # (Tk is left out: it would pull in X11 for a module nothing here uses).
    cpython)
      packages+=(xz-utils dpkg apt debian-archive-keyring
        libssl-dev libffi-dev libbz2-dev liblzma-dev libsqlite3-dev libreadline-dev
        libncurses-dev uuid-dev libgdbm-dev libgdbm-compat-dev) ;;
    # qemu-user-binfmt registers qemu-aarch64 with the kernel's binfmt_misc,
    # so that an aarch64 program can exec another (the front execs the core).
    aarch64)
      packages+=(crossbuild-essential-arm64 qemu-user qemu-user-binfmt binfmt-support
        xz-utils dpkg apt debian-archive-keyring) ;;
    musl) packages+=(musl-tools) ;;
    *) echo "install-deps: unknown group '$group' (known: cpython, aarch64, musl)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-deps: missing packages (${missing[*]}) and not root; install them with apt-get" >&2
    exit 1
  fi
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
