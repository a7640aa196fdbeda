#!/usr/bin/env bash
# Builds a CPython that isolate can embed, from the upstream tarball inside
# Debian's `python3.X` source package: static libpython (no --enable-shared),
# free-threaded with --freethreaded, PGO + LTO with --optimize, installed into
# <into>/<flavour>/ (3.13, 3.13t, 3.13-opt, 3.13t-opt).
#
# The source comes through apt-get with a private sources list, lists and cache
# under <into>/apt: the system's apt configuration is never touched. Debian's
# signed Sources index vouches for the .dsc, and the .dsc for the tarball's
# SHA-256, which is checked again before every unpack. The newest version that
# actually downloads is taken (the index may list versions the mirror no longer
# serves). A second call with the same flavour does nothing.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/build-cpython.sh [--version 3.13] [--freethreaded] [--optimize]
                                [--into build/cpython] [--jobs N]
  --version X.Y     CPython minor version (Debian source package pythonX.Y)
  --freethreaded    configure --disable-gil (a "t" build: python3.13t)
  --optimize        --enable-optimizations --with-lto (PGO; several times longer)
  --into DIR        where the apt state, sources, build trees and installs go
  --jobs N          parallel make jobs (default: nproc)
Prints the installed interpreter's path on its last line.
EOF
}

version=3.13
freethreaded=0
optimize=0
into=build/cpython
jobs=$(nproc)
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version=${2:?--version needs X.Y}; shift 2 ;;
    --freethreaded) freethreaded=1; shift ;;
    --optimize) optimize=1; shift ;;
    --into) into=${2:?--into needs a folder}; shift 2 ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-cpython: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
die() { echo "build-cpython: $*" >&2; exit 1; }
say() { echo "build-cpython: $*" >&2; }

[[ "$version" =~ ^3\.[0-9]+$ ]] || die "--version must look like 3.13, not '$version'"
if [ "$freethreaded" = 1 ] && [[ "$version" =~ ^3\.(1[0-2]|[0-9])$ ]]; then
  die "a free-threaded build needs CPython >= 3.13 (asked for $version)"
fi

mkdir -p "$into"
into=$(cd "$into" && pwd)
abi=$([ "$freethreaded" = 1 ] && echo t || true)
flavour="$version$abi$([ "$optimize" = 1 ] && echo -opt || true)"
prefix="$into/$flavour"
python="$prefix/bin/python$version$abi"
stamp="$prefix/.built-by-isolate"

if [ -x "$python" ] && [ -f "$stamp" ]; then
  say "$flavour already built ($(cat "$stamp")); nothing to do"
  echo "$python"
  exit 0
fi

# ------------------------------------------------------------- fetch
package="python$version"
src_dir="$into/src"
mkdir -p "$src_dir"
# shellcheck source=scripts/private-apt.sh
. "$(dirname "$0")/private-apt.sh"
private_apt "$into/apt"
# deb-src for the suites that carry newer CPythons than bookworm; the archive
# keyring Debian 12 installs signs them all.
cat >"$apt_dir/sources.list" <<EOF
deb-src [signed-by=$keyring] http://deb.debian.org/debian stable main
deb-src [signed-by=$keyring] http://deb.debian.org/debian testing main
deb-src [signed-by=$keyring] http://deb.debian.org/debian unstable main
EOF

# The .dsc of the newest version already downloaded and checked, if any.
newest_local_dsc() {
  local dsc best="" best_version=""
  for dsc in "$src_dir/${package}"_*.dsc; do
    [ -f "$dsc" ] || continue
    local v
    v=$(sed -n 's/^Version: //p' "$dsc")
    if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best_version"; then
      best=$dsc
      best_version=$v
    fi
  done
  echo "$best"
}

fetch() {
  say "reading Debian's source index (stable, testing, unstable) for $package"
  apt-get "${apt_opts[@]}" update -qq >"$apt_dir/update.log" 2>&1 ||
    die "apt-get update failed (no network or mirror?): see $apt_dir/update.log"
  local versions
  versions=$(apt-cache "${apt_opts[@]}" showsrc "$package" 2>/dev/null |
    awk -v p="$package" '/^Package: /{ok=($2==p)} ok&&/^Version: /{print $2}' | sort -u |
    sort -r -V)
  [ -n "$versions" ] || die "Debian's archive lists no source package $package"
  local v
  for v in $versions; do
    say "downloading $package $v"
    if (cd "$src_dir" && apt-get "${apt_opts[@]}" source --download-only -qq "$package=$v") \
        >"$apt_dir/download.log" 2>&1; then
      say "took $package $v, the newest version the mirror serves"
      return 0
    fi
    say "$package $v is listed but not served ($(grep -m1 -o '404.*' "$apt_dir/download.log" || echo failed)); trying an older one"
  done
  die "no version of $package downloads (tried: $(echo $versions)); see $apt_dir/download.log"
}

dsc=$(newest_local_dsc)
[ -n "$dsc" ] || { fetch; dsc=$(newest_local_dsc); }
[ -n "$dsc" ] || die "the download left no $package .dsc in $src_dir"

# ------------------------------------------------------------- check, unpack
# The upstream tarball and its SHA-256 as the .dsc records them.
read -r sha tarball < <(awk '/^Checksums-Sha256:/{on=1; next} /^[^ ]/{on=0}
  on && $3 ~ /\.orig\.tar\.(xz|gz)$/ {print $1, $3; exit}' "$dsc")
[ -n "${tarball:-}" ] || die "$dsc names no .orig tarball"
echo "$sha  $src_dir/$tarball" | sha256sum --check --status ||
  die "$src_dir/$tarball does not match the SHA-256 in $dsc (delete both and rerun)"
upstream=${tarball#"${package}_"}
upstream=${upstream%.orig.tar.*}
tree="$src_dir/Python-$upstream"
if [ ! -f "$tree/configure" ]; then
  say "unpacking $tarball"
  rm -rf "$tree.partial"
  mkdir -p "$tree.partial"
  tar -xf "$src_dir/$tarball" -C "$tree.partial" --strip-components=1
  mv "$tree.partial" "$tree"
fi

# ------------------------------------------------------------- build deps
for header in zlib.h ffi.h openssl/ssl.h bzlib.h lzma.h sqlite3.h readline/readline.h \
    ncursesw/curses.h uuid/uuid.h expat.h; do
  [ -f "/usr/include/$header" ] || [ -f "/usr/include/$(gcc -print-multiarch)/$header" ] ||
    die "/usr/include/$header is missing: run scripts/install-deps.sh cpython"
done

# ------------------------------------------------------------- configure, build, install
configure_args=(--prefix="$prefix" --with-ensurepip=no)
[ "$freethreaded" = 1 ] && configure_args+=(--disable-gil)
[ "$optimize" = 1 ] && configure_args+=(--enable-optimizations --with-lto)
# Not position-independent: isolate links libpython into a -no-pie executable,
# where direct addresses save the GOT loads. CFLAGS_NODIST: extension modules
# keep their -fPIC, and third-party ones compiled later do not inherit the
# flag; LINKCC links the programs only (-no-pie would turn a shared module's
# -shared link into an executable's).
export CFLAGS_NODIST="-fno-pie" LINKCC="${CC:-gcc} -no-pie"

work="$into/build/$flavour"
rm -rf "$work"
mkdir -p "$work"
say "building $flavour from $(basename "$tree") in $work ($jobs jobs$([ "$optimize" = 1 ] && echo ', PGO + LTO: expect 15-25 minutes on 2 cores' || true))"
start=$SECONDS
log="$work/build.log"
(
  cd "$work"
  "$tree/configure" "${configure_args[@]}"
  make -j "$jobs"
  make install COMPILEALL_OPTS=-j0
) >"$log" 2>&1 || { tail -25 "$log" >&2; die "the build of $flavour failed; the whole log is $log"; }

[ -x "$python" ] || die "the build finished but $python is missing; see $log"
"$python" -c 'import sys, sysconfig
assert sysconfig.get_config_var("LIBRARY").endswith(".a")' ||
  die "$python has no static libpython; see $log"
missing=$(grep -A3 "^The necessary bits to build these optional modules were not found" "$log" |
  tail -n +2 | tr -s ' \n' ' ' || true)
echo "$package $upstream ($(basename "$dsc")) ${configure_args[*]:1}" >"$stamp"
say "built $flavour in $((SECONDS - start)) s${missing:+; optional modules not built: $missing}"
echo "$python"
