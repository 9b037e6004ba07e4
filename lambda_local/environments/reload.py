"""Hot reload: while the plane runs, a change under a function's folder (or under shared/, which every
function's image carries) retires that function's idle environments and starts a new one on the new
code. An invocation in flight finishes on the old code (its environment retires after it); the next one
runs the new code. One line per reload: the function, the files, the time until its new environment was
ready. A changed requirements.txt (or lock) needs new packages: host mode re-locks the function and
updates its own environment first (function_envs.py; a failed install is a problem `make status` lists,
and the function keeps the environment it had), Docker mode rebuilds its image as for any edit.

LAMBDA_LOCAL_WATCH=0 turns it off. Host mode only starts new RIE processes; Docker mode's environments
are containers of the function's image, so there a reload first rebuilds that image (containers.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import watchfiles

from lambda_local.providers import FunctionSpec, Template

WATCH_ENV = "LAMBDA_LOCAL_WATCH"
# Not code: bytecode, editors' swap and backup files, sample events and the function's own tests.
_IGNORED_PARTS = {"__pycache__", "events", "tests", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_IGNORED_SUFFIXES = (".pyc", ".pyo", ".swp", ".swx", ".tmp", "~")


def enabled(env: dict[str, str] | None = None) -> bool:
    value = (env if env is not None else os.environ).get(WATCH_ENV, "1").strip().lower()
    return value not in ("0", "false", "no", "off")


def ignored(path: Path) -> bool:
    return (
        bool(_IGNORED_PARTS.intersection(path.parts))
        or path.name.endswith(_IGNORED_SUFFIXES)
        or path.name.startswith((".#", "#"))
    )


def shared_folder(template: Template) -> Path:
    """shared/ beside the template's functions/ folder (what the image copies into its task root)."""
    return template.path.parent / "shared"


def watched(template: Template) -> list[Path]:
    """The folders a change in which reloads a function: each function's, and shared/."""
    folders = {fn.code for fn in template.functions}
    if shared_folder(template).is_dir():
        folders.add(shared_folder(template))
    return sorted(folders)


def affected(template: Template, changed: Iterable[Path]) -> dict[str, list[Path]]:
    """Function name -> the changed files that are its code (a file under shared/ is every function's)."""
    shared = shared_folder(template).resolve()
    found: dict[str, list[Path]] = {}
    for path in changed:
        path = path.resolve()
        if ignored(path):
            continue
        if path.is_relative_to(shared):
            owners: list[FunctionSpec] = list(template.functions)
        else:
            owners = [fn for fn in template.functions if path.is_relative_to(fn.code.resolve())]
        for fn in owners:
            found.setdefault(fn.lambda_name, []).append(path)
    return found


def changed_paths(changes: Iterable[tuple[watchfiles.Change, str]]) -> list[Path]:
    """The paths of one batch of changes that are edits: a file added and gone again within the batch
    (`sed -i`'s and many editors' temporary file, renamed over the real one) is none."""
    batch = [(change, Path(path)) for change, path in changes]
    transient = {path for change, path in batch if change == watchfiles.Change.added and not path.exists()}
    return sorted({path for _, path in batch if path not in transient})


def describe(files: list[Path], root: Path) -> str:
    names = sorted({str(f.relative_to(root)) if f.is_relative_to(root) else str(f) for f in files})
    return ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")


Reloader = Callable[[str, list[Path]], Awaitable[None]]


async def watch(template: Template, reload: Reloader, stop: asyncio.Event, say: Callable[[str], None]) -> None:
    """Call `reload(function, files)` for every function whose code changed, until `stop` is set."""
    root = template.path.parent.resolve()
    folders = watched(template)
    say(f"watching {len(folders)} folders for code changes ({WATCH_ENV}=0 turns it off)")
    async for changes in watchfiles.awatch(*folders, stop_event=stop, debounce=400, step=50):
        by_function = affected(template, changed_paths(changes))
        requirements = {p for files in by_function.values() for p in files if p.name == "requirements.txt"}
        for path in sorted(requirements):
            say(f"{path.relative_to(root) if path.is_relative_to(root) else path} changed: new packages, then the code")
        # One at a time: a rebuild or a new process each, and the machine has few cores.
        forget_bytecode({p for files in by_function.values() for p in files})
        for function, files in by_function.items():
            try:
                await reload(function, files)
            except Exception as exc:  # this reload only: the watcher goes on with the next edit
                say(f"reload of {function} failed: {type(exc).__name__}: {exc}")


def forget_bytecode(files: Iterable[Path]) -> None:
    """The changed modules' cached bytecode, removed: Python trusts a .pyc whose recorded source mtime (in
    whole seconds) and size match, so an edit within the same second that keeps the size would be served
    from the old bytecode."""
    for path in files:
        if path.suffix == ".py":
            for cached in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
                with contextlib.suppress(OSError):  # read only (Docker mode's mount: its images compile anew)
                    cached.unlink(missing_ok=True)


def syntax_error(files: Iterable[Path], root: Path) -> str | None:
    """The first changed Python file that does not compile: `path:line: SyntaxError: message`."""
    for path in sorted(files):
        if path.suffix != ".py" or not path.is_file():
            continue
        try:
            compile(path.read_bytes(), str(path), "exec")
        except SyntaxError as exc:  # IndentationError and TabError are SyntaxErrors
            where = path.relative_to(root) if path.is_relative_to(root) else path
            return f"{where}:{exc.lineno}: {type(exc).__name__}: {exc.msg}"
        except ValueError as exc:  # null bytes
            return f"{path}: {exc}"
    return None


# Run in the function's folder with its environment: imports its handler's module as its runtime will,
# and on failure prints where (the innermost frame in the function's own code) and what, as JSON.
_IMPORT_CHECK = """
import importlib, json, os, sys, traceback
sys.path.insert(0, os.getcwd())
try:
    importlib.import_module(sys.argv[1])
except BaseException as exc:
    root = os.getcwd() + os.sep
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(root)]
    where = (exc.filename, exc.lineno) if isinstance(exc, SyntaxError) else (
        (frames[-1].filename, frames[-1].lineno) if frames else ("", 0))
    print(json.dumps({"file": where[0] or "", "line": where[1] or 0, "error": type(exc).__name__,
                      "message": str(exc).splitlines()[0] if str(exc) else ""}))
    sys.exit(1)
"""


PACKAGE_FILES = ("requirements.txt", "requirements.lock")


def packages_changed(files: Iterable[Path]) -> bool:
    """Whether an edit changes what the function installs (its requirements, shared/'s, or its lock)."""
    return any(path.name in PACKAGE_FILES for path in files)


def only_lock(files: Iterable[Path]) -> bool:
    """Whether the edit is a function's lock alone (the one its re-lock just wrote, or `make lock`'s)."""
    files = list(files)
    return bool(files) and all(path.name == "requirements.lock" for path in files)


def import_check_command(module: str) -> list[str]:
    """`python3 -c ...` that imports `module` from the working folder and says what failed, where."""
    return ["python3", "-c", _IMPORT_CHECK, module]


def import_failure(status: int, out: bytes, module: str, where: Callable[[str], str]) -> str | None:
    """What an import check's exit status and output say: None (it imported), or `path:line: Error:
    message` with the path as `where` names it (the folder it ran in, relative to the project)."""
    if status == 0:
        return None
    try:
        found = json.loads(out.decode(errors="replace").strip().splitlines()[-1])
        place = where(str(found["file"])) if found["file"] else module
        line = f":{found['line']}" if found["line"] else ""
        return f"{place}{line}: {found['error']}: {found['message']}"
    except (ValueError, IndexError, KeyError, TypeError):
        return f"importing {module} failed (exit status {status})"


async def import_error(
    fn: FunctionSpec, env: dict[str, str], root: Path, timeout: float = 60, python: str = sys.executable
) -> str | None:
    """Host mode: whether the function's handler module imports on its new code, as its runtime would
    import it (same interpreter, `python`: its environment's; folder and environment): None, or
    `path:line: Error: message`."""
    module = fn.handler.rsplit(".", 1)[0]
    _, *arguments = import_check_command(module)
    process = await asyncio.create_subprocess_exec(
        python,
        *arguments,
        cwd=fn.code,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        return f"importing {module} took over {timeout:.0f}s"

    def where(file: str) -> str:
        path = Path(file)
        return str(path.relative_to(root)) if path.is_relative_to(root) else file

    return import_failure(process.returncode or 0, out, module, where)


def broken_line(function: str, files: list[Path], root: Path, why: str) -> str:
    return (
        f"reload of {function} ({describe(files, root)}): the new code does not load: {why} "
        "(its invocations answer this error until the next edit fixes it)"
    )


def timed_line(
    function: str, files: list[Path], root: Path, started: float, error: str | None = None, detail: str = ""
) -> str:
    took = time.perf_counter() - started
    what = describe(files, root)
    if error:
        return f"reload of {function} ({what}) failed after {took:.2f}s: {error}"
    return f"reloaded {function} ({what}): {detail}new environment ready in {took:.2f}s"


def said_if_failed(say: Callable[[str], None]) -> Callable[[asyncio.Task[None]], None]:
    """A done callback: a watcher that ended on an error says so (the functions keep running)."""

    def done(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            say(f"the code watcher stopped, edits no longer reload: {type(exc).__name__}: {exc}")

    return done
