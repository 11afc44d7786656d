#!/usr/bin/env bash
# Pushes an OCI layout written by build.sh to a registry.
#
# usage: test/images/push.sh LAYOUT_DIR HOST:PORT/NAME:TAG
#
# The registry is assumed to be a local test registry over plain HTTP, so
# TLS verification is off. An image index is pushed with all its platforms.
set -euo pipefail

die() {
  echo "push.sh: $*" >&2
  exit 1
}

(($# == 2)) || die "usage: test/images/push.sh LAYOUT_DIR HOST:PORT/NAME:TAG"
layout=$1 dest=$2
[[ -f $layout/index.json ]] ||
  die "$layout is not an OCI layout (no index.json); build it with build.sh"
[[ $dest == */*:* ]] ||
  die "destination \`$dest' must look like HOST:PORT/NAME:TAG"
command -v skopeo >/dev/null || die "\`skopeo' not found; apt-get install skopeo"

# Without --all skopeo would copy only the host's platform out of an index.
skopeo copy --all --quiet --dest-tls-verify=false \
  "oci:$layout" "docker://$dest"
