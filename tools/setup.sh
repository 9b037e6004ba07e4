#!/usr/bin/env bash
# One-time set-up from a fresh clone: the project virtualenv, the Lambda runtime interface
# emulator and, when no Docker engine will run the stack, a MariaDB server.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON_BIN="${PYTHON_BIN:-python3}"

# .venv (the plane, the tests, the tooling) installs requirements-dev.lock with hashes required, through
# uv, which pip installs first from tools/uv-bootstrap.lock (hashes required too). The locks are
# made by lambda_local/environments/locks.py (docs/develop.md#locked-requirements).
if [ ! -x .venv/bin/python ]; then
  echo "==> creating the virtualenv .venv (Python dependencies from requirements-dev.lock, about 10 s)"
  "$PYTHON_BIN" -m venv --without-pip .venv  # uv installs pip too (requirements-dev.lock)
fi
uv_pin="$(sed -n 's/^uv==\([^ ]*\).*/\1/p' tools/uv-bootstrap.lock)"
if [ "$(.venv/bin/uv --version 2>/dev/null | cut -d' ' -f2)" != "$uv_pin" ]; then
  echo "==> installing uv $uv_pin into .venv (tools/uv-bootstrap.lock, hashes required)"
  # .venv's own pip if it has one, else this Python's pip (22.3+) aimed at .venv, else ensurepip.
  if .venv/bin/python -m pip --version >/dev/null 2>&1; then
    pip=(.venv/bin/python -m pip)
  elif "$PYTHON_BIN" -m pip --python .venv/bin/python --version >/dev/null 2>&1; then
    pip=("$PYTHON_BIN" -m pip --python .venv/bin/python)
  else
    .venv/bin/python -m ensurepip --default-pip >/dev/null
    pip=(.venv/bin/python -m pip)
  fi
  "${pip[@]}" install --quiet --disable-pip-version-check --require-hashes --no-deps --only-binary :all: \
    -r tools/uv-bootstrap.lock
fi
if [ -n "${CI:-}" ]; then
  # CI installs what is committed: a lock stale against its requirements fails here, named.
  .venv/bin/python -m lambda_local.environments.locks check
else
  # A changed requirements.txt, or a new function: re-lock what it touches (one line per lock).
  .venv/bin/python -m lambda_local.environments.locks ensure
fi
lock_digest="$(.venv/bin/python -c 'import hashlib; print(hashlib.sha256(open("requirements-dev.lock", "rb").read()).hexdigest())')"
if [ "$(cat .venv/.installed 2>/dev/null)" != "$lock_digest" ]; then
  if [ -f .venv/.installed ]; then
    echo "==> requirements-dev.lock changed: updating .venv to it"
  fi
  .venv/bin/uv pip sync --quiet --require-hashes --python .venv/bin/python requirements-dev.lock
  echo "$lock_digest" > .venv/.installed
else
  echo "==> virtualenv .venv is up to date"
fi

tools/install_rie.sh

# Host mode needs a MariaDB server: when forced (STACK_MODE=host), or chosen because no engine answers.
if [ "${STACK_MODE:-}" = "host" ] || { [ "${STACK_MODE:-}" != "docker" ] && ! { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }; }; then
  if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then
    echo "==> MariaDB server present"
  elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> no Docker engine: installing mariadb-server with apt-get for host mode"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
  else
    echo "No Docker engine and no MariaDB server: install one of them." >&2
    echo "  Debian/Ubuntu: sudo apt-get install mariadb-server (host mode runs on Linux; elsewhere use Docker mode)" >&2
    exit 1
  fi
  # Host mode runs each function on its image's Python (one line: which, or how to get it).
  .venv/bin/python -m lambda_local.environments.function_envs find || true
fi
# The weather page's test drives a real browser: Debian's headless Chromium and its driver.
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  echo "==> Chromium and chromedriver present"
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing chromium and chromium-driver with apt-get (the weather page's browser test)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
else
  echo "Chromium and chromedriver are missing: the weather page's browser test will fail." >&2
  echo "  Debian/Ubuntu: sudo apt-get install chromium chromium-driver" >&2
fi
echo "==> set-up complete"
