"""`make lint`: ruff (format and check), mypy --strict, hadolint on every Dockerfile, every requirements lock
current, cfn-lint on template.yaml, compose.yaml against the compose spec."""

import os
import subprocess
import sys
from pathlib import Path

from lambda_local.providers import ROOT

BIN = Path(sys.executable).parent


def dockerfiles() -> list[str]:
    found = [*(ROOT / "images").rglob("*Dockerfile*"), *(ROOT / "tests" / "standins").rglob("*Dockerfile*")]
    return sorted(str(p.relative_to(ROOT)) for p in found)


def function_folders() -> list[Path]:
    return sorted(p for p in (ROOT / "functions").iterdir() if (p / "app.py").is_file())


MYPY = [str(BIN / "mypy"), "--strict", "--ignore-missing-imports"]
CHECKS: dict[str, list[str]] = {
    "ruff format": [str(BIN / "ruff"), "format", "--check", "."],
    "ruff check": [str(BIN / "ruff"), "check", "."],
    "mypy --strict shared, lambda_local, stack, tools": [*MYPY, "shared", "lambda_local", "stack", "tools"],
    # One run per function: every function has its own app.py, which one run would take for one module.
    **{
        f"mypy --strict functions/{p.name}": [*MYPY, *sorted(str(f.relative_to(ROOT)) for f in p.glob("*.py"))]
        for p in function_folders()
    },
    "hadolint": [str(BIN / "hadolint"), *dockerfiles()],
    "locks current": [sys.executable, "-m", "lambda_local.environments.locks", "check"],
    "cfn-lint": [str(BIN / "cfn-lint"), "template.yaml"],
    "compose spec": [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "compose.yaml"],
}


def main() -> None:
    failed = []
    for name, cmd in CHECKS.items():
        print(f"==> {name}", flush=True)
        env = None
        if name.startswith("mypy --strict functions/"):  # the function's own folder and shared/, as in its image
            env = {**os.environ, "MYPYPATH": f"{ROOT}{os.pathsep}{ROOT / 'functions' / name.rsplit('/', 1)[1]}"}
        if subprocess.run(cmd, cwd=ROOT, env=env).returncode != 0:
            failed.append(name)
    if failed:
        sys.exit(f"lint failed: {', '.join(failed)}")
    print("==> lint clean")


if __name__ == "__main__":
    main()
