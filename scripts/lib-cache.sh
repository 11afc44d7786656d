# shellcheck shell=bash
# Shared by kernel/build.sh and scripts/build-guest.sh; sourced, not run.
#
# Every build product lives in a content-addressed directory
#   ${XDG_CACHE_HOME:-$HOME/.cache}/supermachine/<kind>/<key>/
# where <key> is the sha256 of everything that went into it. A product is
# staged in a temporary directory beside its final place and renamed into
# place once complete, so an interrupted build never leaves a directory
# that looks finished.
#
# Convention for the scripts: progress goes to stderr, the one result a
# caller captures goes to stdout.

# shellcheck disable=SC2034 # used by the scripts that source this file
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/supermachine"
script_name=${script_name:-${0##*/}}

die() {
  printf '%s: error: %s\n' "$script_name" "$*" >&2
  exit 1
}

note() {
  printf '%s\n' "$*" >&2
}

# Missing prerequisites are collected and reported together, so a fresh
# machine needs one `apt-get install` rather than one per attempt.
missing_packages=()

require_command() { # COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || missing_packages+=("$2 (for $1)")
}

require_file() { # PATH PACKAGE
  [[ -e $1 ]] || missing_packages+=("$2 (for $1)")
}

check_requirements() {
  ((${#missing_packages[@]} == 0)) && return 0
  note "$script_name: error: missing build prerequisites:"
  printf '  %s\n' "${missing_packages[@]}" >&2
  local names=("${missing_packages[@]%% *}")
  note "Install them with: apt-get install" \
    "$(printf '%s\n' "${names[@]}" | sort -u | paste -sd' ')"
  exit 1
}

# Prints "<sha256> <name>" for a file. The name is given by the caller so
# that the key does not change when the checkout moves.
file_digest() { # NAME PATH
  printf '%s %s\n' "$(sha256sum <"$2" | cut -d' ' -f1)" "$1"
}

# Prints the sha256 of standard input.
digest() {
  sha256sum | cut -d' ' -f1
}

now() {
  printf '%s' "${EPOCHREALTIME/,/.}"
}

# Prints the time since START (from `now`) as "0.4s" or "6m12s".
elapsed_since() { # START
  awk -v a="$1" -v b="$(now)" 'BEGIN {
    s = b - a
    if (s < 60) printf "%.1fs", s
    else printf "%dm%02ds", s / 60, s % 60
  }'
}

# Takes an exclusive lock on a cache directory for the rest of the script,
# so that concurrent builds of one product do the work once and builds of
# different products do not fight over the CPUs.
lock_cache() { # DIR
  mkdir -p "$1"
  exec 9>"$1/.lock"
  flock 9
}

# Renames the staged directory STAGE to DEST, which must not exist. The
# modes are reset first: mktemp makes the stage private, and the umask of
# whoever built it should not decide who can boot the result.
publish() { # STAGE DEST
  chmod -R u=rwX,go=rX "$1"
  mv -T "$1" "$2"
}
