#!/usr/bin/env bash
# One-time set-up from a fresh clone: the project virtualenv, the Lambda runtime interface
# emulator and, when no Docker engine will run the stack, a MariaDB server.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON_BIN="${PYTHON_BIN:-python3}"

stale=""
for requirements in requirements-dev.txt shared/requirements.txt lambda_local/requirements.txt functions/*/requirements.txt; do
  if [ ! -f .venv/.installed ] || [ "$requirements" -nt .venv/.installed ]; then stale=yes; fi
done
if [ -n "$stale" ]; then
  if [ -x .venv/bin/python ]; then
    echo "==> a requirements file changed: updating the Python dependencies in .venv"
  else
    echo "==> creating the virtualenv .venv and installing Python dependencies (about a minute)"
  fi
  "$PYTHON_BIN" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements-dev.txt
  touch .venv/.installed
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
