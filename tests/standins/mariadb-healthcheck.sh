#!/bin/bash
# The two checks of the mariadb image's healthcheck.sh that compose.yaml uses:
#   --connect             the server accepts TCP connections
#   --innodb_initialized  InnoDB is up
set -uo pipefail
CNF=/var/lib/mysql/.my-healthcheck.cnf
creds=(-uroot -p"${MARIADB_ROOT_PASSWORD:-}")
[ -r "$CNF" ] && creds=(--defaults-extra-file="$CNF")
for check in "$@"; do
  case "$check" in
    --connect)
      mariadb-admin "${creds[@]}" --protocol=tcp -h127.0.0.1 ping >/dev/null 2>&1 || exit 1 ;;
    --innodb_initialized)
      [ "$(mariadb "${creds[@]}" --socket=/run/mysqld/mysqld.sock -N -e \
        "SELECT 1 FROM information_schema.ENGINES WHERE engine = 'InnoDB' AND support IN ('YES', 'DEFAULT')" 2>/dev/null)" = 1 ] || exit 1 ;;
    *) echo "healthcheck.sh: unsupported check $check" >&2; exit 2 ;;
  esac
done
