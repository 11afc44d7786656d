# shellcheck shell=bash
# multiarch: an image index with amd64 and arm64 busybox images, for tests
# that pick the platform matching the host out of an index.

build_image() {
  local layout=$1 work=$2
  local -a manifests=()
  local arch
  for arch in amd64 arm64; do
    make_busybox_rootfs "$arch" "$work/rootfs-$arch" "$work"
    oci_layer "$layout" "$work/rootfs-$arch"
    oci_image "$layout" "$arch" "$BUSYBOX_CONFIG"
    manifests+=("$MANIFEST_DESC")
  done
  oci_tag "$layout" "$(oci_index_blob "$layout" "${manifests[@]}")"
}
