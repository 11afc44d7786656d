#!/usr/bin/env bash
# Installs what bench/compare needs beyond scripts/setup.sh: Debian's
# docker.io (dockerd, containerd, runc) for testcontainers to run on, and
# the DejaVu fonts the chart's text is drawn in. Nothing is configured or
# started here: the benchmark runs its own dockerd on a private socket and
# data directory and stops it at the end. A no-op when all is installed.
set -euo pipefail

cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib-apt.sh
source scripts/lib-apt.sh
apt_install_missing install-docker docker.io fonts-dejavu-core
