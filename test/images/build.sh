#!/usr/bin/env bash
# Builds one of the project's test images as an OCI image layout.
#
# usage: test/images/build.sh NAME|all
#
# The layout lands in ${XDG_CACHE_HOME:-$HOME/.cache}/supermachine/test-images/
# NAME-HASH/, where HASH covers this script, lib/ and the image's recipe, so
# an unchanged recipe is never rebuilt. The last line on stdout is the
# layout's path (with `all`, each image prints its path in turn). Needs
# root (chroot, debootstrap) and the Debian packages listed in README.md.
set -euo pipefail

IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIB_DIR=$IMAGES_DIR/lib
RECIPES_DIR=$IMAGES_DIR/recipes
CACHE_ROOT=${XDG_CACHE_HOME:-$HOME/.cache}/supermachine/test-images
readonly IMAGES_DIR LIB_DIR RECIPES_DIR CACHE_ROOT

# shellcheck source=lib/common.sh
source "$LIB_DIR/common.sh"
# shellcheck source=lib/oci.sh
source "$LIB_DIR/oci.sh"
# shellcheck source=lib/busybox.sh
source "$LIB_DIR/busybox.sh"
# shellcheck source=lib/debian-base.sh
source "$LIB_DIR/debian-base.sh"
# shellcheck source=lib/debian.sh
source "$LIB_DIR/debian.sh"

readonly ALL_IMAGES=(busybox layered multiarch redis nginx postgres)

# Hashes every input file by path and content, so renaming a file in the
# recipe directory also changes the hash.
recipe_hash() {
  local name=$1
  local -a files=("$IMAGES_DIR/build.sh" "$LIB_DIR"/*.sh
    "$RECIPES_DIR/$name.sh")
  if [[ -d $RECIPES_DIR/$name ]]; then
    mapfile -t -O "${#files[@]}" files < <(find "$RECIPES_DIR/$name" -type f)
  fi
  local file
  for file in "${files[@]}"; do
    printf '%s\n' "${file#"$IMAGES_DIR"/}"
    sha256sum <"$file"
  done | LC_ALL=C sort | sha256sum | cut -c1-12
}

build_one() {
  local name=$1
  [[ -f $RECIPES_DIR/$name.sh ]] ||
    die "unknown image \`$name'; expected one of: ${ALL_IMAGES[*]} or all"
  local layout
  layout=$CACHE_ROOT/$name-$(recipe_hash "$name")
  if [[ -f $layout/index.json ]]; then
    echo "cached"
    echo "$layout"
    return
  fi

  local started=$SECONDS work
  work=$(mktemp -d "$CACHE_ROOT/.build-$name.XXXXXX")
  # A failed build leaves no half-written layout under the final name.
  WORK=$work
  trap 'unmount_under "$WORK"; remove_tree "$WORK"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  oci_init "$work/layout"
  (
    # shellcheck disable=SC1090 # the recipe is chosen at run time
    source "$RECIPES_DIR/$name.sh"
    build_image "$work/layout" "$work"
  )
  [[ -f $work/layout/index.json ]] || die "recipe $name wrote no index.json"
  mv -T "$work/layout" "$layout"
  remove_tree "$work"
  trap - EXIT INT TERM
  echo "$name: built in $((SECONDS - started))s, $(du -sh "$layout" | cut -f1)" >&2
  echo "$layout"
}

main() {
  (($# == 1)) || die "usage: test/images/build.sh NAME|all (NAME: ${ALL_IMAGES[*]})"
  ((EUID == 0)) || die "must run as root: debootstrap and chroot need it"
  local cmd
  for cmd in tar gzip jq sha256sum debootstrap apt-get dpkg-deb chroot flock; do
    command -v "$cmd" >/dev/null ||
      die "\`$cmd' not found; install the packages listed in test/images/README.md"
  done

  mkdir -p "$CACHE_ROOT"
  # One build at a time: parallel runs would debootstrap the base twice and
  # race on the shared apt state.
  exec {lock_fd}>"$CACHE_ROOT/.lock"
  flock "$lock_fd"

  local -a names=("$1")
  [[ $1 == all ]] && names=("${ALL_IMAGES[@]}")
  local name
  for name in "${names[@]}"; do
    build_one "$name"
  done
}

main "$@"
