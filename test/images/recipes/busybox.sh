# shellcheck shell=bash
# busybox: the smallest useful image, one layer, amd64. Used for boot, exec
# and filesystem tests that need no package manager.

build_image() {
  local layout=$1 work=$2
  make_busybox_rootfs amd64 "$work/rootfs" "$work"
  oci_layer "$layout" "$work/rootfs"
  oci_image "$layout" amd64 "$BUSYBOX_CONFIG"
  oci_tag "$layout" "$MANIFEST_DESC"
}
