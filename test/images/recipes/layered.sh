# shellcheck shell=bash
# layered: busybox plus two layers that exercise every layer feature the
# unpacker must handle. Expected result in the running guest:
#   /data/keep            "keep\n"
#   /data/remove-me       absent (whiteout in layer 3)
#   /opq/old1, /opq/old2  absent (opaque directory in layer 3)
#   /opq/new              "new\n"
#   /data/hardlink-b      same inode as /data/hardlink-a, "linked\n"
#   /data/symlink         symlink to the absolute path /data/keep
#   /data/private         "private\n", mode 0600, owner 1000:1000,
#                         mtime 1234567890 (2009-02-13T23:31:30Z)
# and the process runs as nobody (uid 65534) in /data.

build_image() {
  local layout=$1 work=$2
  make_busybox_rootfs amd64 "$work/layer1" "$work"
  oci_layer "$layout" "$work/layer1"

  local l2=$work/layer2
  mkdir -p "$l2/data" "$l2/opq"
  echo keep >"$l2/data/keep"
  echo remove-me >"$l2/data/remove-me"
  echo old1 >"$l2/opq/old1"
  echo old2 >"$l2/opq/old2"
  oci_layer "$layout" "$l2"

  local l3=$work/layer3
  mkdir -p "$l3/data" "$l3/opq"
  : >"$l3/data/.wh.remove-me"
  : >"$l3/opq/.wh..wh..opq"
  echo new >"$l3/opq/new"
  echo linked >"$l3/data/hardlink-a"
  ln "$l3/data/hardlink-a" "$l3/data/hardlink-b"
  ln -s /data/keep "$l3/data/symlink"
  echo private >"$l3/data/private"
  chmod 0600 "$l3/data/private"
  chown 1000:1000 "$l3/data/private"
  # Older than CLAMP_EPOCH, so tar keeps it as is.
  touch -m -d @1234567890 "$l3/data/private"
  oci_layer "$layout" "$l3"

  local config
  config=$(jq -c '. + {User: "nobody", WorkingDir: "/data"}' <<<"$BUSYBOX_CONFIG")
  oci_image "$layout" amd64 "$config"
  oci_tag "$layout" "$MANIFEST_DESC"
}
