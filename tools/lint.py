"""`make lint`: ruff (format and check), hadolint on every Dockerfile, cfn-lint on template.yaml, compose.yaml
against the compose spec."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def dockerfiles() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "images").rglob("*Dockerfile*"))


CHECKS: dict[str, list[str]] = {
    "ruff format": [str(BIN / "ruff"), "format", "--check", "."],
    "ruff check": [str(BIN / "ruff"), "check", "."],
    "hadolint": [str(BIN / "hadolint"), *dockerfiles()],
    "cfn-lint": [str(BIN / "cfn-lint"), "template.yaml"],
    "compose spec": [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "compose.yaml"],
}


def main() -> None:
    failed = []
    for name, cmd in CHECKS.items():
        print(f"==> {name}", flush=True)
        if subprocess.run(cmd, cwd=ROOT).returncode != 0:
            failed.append(name)
    if failed:
        sys.exit(f"lint failed: {', '.join(failed)}")
    print("==> lint clean")


if __name__ == "__main__":
    main()
