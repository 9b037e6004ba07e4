# Stand-in for mariadb:10.11 (see README.md). Built by build.sh only.
FROM standin/debian:trixie

SHELL ["/bin/sh", "-eu", "-c"]
# hadolint ignore=DL3008
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        mariadb-server mariadb-client \
    && rm -rf /var/lib/apt/lists/* /var/lib/mysql \
    && mkdir -p /var/lib/mysql /run/mysqld /docker-entrypoint-initdb.d \
    && chown mysql:mysql /var/lib/mysql /run/mysqld
COPY --chmod=0755 mariadb-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
COPY --chmod=0755 mariadb-healthcheck.sh /usr/local/bin/healthcheck.sh
LABEL org.lambda-container-images.standin="true"
VOLUME /var/lib/mysql
EXPOSE 3306
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["mariadbd"]
