#!/usr/bin/env bash
# Installs the real AWS Lambda runtime interface emulator into .cache/bin/aws-lambda-rie.
# 1. `go install` of the pinned version where Go and the module proxy serve it;
# 2. else the official binary that AWS vendors in the aws-sam-cli wheel (PyPI), pinned;
# 3. else the GitHub release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
RIE_VERSION="${RIE_VERSION:-v1.37}"
SAM_CLI_VERSION="${SAM_CLI_VERSION:-1.170.0}"
BIN_DIR="$PWD/.cache/bin"
TARGET="$BIN_DIR/aws-lambda-rie"
PY="${PYTHON:-.venv/bin/python}"

if [ -x "$TARGET" ]; then
  echo "==> aws-lambda-rie already installed at .cache/bin"
  exit 0
fi
mkdir -p "$BIN_DIR"
case "$(uname -m)" in
  x86_64 | amd64) arch=x86_64 release_asset=aws-lambda-rie ;;
  aarch64 | arm64) arch=arm64 release_asset=aws-lambda-rie-arm64 ;;
  *) echo "unsupported architecture $(uname -m) for aws-lambda-rie" >&2; exit 1 ;;
esac

if command -v go >/dev/null 2>&1; then
  echo "==> building aws-lambda-rie $RIE_VERSION with go install"
  if GOBIN="$BIN_DIR" timeout 300 go install "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$RIE_VERSION" 2>/dev/null; then
    exit 0
  fi
  echo "    go install could not fetch the module; trying the binary shipped in aws-sam-cli"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "==> fetching aws-lambda-rie from the aws-sam-cli $SAM_CLI_VERSION wheel"
if "$PY" -m pip download --quiet --no-deps --dest "$tmp" "aws-sam-cli==$SAM_CLI_VERSION" 2>/dev/null; then
  "$PY" - "$tmp" "$arch" "$TARGET" <<'PYEOF'
import glob, shutil, sys, zipfile
tmp, arch, target = sys.argv[1:]
wheel = glob.glob(f"{tmp}/aws_sam_cli-*.whl")[0]
with zipfile.ZipFile(wheel) as zf, zf.open(f"samcli/local/rapid/aws-lambda-rie-{arch}") as src, open(target, "wb") as dst:
    shutil.copyfileobj(src, dst)
PYEOF
  chmod +x "$TARGET"
  exit 0
fi

echo "==> downloading the aws-lambda-rie release binary"
curl -fsSL -o "$TARGET" "https://github.com/aws/aws-lambda-runtime-interface-emulator/releases/latest/download/$release_asset"
chmod +x "$TARGET"
