#!/usr/bin/env bash
# Serves the example suites' images from a registry on 127.0.0.1:5000.
#
# A real project pulls postgres and redis from Docker Hub; this machine cannot
# reach it, so the examples use images built from Debian packages
# (test/images/) and pushed to Debian's docker-registry on loopback. The
# registry keeps running in the background (its pid in the cache directory)
# so later runs find it; starting it again is a no-op.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
addr=${SUPERMACHINE_EXAMPLE_REGISTRY:-127.0.0.1:5000}
state=${XDG_CACHE_HOME:-$HOME/.cache}/supermachine/example-registry
mkdir -p "$state"

if ! curl -fsS "http://$addr/v2/" >/dev/null 2>&1; then
  cat >"$state/config.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $state/data
http:
  addr: $addr
  secret: example-registry-on-loopback
YAML
  nohup /usr/bin/docker-registry serve "$state/config.yml" >"$state/registry.log" 2>&1 &
  echo $! >"$state/registry.pid"
  for _ in $(seq 100); do
    curl -fsS "http://$addr/v2/" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "http://$addr/v2/" >/dev/null || {
    echo "example-registry.sh: the registry did not start; see $state/registry.log" >&2
    exit 1
  }
  echo "example-registry.sh: serving on $addr (pid $(cat "$state/registry.pid"))" >&2
fi

for name in postgres redis; do
  layout=$(bash "$root/test/images/build.sh" "$name" | tail -n 1)
  bash "$root/test/images/push.sh" "$layout" "$addr/$name:test"
done
