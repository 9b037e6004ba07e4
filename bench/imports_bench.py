"""`make bench-imports`: where each function's Init goes, from `python -X importtime`.

Imports the runtime client and then `app` in a fresh interpreter, as the runtime does at Init: in
the function's image (Docker mode: read-only root, Lambda's user, the function's environment) or
with the project's virtualenv (host mode, whose packages are the union of all functions' and so
cost more). Prints, per function, the median over runs of the whole import and of the packages
that take most of it (each package's own time, its submodules included, not what it imports from
other packages).

Env: BENCH_IMPORT_RUNS (default 5), FUNCTION (one function folder; default all).
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import stack
from lambda_local.environments.variables import PASSED_THROUGH
from stack.common import ROOT, function_env
from stack.docker_mode import compose
from stack.functions import Function, functions

RUNS = int(os.environ.get("BENCH_IMPORT_RUNS", "5"))
TOP = 8
LINE = re.compile(r"^import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)$")  # self us | cumulative us | module
PROBE = "import awslambdaric.bootstrap; import app"
HOST_ONLY = (*PASSED_THROUGH, "PYTHONPATH", "LAMBDA_TASK_ROOT")  # the image sets its own


def importtime(fn: Function, env_file: Path | None) -> str:
    """stderr of one `-X importtime` run of the runtime client and the function's module."""
    if env_file is not None:
        command = [
            "docker", "run", "--rm", "--read-only", "--user", "993:990", "--env-file", str(env_file),
            "-e", "PYTHONPATH=/var/runtime", "--entrypoint", "python3", "-w", "/var/task",
            f"{fn.directory}:local", "-X", "importtime", "-c", PROBE,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
    else:
        env = function_env(fn)
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", PROBE],
            cwd=ROOT / "functions" / fn.directory,
            env=env,
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        raise SystemExit(f"{fn.directory}: importing app failed:\n{result.stderr[-1500:]}")
    return result.stderr


def by_package(stderr: str) -> tuple[float, dict[str, float]]:
    """The import's total (ms) and each top-level package's own time (ms)."""
    own: dict[str, float] = defaultdict(float)
    total = 0.0
    for line in stderr.splitlines():
        match = LINE.match(line)
        if match:
            ms = int(match[1]) / 1000
            own[match[2].split(".")[0]] += ms
            total += ms
    return total, own


def env_file_for(fn: Function, folder: Path) -> Path:
    """The function's environment as compose gives it (its values do not matter to imports but for
    the ones that decide what is imported, e.g. POWERTOOLS_TRACE_DISABLED)."""
    path = folder / f"{fn.directory}.env"
    env = function_env(fn)
    path.write_text("".join(f"{k}={v}\n" for k, v in env.items() if k not in HOST_ONLY))
    return path


def main() -> None:
    chosen = [fn for fn in functions() if os.environ.get("FUNCTION") in (None, "", fn.directory)]
    if not chosen:
        raise SystemExit(f"FUNCTION={os.environ['FUNCTION']}: no such function folder")
    in_images = stack.mode() == "docker"
    where = "in each function's image" if in_images else "with the host-mode virtualenv"
    if in_images:
        print("==> building the function images (compose's build cache makes this quick when nothing changed)")
        compose("build", "--quiet", *(fn.directory for fn in chosen))
    print(f"==> importing the runtime client and app {RUNS} times per function, {where}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for fn in chosen:
            env_file = env_file_for(fn, Path(folder)) if in_images else None
            runs = [by_package(importtime(fn, env_file)) for _ in range(RUNS)]
            packages = {name for _, own in runs for name in own}
            median_own = {name: statistics.median(own.get(name, 0.0) for _, own in runs) for name in packages}
            top = sorted(median_own.items(), key=lambda item: -item[1])[:TOP]
            rows.append((fn.directory, statistics.median(total for total, _ in runs), top))
    print(f"\nImport cost at Init (median of {RUNS}, ms), {where}")
    for name, total, top in rows:
        print(f"{name:<22} {total:6.1f}  " + ", ".join(f"{package} {ms:.0f}" for package, ms in top))


if __name__ == "__main__":
    main()
