#!/usr/bin/env bash
# Prepares a Debian 12 machine to run supermachine's examples and tests:
# system packages, npm dependencies, then the guest kernel, agent and
# initramfs (cached by input hash, so a second run takes about a second).
# Idempotent; run as root or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  qemu-system-x86 qemu-utils util-linux e2fsprogs
  docker-registry skopeo apache2-utils openssl debootstrap jq
  linux-source-6.1 busybox-static flex bison libelf-dev bc cpio xz-utils
  build-essential
  # The benchmark chart's text; a test renders it again and compares.
  fonts-dejavu-core
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) == 0 ]] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  # docker-registry's package starts a service whose default config listens
  # on every interface; the tests run their own on loopback, so no package
  # may start a service while installing.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    trap '$sudo rm -f "$policy"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

for tool in node npm go; do
  command -v "$tool" >/dev/null || { echo "setup: $tool is required but not installed" >&2; exit 1; }
done

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

bash scripts/build-guest.sh
