# shellcheck shell=bash
# redis: a network service that starts fast and answers a one-line protocol,
# for port-forwarding and stop-signal tests. Runs as user redis in /data
# like Docker Hub's redis image, without its gosu entrypoint.

build_image() {
  local layout=$1 rootfs=$2/rootfs
  debian_rootfs "$rootfs"
  debian_install "$rootfs" redis-server

  # With no config file redis stays in the foreground and logs to stdout;
  # the flags below open it to connections forwarded from the host.
  debian_chroot "$rootfs" sh -c \
    'mkdir -p /data && chown redis:redis /data && chmod 755 /data'
  debian_trim "$rootfs"

  oci_layer "$layout" "$rootfs"
  # Docker Hub's redis sets no STOPSIGNAL; SIGTERM makes redis save and exit.
  local config
  config=$(jq -cn --arg path "$DEBIAN_PATH" '{
    User: "redis",
    Env: [$path],
    WorkingDir: "/data",
    Cmd: ["redis-server", "--bind", "0.0.0.0", "--port", "6379",
      "--protected-mode", "no"],
    ExposedPorts: {"6379/tcp": {}},
    StopSignal: "SIGTERM"
  }')
  oci_image "$layout" "$DEBIAN_ARCH" "$config"
  oci_tag "$layout" "$MANIFEST_DESC"
}
