#!/usr/bin/env bash
# A Docker engine with the Compose v2 and buildx plugins, and a local image registry, on a Debian
# machine without Docker Desktop (CI, or a user who wants Docker mode there). Idempotent.
#   - engine: Debian's docker.io (dockerd, containerd, runc), started in the background as root;
#   - docker-compose and docker-buildx CLI plugins, built with Go from the Go module proxy;
#   - registry (CNCF distribution) for `make push` against a local registry.
# The Go binaries are cached per version in $DOCKER_TOOLS_CACHE (not the Go build caches, which
# are gigabytes): a second run on the same machine takes seconds.
# Exit status 3: no engine can be had here (not root with nothing running, no docker.io package,
# no Go to build the plugins, or dockerd will not start); .ci/run then skips Docker mode, saying why.
set -euo pipefail

COMPOSE_VERSION="${COMPOSE_VERSION:-v2.40.3}"
BUILDX_VERSION="${BUILDX_VERSION:-v0.38.2}"
REGISTRY_VERSION="${REGISTRY_VERSION:-v3.1.2}"
CACHE="${DOCKER_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambda-container-images/docker-tools}"
# System-wide, so a user-specific DOCKER_CONFIG (a test logging in to a throwaway registry) still finds them.
PLUGINS="${DOCKER_CLI_PLUGINS:-/usr/local/lib/docker/cli-plugins}"

log() { echo "==> $*"; }

cannot() {
  echo "no Docker engine here: $*" >&2
  exit 3
}

ready() {
  docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1 && docker buildx version >/dev/null 2>&1 \
    && command -v registry >/dev/null 2>&1
}

if ready; then
  log "Docker engine $(docker version --format '{{.Server.Version}}'), compose $(docker compose version --short), $(docker buildx version | cut -d' ' -f1-2): ready"
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  cannot "installing the engine and its plugins needs root (or start an engine with Compose, buildx and registry yourself)"
fi

if ! command -v dockerd >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || cannot "no dockerd and no apt-get to install Debian's docker.io"
  log "installing the Docker engine (Debian's docker.io)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null || cannot "apt-get could not install docker.io"
fi

# Builds one Go tool into $CACHE/<name>-<version> unless that file is there already.
go_tool() {
  local name="$1" version="$2" out="$CACHE/$1-$2"
  shift 2
  if [ -x "$out" ]; then
    return 0
  fi
  command -v go >/dev/null 2>&1 || cannot "Go is needed to build $name (https://go.dev/dl)"
  mkdir -p "$CACHE"
  local gotmp
  gotmp="$(mktemp -d)"
  log "building $name $version with Go (a few minutes the first time; cached afterwards)"
  local started=$SECONDS
  # Private caches, removed afterwards: only the binary is kept. Go's output only when it fails.
  if ! GOPATH="$gotmp/gopath" GOCACHE="$gotmp/cache" GOFLAGS=-modcacherw "$@" "$gotmp" "$version" >"$gotmp/build.log" 2>&1; then
    tail -n 40 "$gotmp/build.log" >&2
    echo "building $name $version failed" >&2
    exit 1
  fi
  mv "$gotmp/bin/$name" "$out"
  rm -rf "$gotmp"
  log "built $name $version in $((SECONDS - started))s"
}

build_compose() {
  # Compose >= 2.35 cannot be `go install`ed (its go.mod has exclude directives): build in the module.
  local tmp="$1" version="$2"
  local dir
  dir="$(GOPATH="$tmp/gopath" GOCACHE="$tmp/cache" go mod download -json "github.com/docker/compose/v2@$version" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  mkdir -p "$tmp/bin"
  (cd "$dir" && GOPATH="$tmp/gopath" GOCACHE="$tmp/cache" \
    go build -trimpath -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$version" -o "$tmp/bin/docker-compose" ./cmd)
}

build_buildx() {
  local tmp="$1" version="$2"
  # Without the version stamp buildx reports v0.0.0 and Compose refuses to build with it.
  GOBIN="$tmp/bin" go install -trimpath -ldflags "-s -w -X github.com/docker/buildx/version.Version=$version" \
    "github.com/docker/buildx/cmd/buildx@$version"
}

build_registry() {
  local tmp="$1" version="$2"
  GOBIN="$tmp/bin" go install -trimpath -ldflags "-s -w" "github.com/distribution/distribution/v3/cmd/registry@$version"
}

go_tool docker-compose "$COMPOSE_VERSION" build_compose
go_tool buildx "$BUILDX_VERSION" build_buildx
go_tool registry "$REGISTRY_VERSION" build_registry

mkdir -p "$PLUGINS"
install -m 0755 "$CACHE/docker-compose-$COMPOSE_VERSION" "$PLUGINS/docker-compose"
install -m 0755 "$CACHE/buildx-$BUILDX_VERSION" "$PLUGINS/docker-buildx"
install -m 0755 "$CACHE/registry-$REGISTRY_VERSION" /usr/local/bin/registry

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  mkdir -p /var/log
  # The engine outlives this script: it keeps no descriptor of its caller's but its log (a caller's
  # lock, e.g. `flock f make test-docker`, would otherwise stay held as long as the engine runs).
  setsid nohup dockerd </dev/null >/var/log/dockerd.log 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    tail -n 30 /var/log/dockerd.log >&2
    cannot "dockerd did not start (its log above)"
  fi
fi
log "Docker engine $(docker version --format '{{.Server.Version}}'), $(docker compose version --short 2>/dev/null | sed 's/^/compose /'), $(docker buildx version | cut -d' ' -f1-2)"
