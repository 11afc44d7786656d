#!/usr/bin/env bash
# Installs what bench/compare needs beyond scripts/setup.sh: Debian's
# docker.io (dockerd, containerd, runc) for testcontainers to run on, and
# the DejaVu fonts the chart's text is drawn in. Nothing is configured or
# started here: the benchmark runs its own dockerd on a private socket and
# data directory and stops it at the end. A no-op when all is installed.
set -euo pipefail

packages=(docker.io fonts-dejavu-core)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$package")
done
((${#missing[@]})) || exit 0

sudo=""
[[ $(id -u) == 0 ]] || sudo="sudo"
echo "install-docker: installing ${missing[*]}" >&2
$sudo apt-get update -qq
# docker.io would start a system dockerd on /var/run/docker.sock with
# /var/lib/docker; the benchmark must neither create nor touch those, so no
# package may start a service while installing.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
