#!/usr/bin/env bash
# `make ci-images`: builds the stand-in images (see README.md) for a machine that cannot pull
# from container registries. Skips a stand-in built from the same files and pins (a fingerprint
# label), rebuilds one that is out of date, and never replaces an image that is not a stand-in (a
# real pull), so it never shadows the real thing.
set -euo pipefail
# COPY --chmod needs BuildKit, which an older docker CLI does not use by default.
export DOCKER_BUILDKIT=1
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SUITE="${STANDIN_SUITE:-trixie}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
BASE="standin/debian:$SUITE"

log() { echo "==> $*"; }
pin() { sed -n "s/^$1==\([^ ]*\).*/\1/p" "$ROOT/$2" | head -n1; }

have() { docker image inspect "$1" >/dev/null 2>&1; }
label() { docker image inspect --format "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null; }
is_standin() { [ "$(label "$1" org.lambda-container-images.standin)" = "true" ]; }

if ! docker info >/dev/null 2>&1; then
  echo "no Docker engine answers: start one first (tools/docker/install_engine.sh on Debian)" >&2
  exit 1
fi

if ! have "$BASE"; then
  command -v debootstrap >/dev/null 2>&1 || {
    log "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  rootfs="$(mktemp -d)"
  trap 'rm -rf "$rootfs"' EXIT
  log "debootstrap $SUITE (minbase) for the stand-in base image"
  started=$SECONDS
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >/dev/null
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import --change 'CMD ["/bin/bash"]' \
    --change 'LABEL org.lambda-container-images.standin=true' - "$BASE" >/dev/null
  rm -rf "$rootfs"
  log "imported $BASE in $((SECONDS - started))s"
fi

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT  # (the rootfs, if any, is gone by now)
cp "$HERE"/*.Dockerfile "$HERE"/*.sh "$context/"
cp "$CA_BUNDLE" "$context/host-ca.crt"
RIE="${RIE_BINARY:-$ROOT/.cache/bin/aws-lambda-rie}"
[ -x "$RIE" ] || "$ROOT/tools/install_rie.sh"
cp "$RIE" "$context/aws-lambda-rie"

# name, Dockerfile, build args (in build order: moto builds on python:3.13-slim)
build() {
  local name="$1" dockerfile="$2"
  shift 2
  # What the stand-in is made of: its Dockerfile, the scripts, the pins it is built with.
  local fingerprint
  fingerprint="$(cat "$HERE/$dockerfile" "$HERE"/*.sh <(printf '%s\n' "$@") | sha256sum | cut -c1-16)"
  if have "$name"; then
    if ! is_standin "$name"; then
      log "$name: a real image is present; not replacing it"
      return 0
    fi
    if [ "$(label "$name" org.lambda-container-images.fingerprint)" = "$fingerprint" ]; then
      log "$name: stand-in present and up to date"
      return 0
    fi
    log "$name: stand-in out of date"
  fi
  log "building the stand-in $name"
  local started=$SECONDS
  docker build --quiet --file "$context/$dockerfile" --tag "$name" \
    --label "org.lambda-container-images.fingerprint=$fingerprint" "$@" "$context" >/dev/null
  log "built $name in $((SECONDS - started))s ($(docker image inspect --format '{{.Size}}' "$name" | awk '{printf "%.0f MB", $1/1e6}'))"
}

build public.ecr.aws/lambda/python:3.13 lambda-python.Dockerfile \
  --build-arg "AWSLAMBDARIC_VERSION=$(pin awslambdaric requirements-dev.txt)" \
  --build-arg "BOTO3_VERSION=$(pin boto3 lambda_local/requirements.txt)"
build python:3.13-slim python-slim.Dockerfile
build mariadb:10.11 mariadb.Dockerfile
build motoserver/moto:5.2.5 moto.Dockerfile --build-arg "MOTO_VERSION=$(pin 'moto\[server\]' requirements-dev.txt)"
