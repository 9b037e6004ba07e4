"""Host mode's function environments: each function runs, as in its image, on its own packages and on
its image's Python minor version.

Each function gets a virtualenv of its own, .cache/functions/<folder>/ (`make down` keeps it; .cache/
is git-ignored; `env_dir` says where another project's go), made by uv from two locks with hashes
required: the function's (functions/<folder>/requirements.lock: shared/'s and its own requirements,
locks.py) and host mode's runtime (host-runtime.lock beside this module: awslambdaric, debugpy), on an
interpreter of the images' minor version found on this machine (`find_interpreter`: uv, then pyenv,
then `python3.X` on the PATH). The environment keeps a digest of both locks and the interpreter
(lambda-local.json): it is made again only when one of them changed, in a folder beside it that
replaces it once complete, so a failed install leaves the environment before it in place. uv's
shared cache makes that fast.

`make up` makes them before the plane starts (stack/host_mode.py); the plane checks them at its start
(a no-op when current) and hot reload updates one when its requirements change (plane.py). With no
interpreter of the images' version, the plane's own Python makes them (still one per function, with
its own packages): `make up` says so and how to get the right one, `make status` shows it per function.

A function outside this project (a test's temporary project, which has no shared/ of its own) is
locked from this project's shared/requirements.txt and its own into .cache/locks/, by what they ask for.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from lambda_local.environments import locks
from lambda_local.providers import FunctionSpec, load
from lambda_local.settings import ROOT

RUNTIME_INPUT = ROOT / f"{locks.HOST_RUNTIME}.txt"
RUNTIME_LOCK = ROOT / f"{locks.HOST_RUNTIME}.lock"
LOCK_CACHE = ROOT / ".cache" / "locks"  # the locks of functions outside this project (function_lock)
MARKER = "lambda-local.json"  # in each environment: what it was made from
FORMAT = 1  # of the digest: a change remakes every environment
VERSION_CODE = "import sys; print('.'.join(map(str, sys.version_info[:3])))"
INSTALL_TIMEOUT_S = 900.0
_VERSION = re.compile(r"\d+\.\d+\.\d+")

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def minor_of(version: str) -> str:
    """`3.13.0` -> `3.13`."""
    return ".".join(version.split(".")[:2])


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


# The user's settings uv and pyenv need (certificates, uv's own, where caches and installs live, proxies).
# `make up` gives the plane those but the proxies, and all of them in TOOL_ENV for uv and pyenv alone: a
# proxy in the plane's own environment would take its calls to the loopback RIEs.
TOOL_ENV = "LAMBDA_LOCAL_TOOL_ENV"
TOOL_VARIABLES = frozenset(
    {"SSL_CERT_FILE", "SSL_CERT_DIR", "SSL_CLIENT_CERT", "NETRC", "XDG_CACHE_HOME", "XDG_DATA_HOME", "PYENV_ROOT"}
)
PROXY_VARIABLES = frozenset({f"{name}_PROXY" for name in ("HTTP", "HTTPS", "ALL", "NO")}) | frozenset(
    {f"{name}_proxy" for name in ("http", "https", "all", "no")}
)


def tool_settings(environ: Mapping[str, str], proxies: bool = True) -> dict[str, str]:
    """What of `environ` uv and pyenv need: TOOL_VARIABLES, every UV_* but the one naming a Python, and
    (`proxies`) the proxies."""
    return {
        k: v
        for k, v in environ.items()
        if k in TOOL_VARIABLES or (proxies and k in PROXY_VARIABLES) or (k.startswith("UV_") and k != "UV_PYTHON")
    }


def _tool_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment uv and the probed interpreters run in: this process's with the settings `make up`
    handed over (TOOL_ENV), less what points at a virtualenv or adds to Python's path (the plane runs
    with PYTHONPATH set and in .venv)."""
    env = dict(os.environ if environ is None else environ)
    with contextlib.suppress(ValueError, TypeError):
        env |= {str(k): str(v) for k, v in json.loads(env.pop(TOOL_ENV, "") or "{}").items()}
    for key in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX", "UV_PYTHON"):
        env.pop(key, None)
    return env


# --- the images' Python on this machine -------------------------------------------------------------


@dataclass(frozen=True)
class Interpreter:
    """A Python to make the environments with: where, its X.Y.Z, how it was found, the images' X.Y."""

    path: Path
    version: str
    found_by: str  # "uv", "pyenv", "PATH", or "fallback" (the plane's own: none of `wanted` was found)
    wanted: str

    @property
    def matches(self) -> bool:
        return minor_of(self.version) == self.wanted

    def line(self) -> str:
        """Set-up's one line about it."""
        if self.matches:
            return (
                f"function environments: Python {self.version} ({self.found_by}: {self.path}), "
                f"the images' {self.wanted}"
            )
        return (
            f"function environments: no Python {self.wanted} (the images') on this machine, so the plane's "
            f"Python {self.version} runs the functions, each in its own environment; {how_to_get(self.wanted)}"
        )


def how_to_get(wanted: str) -> str:
    """What to do when no interpreter of `wanted` is found (then `make up` again)."""
    return (
        f"to get one: `.venv/bin/uv python install {wanted}` (uv's own build), `pyenv install {wanted}`, "
        f"or the OS package python{wanted} (e.g. Debian 13, Ubuntu 24.04 and later), then `make up`"
    )


def version_of(python: Path | str, environ: Mapping[str, str] | None = None, timeout: float = 15) -> str | None:
    """The X.Y.Z of the interpreter at `python`, or None when it does not run (a pyenv shim of a
    version that is not the active one exits with an error)."""
    try:
        result = subprocess.run(
            [str(python), "-I", "-c", VERSION_CODE],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=_tool_env(environ),
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    out = result.stdout.strip()
    return out if result.returncode == 0 and _VERSION.fullmatch(out) else None


def uv_candidates(uv: Path | None, wanted: str, environ: Mapping[str, str] | None = None) -> list[Path]:
    """What `uv python find` gives for `wanted`: first among the system's interpreters (the PATH and
    the like), then among uv's own (`uv python install`); never a virtualenv's, never a download."""
    if uv is None:
        return []
    found: list[Path] = []
    for which in ("--system", "--managed-python"):
        command = [str(uv), "python", "find", "--no-project", "--no-config", "--no-python-downloads", which, wanted]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=60, env=_tool_env(environ), stdin=subprocess.DEVNULL
            )
        except (OSError, subprocess.SubprocessError):
            continue
        path = result.stdout.strip().splitlines()[-1:] if result.returncode == 0 else []
        found += [Path(p) for p in path if p and Path(p) not in found]
    return found


def pyenv_candidates(wanted: str, environ: Mapping[str, str] | None = None) -> list[Path]:
    """pyenv's installed versions of `wanted`, newest first (`pyenv root`/versions/X.Y.*), whichever
    version pyenv has active: its shims run only the active one."""
    env = _tool_env(environ)
    pyenv = shutil.which("pyenv", path=env.get("PATH"))
    if pyenv is None:
        return []
    try:
        result = subprocess.run(
            [pyenv, "root"], capture_output=True, text=True, timeout=30, env=env, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError):
        return []
    root = Path(result.stdout.strip()) if result.returncode == 0 and result.stdout.strip() else None
    if root is None or not (root / "versions").is_dir():
        return []
    versions = [v for v in (root / "versions").iterdir() if re.fullmatch(rf"{re.escape(wanted)}\.\d+", v.name)]
    versions.sort(key=lambda v: _version_key(v.name), reverse=True)
    return [v / "bin" / f"python{wanted}" for v in versions if (v / "bin" / f"python{wanted}").is_file()]


def path_candidates(wanted: str, environ: Mapping[str, str] | None = None) -> list[Path]:
    """Every `python3.X` on the PATH, in its order (not only the first: a shim that refuses may come
    before the OS's own)."""
    found: list[Path] = []
    for folder in _tool_env(environ).get("PATH", "").split(os.pathsep):
        candidate = Path(folder) / f"python{wanted}" if folder else None
        if candidate is not None and os.access(candidate, os.X_OK) and candidate not in found:
            found.append(candidate)
    return found


def find_interpreter(
    wanted: str, uv: Path | None = None, environ: Mapping[str, str] | None = None, fallback: Path | None = None
) -> Interpreter:
    """An interpreter of the images' minor version `wanted`: uv's find, then pyenv's versions, then
    `python{wanted}` on the PATH, the first one that runs and is `wanted`; else the plane's own
    (`fallback`, default this process's base interpreter), marked as such."""
    searches: list[tuple[str, Callable[[], list[Path]]]] = [
        ("uv", lambda: uv_candidates(uv, wanted, environ)),
        ("pyenv", lambda: pyenv_candidates(wanted, environ)),
        ("PATH", lambda: path_candidates(wanted, environ)),
    ]
    for found_by, candidates in searches:
        for path in candidates():
            version = version_of(path, environ)
            if version is not None and minor_of(version) == wanted:
                return Interpreter(path, version, found_by, wanted)
    own = fallback or Path(getattr(sys, "_base_executable", "") or sys.executable)
    return Interpreter(own, version_of(own, environ) or ".".join(map(str, sys.version_info[:3])), "fallback", wanted)


# --- one function's environment ---------------------------------------------------------------------


def project_of(fn: FunctionSpec) -> Path:
    """The project the function belongs to: the folder of its template (beside its functions/)."""
    return fn.folder.parent


def env_dir(fn: FunctionSpec) -> Path:
    """Where the function's environment lives: .cache/functions/<folder>/ of this project; for another
    project inside it (the tests' probe templates) .cache/projects/<its path>/<folder>/ of this one (not
    among this project's sources); for one elsewhere (a test's temporary project) in its own .cache/."""
    project = project_of(fn).resolve()
    if project == ROOT:
        return ROOT / ".cache" / "functions" / fn.directory
    if project.is_relative_to(ROOT):
        return ROOT / ".cache" / "projects" / "-".join(project.relative_to(ROOT).parts) / fn.directory
    return project / ".cache" / "functions" / fn.directory


def env_python(folder: Path) -> Path:
    return folder / "bin" / "python"


def images_python(fn: FunctionSpec | None = None) -> str:
    """The minor version of the function's image: its project's Dockerfile, else this project's."""
    if fn is not None and (project_of(fn) / locks.FUNCTION_DOCKERFILE).is_file():
        return locks.image_python_version(project_of(fn))
    return locks.image_python_version()


def runtime_lock() -> locks.Lock:
    """host-runtime.lock: what host mode adds to every function's environment, for the images' Python
    (locks.py's, so `make lock` and `make lock-check` cover it)."""
    return locks.host_runtime_lock()


def ensure_runtime_lock(*, upgrade: bool = False) -> bool:
    """host-runtime.lock made again when missing or stale against host-runtime.txt (or `upgrade`)."""
    lock = runtime_lock()
    if not upgrade and locks.stale_reason(lock) is None:
        return False
    locks.compile_lock(lock, upgrade=upgrade)
    return True


def own_lock(fn: FunctionSpec) -> bool:
    """Whether the function's project locks it (locks.py: beside its requirements.txt, from its project's
    shared/ and for its project's image), which a test's temporary project cannot: it has neither."""
    project = project_of(fn)
    return (project / "shared" / "requirements.txt").is_file() and (project / locks.FUNCTION_DOCKERFILE).is_file()


def function_lock(fn: FunctionSpec) -> locks.Lock:
    """The function's lock: locks.py's for a function of its own project; else one from this project's
    shared/requirements.txt and the function's requirements.txt, named by what they ask for in
    LOCK_CACHE (so the many temporary projects of the tests resolve each set of requirements once)."""
    if own_lock(fn):
        return locks.function_lock(fn.code)
    inputs = (ROOT / "shared" / "requirements.txt", fn.code.resolve() / "requirements.txt")
    python = locks.image_python_version()
    key = hashlib.sha256(" ".join([python, *map(locks.requirements_digest, inputs)]).encode()).hexdigest()[:24]
    return locks.Lock(
        root=Path(fn.code.anchor),  # inputs from two projects: paths from the file system's root (never committed)
        path=LOCK_CACHE / f"{key}.lock",
        inputs=inputs,
        python=python,
        python_source=locks.FUNCTION_DOCKERFILE,
    )


def lock_stale(fn: FunctionSpec, lock: locks.Lock) -> bool:
    """Whether the function's lock must be made (again): locks.py says for its own project's; one in
    LOCK_CACHE is current when it exists (its name is what it was resolved from)."""
    return locks.stale_reason(lock) is not None if own_lock(fn) else not lock.path.is_file()


def ensure_function_lock(fn: FunctionSpec) -> Path:
    """The function's lock, re-locked first when stale or missing (LockError when it cannot be)."""
    lock = function_lock(fn)
    if own_lock(fn):
        locks.ensure_lock(fn.code)
    elif lock_stale(fn, lock):
        lock.path.parent.mkdir(parents=True, exist_ok=True)
        locks.compile_lock(lock)
    return lock.path


def digest(function_lock_text: bytes, runtime_lock_text: bytes, interpreter: Interpreter) -> str:
    """What an environment is made from: both locks and the interpreter (its path and X.Y.Z)."""
    h = hashlib.sha256(f"lambda-local function environment {FORMAT}\n".encode())
    for part in (function_lock_text, runtime_lock_text, str(interpreter.path).encode(), interpreter.version.encode()):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def read_marker(folder: Path) -> dict[str, object] | None:
    """What the environment at `folder` says it was made from (None: none there, or unreadable)."""
    try:
        marker = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and env_python(folder).exists() else None


def runtime_text(marker: Mapping[str, object] | None) -> str:
    """`make status`'s runtime of a function from its environment's marker: `python 3.13.0`, marked
    when it is not its image's minor version."""
    if marker is None:
        return "no environment yet (make up makes it)"
    version, wanted = str(marker.get("python", "?")), str(marker.get("image_python", "?"))
    if minor_of(version) == wanted:
        return f"python {version}"
    return f"python {version}, not its image's {wanted} (no Python {wanted} found: see make up)"


@dataclass
class Outcome:
    """One function's environment after `ensure`: the Python to run it with, whether it was made now."""

    function: str
    python: Path | None  # None: no environment (it could not be made and there was none before)
    version: str | None
    made: bool = False
    took_s: float = 0.0
    problem: str | None = None


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One maker of an environment at a time (make up and a plane, two planes of one project)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(f".{folder.name}.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: list[str], cwd: Path, timeout: float = INSTALL_TIMEOUT_S) -> None:
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
            env=_tool_env() | {"UV_PYTHON_DOWNLOADS": "never"},
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"`uv {command[1]}` took over {timeout:.0f}s") from None
    except OSError as exc:
        raise RuntimeError(f"cannot run {command[0]}: {exc.strerror}") from None
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).strip().splitlines() if line.strip()]
        detail = " / ".join(line.strip() for line in lines[-3:]) or f"exit status {result.returncode}"
        raise RuntimeError(f"`uv {' '.join(command[1:3])}` failed: {detail}")


def make(folder: Path, interpreter: Interpreter, lock_files: list[Path], uv: Path, marker: dict[str, object]) -> None:
    """A new environment for `folder`, made beside it and moved into its place when complete (the one
    before stays until then, and stays if this fails)."""
    new, old = folder.with_name(f".{folder.name}.new"), folder.with_name(f".{folder.name}.old")
    shutil.rmtree(new, ignore_errors=True)
    try:
        # Relocatable: the finished environment is moved into its place (its `python -m` needs nothing else).
        _run([str(uv), "venv", "--quiet", "--relocatable", "--python", str(interpreter.path), str(new)], folder.parent)
        command = [str(uv), "pip", "sync", "--quiet", "--require-hashes", "--python", str(env_python(new))]
        _run([*command, *map(str, lock_files)], folder.parent)
        (new / MARKER).write_text(json.dumps(marker, indent=1) + "\n")
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    new.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def ensure(fn: FunctionSpec, interpreter: Interpreter, uv: Path | None = None, say: Say = _quiet) -> Outcome:
    """The function's environment, made (again) when missing or when its locks or interpreter changed.

    Never raises for what a user can fix: a lock that cannot be resolved or a package that cannot be
    installed is the outcome's problem (one line), and the environment before it, if any, is kept."""
    folder, started = env_dir(fn), time.perf_counter()
    name = fn.directory
    with _locked(folder):
        before = read_marker(folder)
        kept = env_python(folder) if before is not None else None
        kept_version = str(before["python"]) if before is not None else None
        try:
            uv = uv or locks.uv_binary()
            lock_file = ensure_function_lock(fn)
            runtime = runtime_lock()
            if locks.stale_reason(runtime) is not None:  # a fresh clone without it, or its pins edited
                locks.compile_lock(runtime)
            wanted = digest(lock_file.read_bytes(), runtime.path.read_bytes(), interpreter)
            if before is not None and before.get("digest") == wanted:
                return Outcome(name, kept, kept_version)
            say(
                f"{name}: {'updating' if before is not None else 'making'} its environment "
                f"(Python {interpreter.version}, {_relative(lock_file)})"
            )
            marker: dict[str, object] = {
                "digest": wanted,
                "python": interpreter.version,
                "image_python": interpreter.wanted,
                "found_by": interpreter.found_by,
                "interpreter": str(interpreter.path),
                "lock": _relative(lock_file),
            }
            make(folder, interpreter, [lock_file, runtime.path], uv, marker)
        except (locks.LockError, RuntimeError, OSError) as exc:
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            why = " / ".join(lines[-2:]) or type(exc).__name__  # uv's last lines say what
            keeps = f"it keeps its environment (python {kept_version})" if kept else "it has no environment"
            problem = f"{name}: its packages could not be installed: {why}; {keeps}"
            return Outcome(name, kept, kept_version, took_s=time.perf_counter() - started, problem=problem)
    took = time.perf_counter() - started
    say(f"{name}: environment ready in {took:.1f}s ({_relative(folder)})")
    return Outcome(name, env_python(folder), interpreter.version, made=True, took_s=took)


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def current(fn: FunctionSpec, interpreter: Interpreter) -> bool:
    """Whether the function's environment was made from its lock and this interpreter as they are (no
    network, nothing written: a stale or missing lock is not current)."""
    lock = function_lock(fn)
    runtime = runtime_lock()
    if lock_stale(fn, lock) or locks.stale_reason(runtime) is not None:
        return False
    marker = read_marker(env_dir(fn))
    return marker is not None and marker.get("digest") == digest(
        lock.path.read_bytes(), runtime.path.read_bytes(), interpreter
    )


# --- all of a template's functions (make up, the plane) -----------------------------------------------


class FunctionEnvs:
    """The environments of a plane's functions: which Python runs each, and what could not be made."""

    def __init__(self, say: Say = _quiet, interpreter: Interpreter | None = None) -> None:
        self.say = say
        self.interpreter = interpreter
        self.outcomes: dict[str, Outcome] = {}
        self._uv: Path | None = None

    def _find(self, fn: FunctionSpec | None = None) -> Interpreter:
        if self.interpreter is None:
            try:
                self._uv = locks.uv_binary()
            except locks.LockError:
                self._uv = None
            self.interpreter = find_interpreter(images_python(fn), self._uv)
            self.say(self.interpreter.line())
        return self.interpreter

    def prepare(self, functions: Iterable[FunctionSpec]) -> list[Outcome]:
        """Every function's environment made current, one after the other (the machine has few cores and
        uv's cache is shared); one line per environment made, none for those current already."""
        functions = list(functions)
        if not functions:
            return []
        interpreter = self._find(functions[0])
        outcomes = [self.update(fn, interpreter) for fn in functions]
        made, failed = [o for o in outcomes if o.made], [o for o in outcomes if o.problem]
        parts = [f"{len(made)} made in {sum(o.took_s for o in made):.1f}s"] if made else []
        if current := len(outcomes) - len(made) - len(failed):
            parts.append(f"{current} current")
        parts += [f"{len(failed)} not installed (said above; `make status` lists them)"] if failed else []
        self.say(f"function environments: {', '.join(parts)}")
        return outcomes

    def update(self, fn: FunctionSpec, interpreter: Interpreter | None = None) -> Outcome:
        """One function's environment made current (after its requirements changed: re-locked, re-synced)."""
        outcome = ensure(fn, interpreter or self._find(fn), self._uv, self.say)
        if outcome.problem:
            self.say(outcome.problem)
        self.outcomes[fn.lambda_name] = outcome
        return outcome

    def python(self, fn: FunctionSpec) -> str:
        """The interpreter that runs `fn`: its environment's; the plane's own while it has none."""
        outcome = self.outcomes.get(fn.lambda_name)
        return str(outcome.python) if outcome is not None and outcome.python is not None else sys.executable

    def problems(self) -> list[str]:
        return [o.problem for o in self.outcomes.values() if o.problem]


def main(argv: list[str] | None = None) -> int:
    """`python -m lambda_local.environments.function_envs [find|prepare]`: the one line saying which
    Python the functions' environments use (set-up can print it), or every function's environment made
    current as `make up` does; exit 1 when one could not be installed."""
    command = (argv if argv is not None else sys.argv[1:])[:1] or ["find"]
    if command[0] not in ("find", "prepare"):
        print("usage: python -m lambda_local.environments.function_envs [find|prepare]", file=sys.stderr)
        return 2

    def say(line: str) -> None:
        print(f"==> {line}", flush=True)

    envs = FunctionEnvs(say)
    if command[0] == "find":
        envs._find()
        return 0
    outcomes = envs.prepare(load().functions)
    return 1 if any(o.problem for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
