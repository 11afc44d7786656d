# shellcheck shell=bash disable=SC2034 # globals are read by build.sh and recipes
# Shared helpers for the test image recipes. Sourced by build.sh.

die() {
  echo "build.sh: $*" >&2
  exit 1
}

log() {
  echo "build.sh: $*" >&2
}

# Every timestamp in every layer is clamped to this instant, so two builds of
# the same recipe from the same packages produce the same layer digests.
# 2023-11-14T22:13:20Z; the layered image's fixed-mtime file predates it.
readonly CLAMP_EPOCH=1700000000
readonly CREATED=2023-11-14T22:13:20Z

# Unmounts whatever a build interrupted inside a chroot left mounted under
# DIR, deepest first.
unmount_under() {
  local real mnt
  real=$(realpath "$1")
  awk -v d="$real" 'index($2, d "/") == 1 { print $2 }' /proc/self/mounts |
    sort -r | while read -r mnt; do
      umount "$mnt" || umount -l "$mnt"
    done
}

# Refuses to delete a tree that still has something mounted inside it: a
# leftover bind or proc mount would make `rm -rf` reach outside the tree.
remove_tree() {
  local dir=$1
  [[ -e $dir ]] || return 0
  local real
  real=$(realpath "$dir")
  if awk -v d="$real" '$2 == d || index($2, d "/") == 1 { found = 1 }
      END { exit !found }' /proc/self/mounts; then
    die "refusing to delete $real: something is still mounted under it"
  fi
  rm -rf -- "$real"
}

# Prints the host's Debian mirror for ARCHIVE (debian or debian-security),
# so image builds use whatever mirror this machine is set up with.
debian_mirror() {
  local archive=$1 uri
  uri=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
    2>/dev/null | grep -oE "https?://[^ ]*/$archive/?( |$)" | head -n1)
  echo "${uri:-http://deb.debian.org/$archive}" | tr -d ' '
}

# A deb822 source list for bookworm built from the host's mirrors. It is
# generated rather than copied so third-party repositories the host may
# enable (and their keys) never reach a build or an image.
debian_sources() {
  cat <<SOURCES
Types: deb
URIs: $(debian_mirror debian)
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $(debian_mirror debian-security)
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
}
