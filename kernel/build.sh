#!/usr/bin/env bash
# Builds the guest kernel for one architecture from Debian's linux-source-6.1.
#
#   kernel/build.sh x86_64   -> vmlinux, uncompressed ELF booted through PVH
#   kernel/build.sh arm64    -> Image, booted by QEMU's `virt` loader
#
# The configuration is tinyconfig plus kernel/config/common.fragment and
# kernel/config/<arch>.fragment. The result is cached under
#   ${XDG_CACHE_HOME:-$HOME/.cache}/supermachine/kernel/<key>/
# keyed by the fragments, this script, the source package version and the
# architecture; a second run with the same inputs returns at once.
#
# Progress goes to stderr; the only line on stdout is the absolute path of
# the kernel image. Set SUPERMACHINE_BUILD_JOBS to change `make -j` (default:
# the number of CPUs).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # read by lib-cache.sh
script_name=kernel/build.sh
# shellcheck source=scripts/lib-cache.sh
source "$here/../scripts/lib-cache.sh"

source_package=linux-source-6.1
source_tarball=/usr/src/linux-source-6.1.tar.xz

usage() {
  note "usage: kernel/build.sh ARCH    (ARCH is x86_64 or arm64)"
  exit 2
}

(($# == 1)) || usage
arch=$1
started=$(now)

case $arch in
  x86_64)
    kernel_arch=x86_64
    source_arch=x86
    make_target=vmlinux
    image_path=vmlinux
    cross_prefix=x86_64-linux-gnu-
    cross_package=gcc-x86-64-linux-gnu
    host_machine=x86_64
    ;;
  arm64)
    kernel_arch=arm64
    source_arch=arm64
    make_target=Image
    image_path=arch/arm64/boot/Image
    cross_prefix=aarch64-linux-gnu-
    cross_package=gcc-aarch64-linux-gnu
    host_machine=aarch64
    ;;
  *)
    note "$script_name: unknown ARCH \`$arch'; expected x86_64 or arm64"
    usage
    ;;
esac
[[ $(uname -m) == "$host_machine" ]] && cross_prefix=
image_name=${image_path##*/}
fragments=("$here/config/common.fragment" "$here/config/$arch.fragment")

require_file "$source_tarball" "$source_package"
require_command dpkg-query dpkg
require_command make make
if [[ -n $cross_prefix ]]; then
  require_command "${cross_prefix}gcc" "$cross_package"
else
  require_command gcc gcc
fi
require_command flex flex
require_command bison bison
require_command bc bc
require_command xz xz-utils
require_command perl perl
require_command flock util-linux
require_command readelf binutils
# objtool, built for x86 kernels, needs the libelf headers.
[[ $arch == x86_64 ]] && require_file /usr/include/gelf.h libelf-dev
check_requirements
for fragment in "${fragments[@]}"; do
  [[ -f $fragment ]] || die "missing config fragment $fragment"
done

linux_version=$(dpkg-query -W -f='${Version}' "$source_package")
key=$(
  {
    printf 'arch %s\n' "$arch"
    printf 'linux-source %s\n' "$linux_version"
    file_digest kernel/build.sh "$here/build.sh"
    for fragment in "${fragments[@]}"; do
      file_digest "kernel/config/${fragment##*/}" "$fragment"
    done
  } | digest
)
short=${key:0:12}
kernel_cache="$cache_root/kernel"
out_dir="$kernel_cache/$key"
output="$out_dir/$image_name"

if [[ -f $output ]]; then
  note "kernel $arch: cached ($short) in $(elapsed_since "$started") $output"
  printf '%s\n' "$output"
  exit 0
fi

lock_cache "$kernel_cache"
if [[ -f $output ]]; then
  note "kernel $arch: cached ($short, built meanwhile)" \
    "in $(elapsed_since "$started") $output"
  printf '%s\n' "$output"
  exit 0
fi

note "kernel $arch: building ($short) ..."
work=$(mktemp -d "$kernel_cache/.work-$short.XXXXXX")
log="$kernel_cache/$short.log"
: >"$log"
trap 'rm -rf "$work"' EXIT

fail() {
  note "kernel $arch: $1 failed; last lines of $log:"
  tail -n 40 "$log" >&2
  exit 1
}

kmake() {
  make -C "$work/src" ARCH="$kernel_arch" CROSS_COMPILE="$cross_prefix" \
    KBUILD_BUILD_USER=supermachine KBUILD_BUILD_HOST=supermachine \
    KBUILD_BUILD_TIMESTAMP="linux-source $linux_version" \
    "$@" >>"$log" 2>&1
}

mkdir "$work/src"
tar -xJf "$source_tarball" -C "$work/src" --strip-components=1 >>"$log" 2>&1 ||
  fail "extracting $source_tarball"

# This is `make tinyconfig` with the fragments appended to its allnoconfig
# input, so a symbol that no fragment asks for stays off even where its
# Kconfig default is y (tinyconfig followed by olddefconfig would turn on
# the VT console, PS/2 input, ACPI battery and fan drivers and more).
tiny_inputs=("$work/src/kernel/configs/tiny-base.config"
  "$work/src/kernel/configs/tiny.config")
arch_tiny="$work/src/arch/$source_arch/configs/tiny.config"
[[ -f $arch_tiny ]] && tiny_inputs+=("$arch_tiny")
cat "${tiny_inputs[@]}" "${fragments[@]}" >"$work/allconfig"
kmake KCONFIG_ALLCONFIG="$work/allconfig" allnoconfig || fail "configuring"

# Every symbol a fragment sets must have survived Kconfig: a missing
# dependency drops a symbol without any warning.
dropped=()
while IFS= read -r line; do
  if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
    grep -qxF -- "$line" "$work/src/.config" && continue
  elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
    grep -q "^${BASH_REMATCH[1]}=" "$work/src/.config" || continue
  else
    continue
  fi
  symbol=${BASH_REMATCH[1]}
  actual=$(grep -E "^(# )?${symbol}[= ]" "$work/src/.config" || true)
  dropped+=("$line  (final .config: ${actual:-absent})")
done < <(cat "${fragments[@]}")
if ((${#dropped[@]} > 0)); then
  note "kernel $arch: the final .config does not match the fragments:"
  printf '  %s\n' "${dropped[@]}" >&2
  note "Add the missing dependencies to kernel/config/*.fragment."
  rm -f "$log"
  exit 1
fi

kmake -j"${SUPERMACHINE_BUILD_JOBS:-$(nproc)}" "$make_target" ||
  fail "compiling"

# QEMU boots an x86 vmlinux directly only through the PVH entry point,
# which the kernel advertises in a Xen ELF note.
notes=$([[ $arch != x86_64 ]] || readelf -n "$work/src/vmlinux")
if [[ $arch == x86_64 && $notes != *"Xen  "* ]]; then
  fail "checking the PVH note of vmlinux"
fi

stage="$work/out"
mkdir "$stage"
cp "$work/src/$image_path" "$stage/$image_name"
cp "$work/src/.config" "$stage/config"
mv "$log" "$stage/build.log"
log="$out_dir/build.log"
# A directory without its image is the debris of a manual clean-up.
rm -rf "$out_dir"
publish "$stage" "$out_dir"

note "kernel $arch: built ($short) in $(elapsed_since "$started") $output"
printf '%s\n' "$output"
