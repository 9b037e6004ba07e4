#!/bin/bash
# Docker mode: the mariadb image's entrypoint sources this after creating MARIADB_USER, which it
# grants MARIADB_DATABASE only; the ETL loads the warehouse as the same user. (Host mode: tools/stack.py.)
docker_process_sql <<<"GRANT SELECT, INSERT, UPDATE ON cafe_dw.* TO '${MARIADB_USER}'@'%';"
