# shellcheck shell=bash
# nginx: an HTTP server for port-forwarding and graceful-stop tests. Same
# docroot, ports, command and stop signal as Docker Hub's nginx image.

build_image() {
  local layout=$1 rootfs=$2/rootfs
  local files=$RECIPES_DIR/nginx
  debian_rootfs "$rootfs"
  debian_install "$rootfs" nginx-light

  rm -f "$rootfs/etc/nginx/sites-enabled/default"
  install -m 644 "$files/default.conf" "$rootfs/etc/nginx/conf.d/default.conf"
  mkdir -p "$rootfs/usr/share/nginx/html"
  install -m 644 "$files/index.html" "$rootfs/usr/share/nginx/html/index.html"
  # The guest has no log collector: the console is where logs are read.
  ln -sf /dev/stdout "$rootfs/var/log/nginx/access.log"
  ln -sf /dev/stderr "$rootfs/var/log/nginx/error.log"
  debian_trim "$rootfs"

  oci_layer "$layout" "$rootfs"
  # SIGQUIT is nginx's graceful shutdown: it finishes open requests first.
  local config
  config=$(jq -cn --arg path "$DEBIAN_PATH" '{
    Env: [$path],
    Cmd: ["nginx", "-g", "daemon off;"],
    ExposedPorts: {"80/tcp": {}},
    StopSignal: "SIGQUIT"
  }')
  oci_image "$layout" "$DEBIAN_ARCH" "$config"
  oci_tag "$layout" "$MANIFEST_DESC"
}
