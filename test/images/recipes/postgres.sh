# shellcheck shell=bash
# postgres: a stateful server with a first-start initialisation step, for
# tests of environment passing, /dev/shm and SysV IPC, and clean shutdown.
# Same environment contract, command and stop signal as Docker Hub's
# postgres:15 image; see postgres/docker-entrypoint.sh.

readonly PG_MAJOR=15

build_image() {
  local layout=$1 rootfs=$2/rootfs
  debian_rootfs "$rootfs"
  # Debian would create and start a "main" cluster on install; the
  # entrypoint creates the one cluster the image uses in PGDATA instead.
  mkdir -p "$rootfs/etc/postgresql-common/createcluster.d"
  echo 'create_main_cluster = false' \
    >"$rootfs/etc/postgresql-common/createcluster.d/no-main-cluster.conf"
  debian_install "$rootfs" "postgresql-$PG_MAJOR"

  # LLVM and z3 are only there for JIT compilation of queries and make up
  # 40% of the unpacked image. Without llvmjit.so the server silently runs
  # with JIT unavailable. The cost: dpkg now records unmet dependencies, so
  # an apt-get install inside this image first wants to put them back.
  debian_chroot "$rootfs" dpkg --purge --force-depends libllvm14 libz3-4 >&2
  rm -f "$rootfs/usr/lib/postgresql/$PG_MAJOR/lib/llvmjit"*
  rm -rf "$rootfs/usr/lib/postgresql/$PG_MAJOR/lib/bitcode"
  # ssl-cert made a key pair named after the build host at install time.
  # Clusters from initdb run with ssl=off and never read it, and dropping it
  # keeps the layer byte-identical between builds.
  rm -f "$rootfs/etc/ssl/certs/ssl-cert-snakeoil.pem" \
    "$rootfs/etc/ssl/private/ssl-cert-snakeoil.key"

  # initdb copies this sample into PGDATA, so every new cluster listens on
  # all interfaces without the entrypoint editing postgresql.conf.
  local sample=$rootfs/usr/share/postgresql/$PG_MAJOR/postgresql.conf.sample
  grep -q "^#listen_addresses = 'localhost'" "$sample" ||
    die "listen_addresses line not found in $sample; update the recipe"
  sed -i "s/^#listen_addresses = 'localhost'/listen_addresses = '*'/" "$sample"

  install -m 755 "$RECIPES_DIR/postgres/docker-entrypoint.sh" \
    "$rootfs/usr/local/bin/docker-entrypoint.sh"
  mkdir -p "$rootfs/docker-entrypoint-initdb.d" "$rootfs/var/lib/postgresql/data"
  debian_chroot "$rootfs" sh -c 'chown -R postgres:postgres /var/lib/postgresql &&
    chmod 700 /var/lib/postgresql/data &&
    mkdir -p /var/run/postgresql &&
    chown postgres:postgres /var/run/postgresql &&
    chmod 3777 /var/run/postgresql'
  debian_trim "$rootfs"

  oci_layer "$layout" "$rootfs"
  # SIGINT is postgres's "fast" shutdown: it rolls back open transactions
  # and exits cleanly instead of waiting for clients to disconnect.
  local config
  config=$(jq -cn --arg path "$DEBIAN_PATH:/usr/lib/postgresql/$PG_MAJOR/bin" \
    --arg major "$PG_MAJOR" '{
    Env: [$path, "LANG=C.UTF-8", "PG_MAJOR=\($major)",
      "PGDATA=/var/lib/postgresql/data"],
    Entrypoint: ["docker-entrypoint.sh"],
    Cmd: ["postgres"],
    ExposedPorts: {"5432/tcp": {}},
    StopSignal: "SIGINT"
  }')
  oci_image "$layout" "$DEBIAN_ARCH" "$config"
  oci_tag "$layout" "$MANIFEST_DESC"
}
