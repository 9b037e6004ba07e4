#!/bin/bash
# Docker mode: the mariadb image's entrypoint sources this (it is not executable on purpose: an
# executable script would run as its own process, without docker_process_sql) after creating
# MARIADB_USER, which it grants MARIADB_DATABASE only; the ETL loads the warehouse as the same user.
# (Host mode: stack/host_mode.py.)
docker_process_sql <<<"GRANT SELECT, INSERT, UPDATE ON cafe_dw.* TO '${MARIADB_USER}'@'%';"
