# shellcheck shell=bash disable=SC2034 # globals are read by build.sh and recipes
# Fetches Debian's busybox-static for any architecture and lays out a
# busybox rootfs like Docker Hub's busybox image (everything in /bin).

# apt runs with its own state directory and a one-architecture config so a
# foreign package can be downloaded without `dpkg --add-architecture`, which
# would change the build host. The lists are kept in the cache so later
# builds only revalidate them.
fetch_busybox_deb() {
  local arch=$1 dest=$2
  local state=$CACHE_ROOT/apt/$arch
  mkdir -p "$state/lists/partial" "$state/archives/partial" "$state/sources"
  debian_sources >"$state/sources/debian.sources"
  local -a opts=(
    -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
    -o "Dir::State=$state" -o "Dir::State::Lists=$state/lists"
    -o "Dir::State::status=/dev/null"
    -o "Dir::Cache=$state" -o "Dir::Cache::archives=$state/archives"
    -o "Dir::Etc::sourcelist=/dev/null"
    -o "Dir::Etc::sourceparts=$state/sources"
    -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root" -qq
  )
  apt-get "${opts[@]}" update >&2 ||
    die "apt-get update for $arch failed; check the mirror in /etc/apt/sources.list.d"
  (cd "$dest" && apt-get "${opts[@]}" download "busybox-static:$arch" >&2) ||
    die "could not download busybox-static:$arch"
}

# Prints the applet names. The list is read from the host's busybox-static
# of the same Debian release because a foreign binary cannot run here;
# Debian builds the same applet set for every architecture.
busybox_applets() {
  local host_busybox=$1
  "$host_busybox" --list | grep -vx busybox | LC_ALL=C sort
}

make_busybox_rootfs() {
  local arch=$1 rootfs=$2 work=$3
  mkdir -p "$work/deb-$arch"
  fetch_busybox_deb "$arch" "$work/deb-$arch"
  dpkg-deb -x "$work"/deb-"$arch"/busybox-static_*.deb "$work/deb-$arch/x"

  local host_arch
  host_arch=$(dpkg --print-architecture)
  if [[ $arch != "$host_arch" && ! -x $work/deb-$host_arch/x/bin/busybox ]]; then
    mkdir -p "$work/deb-$host_arch"
    fetch_busybox_deb "$host_arch" "$work/deb-$host_arch"
    dpkg-deb -x "$work"/deb-"$host_arch"/busybox-static_*.deb \
      "$work/deb-$host_arch/x"
  fi

  mkdir -p "$rootfs"/{bin,etc,root,tmp,home,var,proc,sys,dev,usr/sbin,usr/bin}
  chmod 1777 "$rootfs/tmp"
  chmod 700 "$rootfs/root"
  install -m 755 "$work/deb-$arch/x/bin/busybox" "$rootfs/bin/busybox"
  local applet
  for applet in $(busybox_applets "$work/deb-$host_arch/x/bin/busybox"); do
    ln -s busybox "$rootfs/bin/$applet"
  done

  # nobody is 65534 as in Docker Hub's busybox, so `User: nobody` resolves.
  cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
PASSWD
  cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
nobody:x:65534:
GROUP
}

readonly BUSYBOX_CONFIG='{
  "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  "Cmd": ["sh"]
}'
