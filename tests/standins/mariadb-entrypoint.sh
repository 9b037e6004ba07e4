#!/bin/bash
# The part of the mariadb image's entrypoint contract compose.yaml relies on: on an empty data
# directory, create the root password, MARIADB_DATABASE and MARIADB_USER (all privileges on that
# database), then run /docker-entrypoint-initdb.d/*.sql and *.sh (which may call
# docker_process_sql), all against a server listening on its socket only; then run the server.
set -euo pipefail
DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock

docker_process_sql() {
  mariadb --protocol=socket --socket="$SOCKET" -uroot ${MARIADB_ROOT_PASSWORD:+-p"$MARIADB_ROOT_PASSWORD"} \
    ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"} "$@"
}

sql_string() { printf "'%s'" "${1//\'/\'\'}"; }

initialise() {
  if [ -z "${MARIADB_ROOT_PASSWORD:-}" ] && [ -n "${MARIADB_RANDOM_ROOT_PASSWORD:-}" ]; then
    MARIADB_ROOT_PASSWORD="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
    echo "[entrypoint] GENERATED ROOT PASSWORD: $MARIADB_ROOT_PASSWORD"
  fi
  : "${MARIADB_ROOT_PASSWORD:?MARIADB_ROOT_PASSWORD or MARIADB_RANDOM_ROOT_PASSWORD must be set}"
  echo "[entrypoint] initialising the database directory"
  mariadb-install-db --user=mysql --datadir="$DATADIR" --auth-root-authentication-method=normal \
    --skip-test-db >/dev/null
  mariadbd --user=mysql --datadir="$DATADIR" --skip-networking --socket="$SOCKET" &
  local pid=$!
  for _ in $(seq 1 60); do
    mariadb-admin --socket="$SOCKET" -uroot ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  local root_pw
  root_pw="$(sql_string "$MARIADB_ROOT_PASSWORD")"
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    echo "DROP USER IF EXISTS ''@'localhost', ''@'$(hostname)';"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $root_pw;"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY $root_pw; GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [ -n "${MARIADB_DATABASE:-}" ]; then
      echo "CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;"
    fi
    if [ -n "${MARIADB_USER:-}" ]; then
      echo "CREATE USER '$MARIADB_USER'@'%' IDENTIFIED BY $(sql_string "${MARIADB_PASSWORD:?MARIADB_PASSWORD must be set}");"
      [ -n "${MARIADB_DATABASE:-}" ] && echo "GRANT ALL ON \`$MARIADB_DATABASE\`.* TO '$MARIADB_USER'@'%';"
    fi
  } | mariadb --socket="$SOCKET" -uroot
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) echo "[entrypoint] running $f"; docker_process_sql <"$f" ;;
      # As the real entrypoint: an executable script runs as its own process, any other is sourced.
      *.sh) if [ -x "$f" ]; then echo "[entrypoint] running $f"; "$f"; else echo "[entrypoint] sourcing $f"; . "$f"; fi ;;
      *) ;;
    esac
  done
  # As the real image: the healthcheck's credentials in the data directory, readable by root only.
  printf '[client]\nuser=root\npassword=%s\n' "$MARIADB_ROOT_PASSWORD" >"$DATADIR/.my-healthcheck.cnf"
  chmod 600 "$DATADIR/.my-healthcheck.cnf"
  mariadb-admin --socket="$SOCKET" -uroot -p"$MARIADB_ROOT_PASSWORD" shutdown
  wait "$pid" || true
  echo "[entrypoint] initialised"
}

if [ "${1:-}" = "mariadbd" ]; then
  if [ ! -d "$DATADIR/mysql" ]; then
    initialise
  fi
  exec "$@" --user=mysql --datadir="$DATADIR" --socket="$SOCKET" --bind-address=0.0.0.0
fi
exec "$@"
