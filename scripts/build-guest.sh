#!/usr/bin/env bash
# Builds what a supermachine VM boots and links it into guest/<arch>/:
#
#   vmlinux | Image    the kernel, from kernel/build.sh
#   initramfs.cpio     /init = the agent from agent/, plus busybox and,
#                      for the host's architecture, Debian's mke2fs
#   manifest.json      what went in, with sha256 sums
#
# usage: scripts/build-guest.sh [x86_64|arm64]   (default: the host's)
#
# Each part is cached under ${XDG_CACHE_HOME:-$HOME/.cache}/supermachine/
# by the sha256 of its inputs, so a run with nothing changed takes about a
# second. guest/<arch>/ holds symlinks into that cache.
#
# SUPERMACHINE_AGENT_DIR builds the agent from another Go module (default:
# <repo>/agent), which is how the image is tested without the real agent.
# Progress goes to stderr; stdout gets the path of guest/<arch>/.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC2034 # read by lib-cache.sh
script_name=scripts/build-guest.sh
# shellcheck source=scripts/lib-cache.sh
source "$repo/scripts/lib-cache.sh"

case $(uname -m) in
  x86_64) host_arch=x86_64 ;;
  aarch64 | arm64) host_arch=arm64 ;;
  *) host_arch= ;;
esac

(($# <= 1)) || die "usage: scripts/build-guest.sh [x86_64|arm64]"
arch=${1:-$host_arch}
[[ -n $arch ]] ||
  die "no default guest architecture for a $(uname -m) host; pass x86_64 or arm64"
case $arch in
  x86_64) go_arch=amd64 deb_arch=amd64 ;;
  arm64) go_arch=arm64 deb_arch=arm64 ;;
  *) die "unknown architecture \`$arch'; expected x86_64 or arm64" ;;
esac
native=false
[[ $arch == "$host_arch" ]] && native=true
agent_dir=${SUPERMACHINE_AGENT_DIR:-$repo/agent}

require_command go golang-go
require_command cpio cpio
require_command flock util-linux
require_command readelf binutils
if $native; then
  require_file /bin/busybox busybox-static
  require_file /sbin/mke2fs e2fsprogs
  require_command ldd libc-bin
else
  require_command apt-get apt
  require_command dpkg-deb dpkg
fi
check_requirements
[[ -f $agent_dir/go.mod ]] ||
  die "no Go module at $agent_dir (go.mod is missing); the agent is built" \
    "from agent/, or from SUPERMACHINE_AGENT_DIR when set"

total_started=$(now)

# A change to this script rebuilds the agent and the initramfs. The shared
# helpers only place files and are left out of the keys.
script_digest=$(file_digest scripts/build-guest.sh "$repo/scripts/build-guest.sh")

# Reports one component: "agent x86_64: cached (0123456789ab) in 0.0s PATH".
report() { # NAME STATE KEY STARTED PATH
  note "$1 $arch: $2 (${3:0:12}) in $(elapsed_since "$4") $5"
}

# Runs the command after `--` with a fresh staging directory as $stage, then
# renames the staging directory to <cache>/KIND/KEY. On failure the command's
# output is shown and the staging directory removed.
build_into_cache() { # KIND KEY -- COMMAND...
  local kind=$1 key=$2
  shift 3
  local dir="$cache_root/$kind"
  lock_cache "$dir"
  if [[ -d $dir/$key ]]; then
    return 0
  fi
  stage=$(mktemp -d "$dir/.work-${key:0:12}.XXXXXX")
  # Run as a job: inside an `if` condition, bash would ignore `set -e` in
  # the command, and a failing step would go unnoticed.
  "$@" >"$stage.log" 2>&1 &
  if ! wait $!; then
    note "$kind $arch: build failed:"
    cat "$stage.log" >&2
    rm -rf "$stage" "$stage.log"
    exit 1
  fi
  rm -f "$stage.log"
  publish "$stage" "$dir/$key"
}

# --- kernel ---------------------------------------------------------------

kernel_path=$("$repo/kernel/build.sh" "$arch")
linux_version=$(dpkg-query -W -f='${Version}' linux-source-6.1)

# --- agent ----------------------------------------------------------------

# The key covers the Go sources and module files only: a file pulled in
# with go:embed that is not a .go file does not change it.
started=$(now)
agent_key=$(
  printf 'arch %s\n' "$arch"
  go version
  printf '%s\n' "$script_digest"
  cd "$agent_dir"
  find . -path './.*' -prune -o -type f \
    \( -name '*.go' -o -name go.mod -o -name go.sum \) -printf '%P\n' |
    LC_ALL=C sort |
    while IFS= read -r file; do file_digest "agent/$file" "$file"; done
)
agent_key=$(digest <<<"$agent_key")
agent_path="$cache_root/agent/$agent_key/agent"

build_agent() {
  cd "$agent_dir"
  # -buildvcs=false keeps the commit id out of the binary, so the binary
  # depends only on what the key covers.
  CGO_ENABLED=0 GOOS=linux GOARCH=$go_arch \
    go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' \
    -o "$stage/agent" ./
}

if [[ -f $agent_path ]]; then
  report agent cached "$agent_key" "$started" "$agent_path"
else
  note "agent $arch: building (${agent_key:0:12}) ..."
  (build_into_cache agent "$agent_key" -- build_agent)
  report agent built "$agent_key" "$started" "$agent_path"
fi
agent_sha=$(sha256sum <"$agent_path" | cut -d' ' -f1)

# --- busybox --------------------------------------------------------------

# Debian's busybox-static for the guest architecture: the host's own copy
# when the architectures match, else the .deb fetched with a private apt
# index (no foreign architecture is added to the host).
fetch_foreign_busybox() {
  local apt_dir="$stage/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
  : >"$apt_dir/status"
  local apt=(apt-get -q
    -o "APT::Architecture=$deb_arch" -o "APT::Architectures::=$deb_arch"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir"
    -o "Dir::State::Status=$apt_dir/status" -o Debug::NoLocking=1
    -o APT::Sandbox::User=root)
  "${apt[@]}" update
  (cd "$stage" && "${apt[@]}" download busybox-static)
  local deb=("$stage"/busybox-static_*.deb)
  dpkg-deb -x "${deb[0]}" "$stage/root"
  dpkg-deb -f "${deb[0]}" Version >"$stage/version"
  mv "$stage/root/bin/busybox" "$stage/busybox"
  rm -rf "$apt_dir" "$stage/root" "${deb[@]}"
}

busybox_path=
busybox_deb_version=
if $native; then
  busybox_path=/bin/busybox
  busybox_deb_version=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null) ||
    die "/bin/busybox is not from busybox-static; apt-get install busybox-static"
elif [[ -f $cache_root/busybox/$deb_arch/busybox ]]; then
  busybox_path=$cache_root/busybox/$deb_arch/busybox
  busybox_deb_version=$(<"$cache_root/busybox/$deb_arch/version")
else
  started=$(now)
  note "busybox $arch: fetching busybox-static:$deb_arch ..."
  if (build_into_cache busybox "$deb_arch" -- fetch_foreign_busybox); then
    busybox_path=$cache_root/busybox/$deb_arch/busybox
    busybox_deb_version=$(<"$cache_root/busybox/$deb_arch/version")
    note "busybox $arch: fetched $busybox_deb_version in" \
      "$(elapsed_since "$started") $busybox_path"
  else
    note "busybox $arch: not available; the initramfs will have no" \
      "/bin/sh, only the agent"
  fi
fi
if [[ -n $busybox_path &&
  $(readelf -l "$busybox_path") == *"program interpreter"* ]]; then
  die "$busybox_path is dynamically linked; the initramfs has no libc." \
    "Install busybox-static instead of busybox."
fi
# "1:1.35.0-4+deb12u1+b1" -> "1.35.0"
busybox_version=${busybox_deb_version#*:}
busybox_version=${busybox_version%%-*}

# The applet names, one a line. A busybox for another architecture cannot
# run here, so its names are read from the table inside the binary, where
# they are stored sorted and NUL-separated, starting with "[" and "[[".
busybox_applets() {
  if $native; then
    "$busybox_path" --list
    return
  fi
  local offset
  offset=$(LC_ALL=C grep -m1 -aobP '\x00\[\x00\[\[\x00' "$busybox_path" |
    cut -d: -f1)
  [[ -n $offset ]] || return 1
  # awk reads to the end rather than quitting, so that no writer in the
  # pipeline dies of SIGPIPE.
  tail -c +"$((offset + 2))" "$busybox_path" | tr '\0' '\n' |
    awk '!length { done = 1 } !done'
}

# --- mke2fs ---------------------------------------------------------------

# The agent's `mkfs` runs /sbin/mke2fs, which busybox lacks. Debian's is
# dynamically linked, so it goes in with the libraries ldd names and the
# dynamic loader, each at the path ldd gives. Only the host's own copy is
# used: a foreign one would need its libraries fetched too, so a foreign
# guest has no mkfs (the agent then answers `mkfs` with ENOENT).
mke2fs_files=()
if $native; then
  mapfile -t mke2fs_files < <(
    printf '%s\n' /sbin/mke2fs
    ldd /sbin/mke2fs | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'
  )
else
  note "mke2fs $arch: not added; only a native guest can format disks"
fi

# --- initramfs ------------------------------------------------------------

started=$(now)
busybox_sha=none
[[ -n $busybox_path ]] && busybox_sha=$(sha256sum <"$busybox_path" | cut -d' ' -f1)
initramfs_key=$(
  printf 'arch %s\n' "$arch"
  printf 'agent %s\n' "$agent_sha"
  printf 'busybox %s %s\n' "$busybox_deb_version" "$busybox_sha"
  for file in "${mke2fs_files[@]}"; do file_digest "$file" "$file"; done
  printf '%s\n' "$script_digest"
)
initramfs_key=$(digest <<<"$initramfs_key")
initramfs_name=initramfs.cpio
initramfs_path="$cache_root/initramfs/$initramfs_key/$initramfs_name"

build_initramfs() {
  local root="$stage/root"
  mkdir -m 0755 "$root"
  (
    cd "$root"
    mkdir -m 0755 bin dev etc proc run sbin sys usr usr/bin usr/sbin var
    mkdir -m 0700 root
    mkdir -m 1777 tmp
    install -m 0755 "$agent_path" init
    # No device nodes: the kernel's built-in initramfs already holds
    # /dev/console, which is all that is needed before the agent mounts
    # devtmpfs, and creating nodes would need root.

    if [[ -n $busybox_path ]]; then
      install -m 0755 "$busybox_path" bin/busybox
      local applets
      applets=$(busybox_applets) || return 1
      grep -qx sh <<<"$applets" || {
        echo "no sh applet found in $busybox_path"
        return 1
      }
      while IFS= read -r applet; do
        [[ $applet == busybox ]] || ln -s busybox "bin/$applet"
      done <<<"$applets"
    fi

    local file
    for file in "${mke2fs_files[@]}"; do
      # -L copies what a library symlink points to, under the link's name.
      mkdir -p "./${file%/*}"
      cp -L "$file" "./$file"
      chmod 0755 "./$file"
    done

    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
      'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >etc/passwd
    printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >etc/group
    chmod 0644 etc/passwd etc/group

    # Fixed times, owners and order make the archive byte-for-byte
    # reproducible.
    find . -exec touch -h -d @0 {} +
    find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
      cpio -o -H newc -R 0:0 --reproducible --quiet >"$stage/$initramfs_name"
  )
  rm -rf "$root"
}

if [[ -f $initramfs_path ]]; then
  report initramfs cached "$initramfs_key" "$started" "$initramfs_path"
else
  note "initramfs $arch: building (${initramfs_key:0:12}) ..."
  (build_into_cache initramfs "$initramfs_key" -- build_initramfs)
  report initramfs built "$initramfs_key" "$started" "$initramfs_path"
fi

# --- guest/<arch>/ --------------------------------------------------------

# Each name is replaced by a rename, so a reader never sees it missing.
place() { # TARGET NAME
  ln -sfn "$1" "$guest_dir/.$2.new"
  mv -Tf "$guest_dir/.$2.new" "$guest_dir/$2"
}

guest_dir="$repo/guest/$arch"
mkdir -p "$guest_dir"
kernel_name=${kernel_path##*/}
place "$kernel_path" "$kernel_name"
place "$initramfs_path" "$initramfs_name"

kernel_sha=$(sha256sum <"$kernel_path" | cut -d' ' -f1)
initramfs_sha=$(sha256sum <"$initramfs_path" | cut -d' ' -f1)
busybox_json=null
[[ -n $busybox_path ]] && busybox_json="\"$busybox_version\""
cat >"$guest_dir/.manifest.json.new" <<EOF
{
  "arch": "$arch",
  "kernel": { "file": "$kernel_name", "sha256": "$kernel_sha" },
  "initramfs": { "file": "$initramfs_name", "sha256": "$initramfs_sha" },
  "agent": { "sha256": "$agent_sha" },
  "busybox": $busybox_json,
  "linux": "$linux_version"
}
EOF
mv -Tf "$guest_dir/.manifest.json.new" "$guest_dir/manifest.json"

note "guest $arch: ready in $(elapsed_since "$total_started") $guest_dir"
printf '%s\n' "$guest_dir"
