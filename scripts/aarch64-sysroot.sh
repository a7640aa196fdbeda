#!/usr/bin/env bash
# Unpacks Debian's arm64 CPython (the interpreter, its standard library and
# the static libpython3.x.a with headers) and its run-time libraries into a
# folder of its own: the sysroot that `make cross-aarch64` links against and
# that qemu-aarch64 runs the tests in (QEMU_LD_PREFIX).
#
# Nothing is installed into the system: the packages come through apt-get
# with a private sources list, architecture, lists and cache under
# <into>/apt and an empty dpkg status (scripts/private-apt.sh; so apt
# fetches the whole dependency closure), and `dpkg -x` unpacks each one (no
# maintainer scripts run).
# Debian's signed Release file vouches for every .deb's checksum, which
# apt checks. A second call does nothing.
#   scripts/aarch64-sysroot.sh [--into build/aarch64] [--python 3.11]
# Prints the sysroot's path on its last line.
set -euo pipefail

into=build/aarch64
version=3.11
while [ $# -gt 0 ]; do
  case "$1" in
    --into) into=${2:?--into needs a folder}; shift 2 ;;
    --python) version=${2:?--python needs X.Y}; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "aarch64-sysroot: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
die() { echo "aarch64-sysroot: $*" >&2; exit 1; }
say() { echo "aarch64-sysroot: $*" >&2; }

mkdir -p "$into"
into=$(cd "$into" && pwd)
sysroot="$into/sysroot"
stamp="$sysroot/.unpacked-by-isolate"
python="$sysroot/usr/bin/python$version"
if [ -f "$stamp" ] && [ -f "$python" ]; then
  say "$(cat "$stamp"); nothing to do"
  echo "$sysroot"
  exit 0
fi

# shellcheck source=scripts/private-apt.sh
. "$(dirname "$0")/private-apt.sh"
private_apt "$into/apt"
cat >"$apt_dir/sources.list" <<EOF
deb [arch=arm64 signed-by=$keyring] http://deb.debian.org/debian bookworm main
deb [arch=arm64 signed-by=$keyring] http://deb.debian.org/debian bookworm-updates main
deb [arch=arm64 signed-by=$keyring] http://deb.debian.org/debian-security bookworm-security main
EOF
apt_opts+=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64
  -o APT::Install-Recommends=0 -o APT::Get::Assume-Yes=1)

# The interpreter (the bit-exact suite's reference), the static library and
# headers isolate embeds, what libpython's link needs (zlib, expat), the
# libraries isolate and its tests build with (fmt, CLI11, nlohmann-json,
# GoogleTest), the C++ run time the cross compiler's programs load, and the C
# library itself (so the sysroot alone is a whole root for qemu).
packages=(libc6 libstdc++6 libgcc-s1 "python$version" "libpython$version-dev" zlib1g-dev libexpat1-dev
  libfmt-dev libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev)

say "reading Debian's arm64 package index (bookworm)"
apt-get "${apt_opts[@]}" update -qq >"$apt_dir/update.log" 2>&1 ||
  die "apt-get update failed (no network or mirror?): see $apt_dir/update.log"
say "downloading ${packages[*]} and what they depend on"
apt-get "${apt_opts[@]}" install --download-only -qq "${packages[@]}" >"$apt_dir/download.log" 2>&1 ||
  { tail -5 "$apt_dir/download.log" >&2; die "the download failed: see $apt_dir/download.log"; }

rm -rf "$sysroot.partial"
mkdir -p "$sysroot.partial"
count=0
for deb in "$apt_dir"/cache/archives/*_arm64.deb "$apt_dir"/cache/archives/*_all.deb; do
  [ -f "$deb" ] || continue
  dpkg -x "$deb" "$sysroot.partial"
  count=$((count + 1))
done
[ -f "$sysroot.partial/usr/bin/python$version" ] || die "no python$version in the unpacked packages"
ls "$sysroot.partial"/usr/lib/python"$version"/config-*/libpython"$version".a >/dev/null 2>&1 ||
  die "no static libpython$version.a in libpython$version-dev:arm64"
# Debian's sysroot uses absolute links (e.g. /lib/ld-linux-aarch64.so.1 ->
# /lib/aarch64-linux-gnu/...): inside the sysroot they must point inside it,
# where the cross linker and qemu's -L prefix look.
find "$sysroot.partial" -type l | while read -r link; do
  target=$(readlink "$link")
  case "$target" in
    /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$sysroot.partial$target")" "$link" ;;
  esac
done
rm -rf "$sysroot"
mv "$sysroot.partial" "$sysroot"
echo "python$version $(sed -n 's/^Version: //p' <(dpkg-deb -f "$(ls "$apt_dir"/cache/archives/python"$version"_*_arm64.deb)")) and $count packages, arm64, from Debian bookworm" >"$stamp"
say "$(cat "$stamp")"
echo "$sysroot"
