# Sourced by scripts/build-cpython.sh and scripts/aarch64-sysroot.sh: apt-get
# with its own sources list, lists and cache under one folder, and an empty
# dpkg status, so that the system's apt configuration is never read or
# touched. The caller defines die() and writes "$apt_dir/sources.list".
#   private_apt DIR     sets apt_dir=DIR, keyring (Debian's archive keys) and
#                       apt_opts (the options every apt-get and apt-cache call takes)
private_apt() {
  apt_dir=$1
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -f "$keyring" ] || die "$keyring is missing (Debian package debian-archive-keyring)"
  apt_opts=(
    -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
    -o Dir::State::Status=/dev/null -o Debug::NoLocking=1
  )
  if [ "$(id -u)" = 0 ]; then apt_opts+=(-o APT::Sandbox::User=root); fi
}
