# Stand-in for python:3.13-slim (see README.md). Built by build.sh only.
FROM standin/debian:trixie

SHELL ["/bin/sh", "-eu", "-c"]
COPY host-ca.crt /usr/local/share/ca-certificates/host-ca.crt
# hadolint ignore=DL3008
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        ca-certificates python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > /etc/pip.conf \
    && python3 -m venv /usr/local/python
ENV PATH=/usr/local/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8
LABEL org.lambda-container-images.standin="true"
CMD ["python3"]
