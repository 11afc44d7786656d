#!/bin/bash
# Entrypoint of the postgres test image. Honours the environment contract of
# Docker Hub's postgres image that tests rely on: an empty PGDATA is
# initialised once from POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB,
# then the server runs in the foreground as user postgres.
set -Eeuo pipefail

die() {
  echo "docker-entrypoint.sh: error: $*" >&2
  exit 1
}

# Started as root: fix ownership of the data and socket directories, which
# a fresh volume or tmpfs gives to root, then run this script again as
# postgres (the server refuses to run as root).
drop_privileges() {
  mkdir -p "$PGDATA" /var/run/postgresql
  find "$PGDATA" \! -user postgres -exec chown postgres:postgres {} +
  chmod 700 "$PGDATA"
  chown postgres:postgres /var/run/postgresql
  chmod 3777 /var/run/postgresql
  exec env HOME=/var/lib/postgresql \
    setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
}

init_cluster() {
  local auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  if [[ -z ${POSTGRES_PASSWORD:-} && $auth != trust ]]; then
    die "the database is uninitialized and POSTGRES_PASSWORD is not set." \
      "Set POSTGRES_PASSWORD to a non-empty value for the superuser, or set" \
      "POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without one."
  fi

  # The password goes through a private file, not the command line, where
  # any process could read it from /proc.
  local -a pw_args=()
  local pwfile=
  if [[ -n ${POSTGRES_PASSWORD:-} ]]; then
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    pw_args=(--pwfile="$pwfile")
  fi
  # Local (socket) connections are trusted as in the official image; every
  # TCP connection, including from 127.0.0.1, must authenticate.
  # POSTGRES_INITDB_ARGS is split into words on purpose, as upstream does.
  # shellcheck disable=SC2086
  initdb --username="$POSTGRES_USER" "${pw_args[@]}" \
    --auth-local=trust --auth-host="$auth" ${POSTGRES_INITDB_ARGS:-}
  [[ -n $pwfile ]] && rm -f "$pwfile"
  printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

  # A server on the socket only, so nothing can connect over TCP before the
  # database exists.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
  if [[ $POSTGRES_DB != postgres ]]; then
    psql -v ON_ERROR_STOP=1 --username="$POSTGRES_USER" --dbname=postgres \
      --set=db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    # shellcheck disable=SC1090 # user-supplied init scripts
    case $f in
      *.sh) echo "running $f" && . "$f" ;;
      *.sql) psql -v ON_ERROR_STOP=1 --username="$POSTGRES_USER" \
        --dbname="$POSTGRES_DB" -f "$f" ;;
      *) [[ -e $f ]] && echo "ignoring $f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  echo "PostgreSQL init process complete; ready for start up."
}

main() {
  # Flags alone mean "postgres with these flags", as in the official image.
  [[ ${1:-} == -* ]] && set -- postgres "$@"
  [[ ${1:-} == postgres ]] || exec "$@"

  export PGDATA=${PGDATA:-/var/lib/postgresql/data}
  export POSTGRES_USER=${POSTGRES_USER:-postgres}
  export POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}

  ((EUID != 0)) || drop_privileges "$@"
  [[ -s $PGDATA/PG_VERSION ]] || init_cluster
  exec "$@"
}

main "$@"
