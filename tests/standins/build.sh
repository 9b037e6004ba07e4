#!/usr/bin/env bash
# `make ci-images`: builds the stand-in images (see README.md) for a machine that cannot pull
# from container registries. Skips an image that is already there; refuses to replace an image
# that is not a stand-in (a real pull), so it never shadows the real thing.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SUITE="${STANDIN_SUITE:-trixie}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
BASE="standin/debian:$SUITE"

log() { echo "==> $*"; }
pin() { sed -n "s/^$1==\([^ ]*\).*/\1/p" "$ROOT/$2" | head -n1; }

have() { docker image inspect "$1" >/dev/null 2>&1; }
is_standin() { [ "$(docker image inspect --format '{{index .Config.Labels "org.lambda-container-images.standin"}}' "$1" 2>/dev/null)" = "true" ]; }

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
trap 'rm -rf "$context"' EXIT
cp "$HERE"/*.Dockerfile "$HERE"/*.sh "$context/"
cp "$CA_BUNDLE" "$context/host-ca.crt"
RIE="${RIE_BINARY:-$ROOT/.cache/bin/aws-lambda-rie}"
[ -x "$RIE" ] || "$ROOT/tools/install_rie.sh"
cp "$RIE" "$context/aws-lambda-rie"

# name, Dockerfile, build args (in build order: moto builds on python:3.13-slim)
build() {
  local name="$1" dockerfile="$2"
  shift 2
  if have "$name"; then
    if is_standin "$name"; then
      log "$name: stand-in present"
      return 0
    fi
    log "$name: a real image is present; not replacing it"
    return 0
  fi
  log "building the stand-in $name"
  local started=$SECONDS
  docker build --quiet --file "$context/$dockerfile" --tag "$name" "$@" "$context" >/dev/null
  log "built $name in $((SECONDS - started))s ($(docker image inspect --format '{{.Size}}' "$name" | awk '{printf "%.0f MB", $1/1e6}'))"
}

build public.ecr.aws/lambda/python:3.13 lambda-python.Dockerfile \
  --build-arg "AWSLAMBDARIC_VERSION=$(pin awslambdaric requirements-dev.txt)" \
  --build-arg "BOTO3_VERSION=$(pin boto3 lambda_local/requirements.txt)"
build python:3.13-slim python-slim.Dockerfile
build mariadb:10.11 mariadb.Dockerfile
build motoserver/moto:5.2.5 moto.Dockerfile --build-arg "MOTO_VERSION=$(pin 'moto\[server\]' requirements-dev.txt)"
