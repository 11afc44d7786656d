# shellcheck shell=bash
# The Debian base every service image starts from: debootstrap's minbase
# variant of bookworm, trimmed, kept as a tarball in the cache. It has its
# own hash (this file and the apt sources) so that editing a recipe or the
# other helpers never repeats the debootstrap.

# debootstrap takes minutes, so its result is cached by the hash of this
# file and the host's apt sources; service recipes only pay for apt-get.
debian_base_tarball() {
  local hash
  hash=$({ cat "$LIB_DIR/debian-base.sh"; debian_sources; } |
    sha256sum | cut -c1-12)
  local tarball=$CACHE_ROOT/base-bookworm-minbase-$hash.tar
  if [[ -f $tarball ]]; then
    echo "$tarball"
    return
  fi

  local mirror
  mirror=$(debian_mirror debian)
  log "debootstrap bookworm from $mirror (takes a few minutes)"
  # Inside the image's work dir, so a failed debootstrap is cleaned up
  # with the rest of the build.
  local tmp
  tmp=$(mktemp -d "$WORK/base.XXXXXX")
  debootstrap --variant=minbase bookworm "$tmp/rootfs" "$mirror" >&2 ||
    die "debootstrap failed; see the log above"

  rm -f "$tmp/rootfs/etc/apt/sources.list"
  debian_sources >"$tmp/rootfs/etc/apt/sources.list.d/debian.sources"
  cat >"$tmp/rootfs/etc/dpkg/dpkg.cfg.d/01-test-image-trim" <<'DPKG'
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
DPKG
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
    >"$tmp/rootfs/etc/apt/apt.conf.d/01-test-image-no-recommends"

  debian_remove_clutter "$tmp/rootfs"
  tar -C "$tmp/rootfs" --numeric-owner -cf "$tmp/base.tar" .
  rm -f "$CACHE_ROOT"/base-bookworm-minbase-*.tar
  mv "$tmp/base.tar" "$tarball"
  remove_tree "$tmp"
  echo "$tarball"
}

# Removes what a container never reads: apt indexes and caches (including
# the .debs debootstrap leaves behind), docs, man pages, translations, logs.
debian_remove_clutter() {
  local rootfs=$1
  rm -rf "${rootfs:?}"/var/lib/apt/lists/* "${rootfs:?}"/var/cache/apt/* \
    "${rootfs:?}"/var/cache/debconf/*-old "${rootfs:?}"/var/lib/dpkg/*-old \
    "${rootfs:?}"/usr/share/doc/* "${rootfs:?}"/usr/share/man/* \
    "${rootfs:?}"/usr/share/info/* "${rootfs:?}"/usr/share/lintian \
    "${rootfs:?}"/tmp/* "${rootfs:?}"/var/tmp/* \
    "${rootfs:?}"/var/log/*.log "${rootfs:?}"/var/log/apt/* \
    "${rootfs:?}"/var/cache/ldconfig/aux-cache
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 \
    ! -name locale.alias -exec rm -rf {} +
}

