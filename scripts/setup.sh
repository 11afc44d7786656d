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

# shellcheck source=scripts/lib-apt.sh
source scripts/lib-apt.sh
apt_install_missing setup "${packages[@]}"

for tool in node npm go; do
  command -v "$tool" >/dev/null || { echo "setup: $tool is required but not installed" >&2; exit 1; }
done

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
# Vitest 3.2, the oldest the plugin supports, beside the repository's own 4.x
# for test/integration to run the plugin's fixture project under.
vitest3=test/fixtures/vitest3
if [[ ! -d $vitest3/node_modules ]] ||
  [[ $vitest3/package-lock.json -nt $vitest3/node_modules/.package-lock.json ]]; then
  echo "setup: npm ci in $vitest3"
  npm ci --prefix "$vitest3" --no-audit --no-fund --loglevel=error
fi

bash scripts/build-guest.sh
