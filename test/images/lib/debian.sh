# shellcheck shell=bash disable=SC2034 # globals are read by build.sh and recipes
# Service image rootfs: a copy of the cached base (debian-base.sh) with
# packages installed in a chroot, then trimmed.

debian_rootfs() {
  local rootfs=$1 tarball
  tarball=$(debian_base_tarball)
  mkdir -p "$rootfs"
  tar -C "$rootfs" --numeric-owner -xf "$tarball"
}

# Runs a command inside ROOTFS with /proc mounted, unmounting even when the
# command fails. policy-rc.d keeps package scripts from starting services
# on the build host.
debian_chroot() {
  local rootfs=$1
  shift
  cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod 755 "$rootfs/usr/sbin/policy-rc.d"
  mount -t proc proc "$rootfs/proc"
  local status=0
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 HOME=/root \
    chroot "$rootfs" "$@" || status=$?
  umount "$rootfs/proc"
  rm -f "$rootfs/usr/sbin/policy-rc.d"
  return "$status"
}

debian_install() {
  local rootfs=$1
  shift
  debian_chroot "$rootfs" sh -c 'apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends "$@"' sh "$@" >&2 ||
    die "apt-get install $* failed; see the log above"
}

# Final step before a service rootfs becomes a layer. /dev is emptied because
# the runtime mounts its own; the host's resolv.conf and hostname that
# debootstrap copied in must not leak into the image.
debian_trim() {
  local rootfs=$1
  debian_remove_clutter "$rootfs"
  rm -rf "${rootfs:?}"/dev/*
  : >"$rootfs/etc/resolv.conf"
  : >"$rootfs/etc/hostname"
}

# The chroot runs the host's binaries, so the image is for the host's
# architecture.
DEBIAN_ARCH=$(dpkg --print-architecture)
readonly DEBIAN_ARCH
readonly DEBIAN_PATH=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
