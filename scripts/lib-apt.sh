# shellcheck shell=bash
# Shared by scripts/setup.sh and bench/compare/install-docker.sh; sourced,
# not run.

# apt_install_missing LABEL PACKAGE...: installs those of the Debian packages
# not installed yet (apt-get update first), as root or through sudo; does
# nothing when all are there. No package may start a service while
# installing: docker-registry's would listen on every interface, docker.io's
# would start a system dockerd on /var/run/docker.sock; the tests and the
# benchmark start their own, on loopback and on private sockets.
apt_install_missing() {
  local label=$1
  shift
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" ||
      missing+=("$package")
  done
  ((${#missing[@]})) || return 0

  local sudo=""
  [[ $(id -u) == 0 ]] || sudo="sudo"
  echo "$label: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  local policy=/usr/sbin/policy-rc.d made_policy=""
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    made_policy=1
  fi
  local status=0
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || status=$?
  [[ -z $made_policy ]] || $sudo rm -f "$policy"
  return "$status"
}
