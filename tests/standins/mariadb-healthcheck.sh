#!/bin/bash
# The two checks of the mariadb image's healthcheck.sh that compose.yaml uses:
#   --connect             the server accepts TCP connections
#   --innodb_initialized  InnoDB is up
set -uo pipefail
for check in "$@"; do
  case "$check" in
    --connect)
      mariadb-admin --protocol=tcp -h127.0.0.1 -uroot -p"${MARIADB_ROOT_PASSWORD:-}" ping >/dev/null 2>&1 || exit 1 ;;
    --innodb_initialized)
      [ "$(mariadb --socket=/run/mysqld/mysqld.sock -uroot -p"${MARIADB_ROOT_PASSWORD:-}" -N -e \
        "SELECT 1 FROM information_schema.ENGINES WHERE engine = 'InnoDB' AND support IN ('YES', 'DEFAULT')" 2>/dev/null)" = 1 ] || exit 1 ;;
    *) echo "healthcheck.sh: unsupported check $check" >&2; exit 2 ;;
  esac
done
