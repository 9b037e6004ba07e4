"""Locked requirements: every environment installs exact versions with hashes required.

The user edits requirements.txt files (direct dependencies); `uv pip compile --generate-hashes`
turns them into locks, which pin every transitive dependency with the hashes of its files:

- requirements-dev.lock: the plane and the tests (.venv), from requirements-dev.txt,
  lambda_local/requirements.txt, shared/requirements.txt and every functions/*/requirements.txt
  (found by glob), for the Python versions pyproject.toml's requires-python allows;
- functions/<name>/requirements.lock: that function's image (and its host-mode virtualenv), from
  shared/requirements.txt and its own requirements.txt, for the Python of its image (the FROM of
  images/lambda-python.Dockerfile);
- lambda_local/requirements.lock: the plane's image (images/lambda-local.Dockerfile), from
  lambda_local/requirements.txt, for that image's Python;
- lambda_local/environments/host-runtime.lock: what host mode adds to each function's virtualenv
  (function_envs.py), from host-runtime.txt beside it, for the images' Python;
- tools/uv-bootstrap.lock: uv itself, copied from requirements-dev.lock, which tools/setup.sh
  installs with pip before anything else.

Each lock is resolved for every platform (`--universal`) and records in its header the Python it
was resolved for and a digest of each input's requirement lines (comments and blank lines aside),
so a stale lock is found without the network: `python -m lambda_local.environments.locks check`.
`ensure` re-locks what is stale or missing, keeping every pin the change does not touch; `make lock`
(`ensure --upgrade`) re-resolves everything to the newest versions the inputs allow.

Standard library only: tools/setup.sh runs it before the virtualenv has its packages.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lambda_local.logs import LOG
from lambda_local.settings import ROOT

FUNCTION_DOCKERFILE = "images/lambda-python.Dockerfile"
PLANE_DOCKERFILE = "images/lambda-local.Dockerfile"
DEV_LOCK = "requirements-dev.lock"
PLANE_LOCK = "lambda_local/requirements.lock"
UV_BOOTSTRAP = "tools/uv-bootstrap.lock"
HOST_RUNTIME = "lambda_local/environments/host-runtime"  # .txt, .lock: host mode's runtime in each function's env
DESCRIPTION = "Locked requirements: re-lock what is stale (ensure), or fail naming it (check)."
LOCK_NAME = "requirements.lock"

_FROM_PYTHON = re.compile(r"^FROM\s+(?:--\S+\s+)?\S*python:(\d+\.\d+)", re.IGNORECASE | re.MULTILINE)
_REQUIRES_PYTHON = re.compile(r">=\s*(\d+\.\d+)")
_HEADER = (
    "# Locked by `make lock` (uv pip compile --universal --generate-hashes) from the inputs below;\n"
    "# installed with hashes required. Edit the inputs, never this file.\n"
)


class LockError(RuntimeError):
    """A lock cannot be made: no uv, no Python version to resolve for, or uv's resolution failed."""


@dataclass(frozen=True)
class Lock:
    """One lock: the file, the requirement files it is resolved from, the Python it is resolved for."""

    root: Path
    path: Path
    inputs: tuple[Path, ...]
    python: str  # the lowest Python minor version it must install on ("3.13")
    python_source: str  # where that version was read

    @property
    def name(self) -> str:
        return _relative(self.path, self.root)

    def header(self) -> list[str]:
        """The lines that say what the lock was made from (compared to find it stale)."""
        lines = [f"# python: {self.python} ({self.python_source})"]
        lines += [f"# input: {_relative(p, self.root)} sha256:{requirements_digest(p)}" for p in self.inputs]
        return lines


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def requirement_lines(path: Path) -> list[str]:
    """A requirements file's requirement and option lines, comments and blank lines left out."""
    lines = []
    for line in path.read_text().splitlines():
        text = re.sub(r"(^|\s)#.*$", "", line).strip()
        if text:
            lines.append(text)
    return lines


def requirements_digest(path: Path) -> str:
    """sha256 of what a requirements file asks for (so a comment edit leaves its locks current)."""
    return hashlib.sha256("\n".join(requirement_lines(path)).encode()).hexdigest()


def dockerfile_python_version(dockerfile: Path) -> str:
    """The Python minor version of a Dockerfile's FROM (`.../python:3.13` → "3.13")."""
    match = _FROM_PYTHON.search(dockerfile.read_text())
    if match is None:
        raise LockError(f"{dockerfile.name}: no FROM of a python:<major>.<minor> image to read the Python version from")
    return match.group(1)


def image_python_version(root: Path = ROOT) -> str:
    """The Python minor version of the function images (images/lambda-python.Dockerfile's FROM)."""
    return dockerfile_python_version(root / FUNCTION_DOCKERFILE)


def dev_python_version(root: Path = ROOT) -> str:
    """The lowest Python the plane and the tests run on (pyproject.toml's requires-python)."""
    with (root / "pyproject.toml").open("rb") as f:
        requires = str(tomllib.load(f).get("project", {}).get("requires-python", ""))
    match = _REQUIRES_PYTHON.search(requires)
    if match is None:
        raise LockError(f"pyproject.toml: requires-python {requires!r} names no lower bound (>=3.x)")
    return match.group(1)


def lock_path(function_dir: Path) -> Path:
    """A function's lock: functions/<name>/requirements.lock, beside the requirements.txt it locks."""
    return function_dir / LOCK_NAME


def function_lock(function_dir: Path) -> Lock:
    """The lock of a function's image: shared/requirements.txt and its own, for the image's Python."""
    root = function_dir.resolve().parent.parent
    return Lock(
        root=root,
        path=lock_path(function_dir.resolve()),
        inputs=(root / "shared" / "requirements.txt", function_dir.resolve() / "requirements.txt"),
        python=image_python_version(root),
        python_source=FUNCTION_DOCKERFILE,
    )


def function_dirs(root: Path = ROOT) -> list[Path]:
    """Every function folder with a requirements.txt."""
    return sorted(p.parent for p in (root / "functions").glob("*/requirements.txt"))


def dev_lock(root: Path = ROOT) -> Lock:
    """The lock of .venv (the plane, the tests, the tooling): every requirements file, found by glob.

    A function's file that asks for nothing is left out, so adding such a function leaves it current."""
    inputs = [root / "requirements-dev.txt", root / "lambda_local" / "requirements.txt"]
    inputs += [root / "shared" / "requirements.txt"]
    inputs += [d / "requirements.txt" for d in function_dirs(root) if requirement_lines(d / "requirements.txt")]
    return Lock(root, root / DEV_LOCK, tuple(inputs), dev_python_version(root), "pyproject.toml requires-python")


def plane_image_lock(root: Path = ROOT) -> Lock:
    """The lock of the plane's image: lambda_local/requirements.txt, for that image's Python."""
    return Lock(
        root=root,
        path=root / PLANE_LOCK,
        inputs=(root / "lambda_local" / "requirements.txt",),
        python=dockerfile_python_version(root / PLANE_DOCKERFILE),
        python_source=PLANE_DOCKERFILE,
    )


def host_runtime_lock(root: Path = ROOT) -> Lock:
    """The lock of what host mode adds to each function's environment (the runtime interface client,
    debugpy: function_envs.py), for the images' Python."""
    return Lock(
        root=root,
        path=root / f"{HOST_RUNTIME}.lock",
        inputs=(root / f"{HOST_RUNTIME}.txt",),
        python=image_python_version(root),
        python_source=FUNCTION_DOCKERFILE,
    )


def all_locks(root: Path = ROOT) -> list[Lock]:
    """Every lock of the project: .venv's, the plane image's, host mode's runtime's, each function's."""
    found = [dev_lock(root), plane_image_lock(root)]
    if (root / f"{HOST_RUNTIME}.txt").is_file():
        found.append(host_runtime_lock(root))
    return [*found, *(function_lock(d) for d in function_dirs(root))]


def recorded_header(path: Path) -> list[str]:
    """The `# python:` and `# input:` lines a lock file was written with."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        if line.startswith(("# python: ", "# input: ")):
            lines.append(line)
    return lines


def stale_reason(lock: Lock) -> str | None:
    """Why the lock must be made again (None when it is current): missing, or what changed."""
    if not lock.path.is_file():
        return "missing"
    recorded, wanted = recorded_header(lock.path), lock.header()
    if recorded == wanted:
        return None
    if recorded[:1] != wanted[:1]:
        was = recorded[0].removeprefix("# python: ").split(" ")[0] if recorded else "?"
        return f"Python {was} -> {lock.python} ({lock.python_source})"
    recorded_inputs = {line.rsplit(" ", 1)[0]: line for line in recorded[1:]}
    changed = []
    for line in wanted[1:]:
        name = line.rsplit(" ", 1)[0]
        if recorded_inputs.pop(name, None) != line:
            changed.append(name.removeprefix("# input: "))
    changed += [name.removeprefix("# input: ") for name in recorded_inputs]
    return f"{', '.join(changed)} changed"


def uv_binary(root: Path = ROOT) -> Path:
    """The uv that `make setup` installed (.venv/bin/uv, pinned by tools/uv-bootstrap.lock)."""
    for candidate in (root / ".venv" / "bin" / "uv", Path(sys.executable).parent / "uv"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise LockError(
        f"uv is not installed in .venv: `make setup` installs the pinned one ({UV_BOOTSTRAP}), "
        f"or by hand: .venv/bin/python -m pip install --require-hashes --no-deps -r {UV_BOOTSTRAP}"
    )


def compile_lock(lock: Lock, *, upgrade: bool = False) -> None:
    """Resolve the lock's inputs with uv and write it, keeping the pins already there unless `upgrade`."""
    inputs = [_relative(p, lock.root) for p in lock.inputs]
    with tempfile.TemporaryDirectory(prefix="lock-") as tmp:
        output = Path(tmp) / LOCK_NAME
        if lock.path.is_file() and not upgrade:
            output.write_text(lock.path.read_text())  # uv prefers the versions its output file pins
        cmd = [str(uv_binary(lock.root)), "pip", "compile", "--quiet", "--universal", "--generate-hashes"]
        # --python: any interpreter will do for a universal resolution (the version is --python-version's);
        # naming this one spares uv a search of the PATH for one of that version.
        cmd += ["--python", sys.executable, "--python-version", lock.python, "--no-python-downloads"]
        cmd += ["--no-header", "--output-file", str(output)]
        if upgrade:
            cmd.append("--upgrade")
        result = subprocess.run([*cmd, *inputs], cwd=lock.root, capture_output=True, text=True)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()
            raise LockError(f"{lock.name}: uv could not resolve {', '.join(inputs)}:\n{detail}")
        body = output.read_text()
    lock.path.write_text(_HEADER + "\n".join(lock.header()) + "\n" + body)


def _ensure(lock: Lock, *, upgrade: bool) -> bool:
    reason = "upgrade" if upgrade else stale_reason(lock)
    if reason is None:
        return False
    if not upgrade:
        LOG.info("%s: %s, re-locking (Python %s)", lock.name, reason, lock.python)
    compile_lock(lock, upgrade=upgrade)
    return True


def is_current(function_dir: Path) -> bool:
    """Whether the function's lock exists and matches its inputs and its image's Python (no network)."""
    return stale_reason(function_lock(function_dir)) is None


def ensure_lock(function_dir: Path, *, upgrade: bool = False) -> bool:
    """Lock the function when its lock is missing or stale (or always, with `upgrade`); True if written.

    Logs one line naming what changed. Raises LockError when uv is missing or cannot resolve."""
    return _ensure(function_lock(function_dir), upgrade=upgrade)


def uv_bootstrap_text(dev_lock_text: str) -> str:
    """tools/uv-bootstrap.lock: the uv entry of requirements-dev.lock, with its hashes."""
    lines = dev_lock_text.splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(r"uv==\S+", line)), None)
    if start is None:
        raise LockError(f"{DEV_LOCK} pins no uv (requirements-dev.txt must: tools/setup.sh installs it first)")
    end = start
    while lines[end].endswith("\\"):
        end += 1
    entry = "\n".join(lines[start : end + 1])
    return (
        f"# uv for tools/setup.sh, which installs it with pip (--require-hashes) before everything else.\n"
        f"# Copied from {DEV_LOCK} by `make lock`: change uv's pin in requirements-dev.txt, never this file.\n"
        f"{entry}\n"
    )


def _bootstrap_current(root: Path) -> bool:
    bootstrap, lock = root / UV_BOOTSTRAP, root / DEV_LOCK
    return lock.is_file() and bootstrap.is_file() and bootstrap.read_text() == uv_bootstrap_text(lock.read_text())


def is_dev_current(root: Path = ROOT) -> bool:
    """Whether requirements-dev.lock matches its inputs and tools/uv-bootstrap.lock matches it."""
    return stale_reason(dev_lock(root)) is None and _bootstrap_current(root)


def ensure_dev_lock(root: Path = ROOT, *, upgrade: bool = False) -> bool:
    """Lock .venv's requirements when stale or missing (or always, with `upgrade`), and uv's bootstrap
    from it; True if either was written."""
    wrote = _ensure(dev_lock(root), upgrade=upgrade)
    if _bootstrap_current(root):
        return wrote
    (root / UV_BOOTSTRAP).write_text(uv_bootstrap_text((root / DEV_LOCK).read_text()))
    return True


def ensure_all(root: Path = ROOT, *, upgrade: bool = False) -> list[str]:
    """Every lock made current (`upgrade`: every lock re-resolved); the names of those written."""
    written = [DEV_LOCK] if ensure_dev_lock(root, upgrade=upgrade) else []
    for lock in all_locks(root)[1:]:
        if _ensure(lock, upgrade=upgrade):
            written.append(lock.name)
    return written


def stale(root: Path = ROOT) -> list[str]:
    """Each stale lock with the reason (empty when all are current)."""
    found = [f"{lock.name}: {reason}" for lock in all_locks(root) if (reason := stale_reason(lock)) is not None]
    if (root / DEV_LOCK).is_file() and not _bootstrap_current(root):
        found.append(f"{UV_BOOTSTRAP}: differs from {DEV_LOCK}'s uv")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambda_local.environments.locks", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    ensure = commands.add_parser("ensure", help="re-lock what is stale or missing (make setup, make up)")
    ensure.add_argument(
        "--upgrade", action="store_true", help="re-resolve every lock to the newest versions (make lock)"
    )
    commands.add_parser("check", help="exit 1 naming every lock that is stale against its inputs (make lint)")
    args = parser.parse_args(argv)
    for handler in LOG.handlers:  # set-up's own line format
        handler.setFormatter(logging.Formatter("==> %(message)s"))
    try:
        if args.command == "check":
            problems = stale()
            for problem in problems:
                print(f"stale lock: {problem}", file=sys.stderr)
            if problems:
                print("run `make lock` (or `make setup`, which re-locks only what changed)", file=sys.stderr)
                return 1
            print(f"==> {len(all_locks())} locks current")
            return 0
        written = ensure_all(upgrade=args.upgrade)
    except LockError as e:
        print(f"lock failed: {e}", file=sys.stderr)
        return 1
    if args.upgrade:
        print(f"==> re-resolved {len(written)} locks to the newest allowed versions (git diff shows what moved)")
    elif not written:
        print("==> locks current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
