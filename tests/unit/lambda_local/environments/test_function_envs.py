"""Host mode's function environments: which interpreter is found (uv, then pyenv, then the PATH, else
the plane's own, said so), when an environment is made again (its digest), and what a failed install
leaves (a problem line, the environment before it). Interpreters and uv are small scripts here: what
they print is what the finder and the maker read."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lambda_local.environments import function_envs, locks
from lambda_local.environments.function_envs import Interpreter
from lambda_local.environments.processes import RieProcess
from lambda_local.providers import load
from tests.support.probe_plane import one_function_project


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def python(path: Path, version: str) -> Path:
    """An 'interpreter' that answers the version probe with `version`."""
    return script(path, f"echo {version}")


def shim(path: Path) -> Path:
    """A pyenv shim of a version that is not the active one: it refuses."""
    return script(path, 'echo "pyenv: python3.13: command not found" >&2; exit 127')


def pyenv(bin_dir: Path, root: Path) -> Path:
    return script(bin_dir / "pyenv", f'[ "$1" = root ] && echo {root}')


def fake_uv(path: Path, system: Path | None = None, managed: Path | None = None) -> Path:
    """`uv python find`: `system` for --system, `managed` for --managed-python; else not found."""
    return script(
        path,
        'case "$*" in\n'
        f"  *--system*) {f'echo {system}' if system else 'exit 2'} ;;\n"
        f"  *--managed-python*) {f'echo {managed}' if managed else 'exit 2'} ;;\n"
        "esac",
    )


def test_uv_s_find_comes_first_then_its_own_installs(tmp_path: Path) -> None:
    wanted = python(tmp_path / "uv-system" / "python3.13", "3.13.7")
    managed = python(tmp_path / "uv-managed" / "python3.13", "3.13.9")
    env = {"PATH": str(tmp_path / "empty")}
    found = function_envs.find_interpreter("3.13", fake_uv(tmp_path / "uv", system=wanted), env)
    assert (found.path, found.version, found.found_by, found.matches) == (wanted, "3.13.7", "uv", True)
    found = function_envs.find_interpreter("3.13", fake_uv(tmp_path / "uv2", managed=managed), env)
    assert (found.path, found.found_by) == (managed, "uv")


def test_pyenv_s_newest_version_of_the_minor_comes_next_whatever_pyenv_has_active(tmp_path: Path) -> None:
    root = tmp_path / "pyenv-root"
    for version in ("3.13.2", "3.13.10", "3.12.9", "3.130.1"):
        python(root / "versions" / version / "bin" / f"python{version.rsplit('.', 1)[0]}", version)
    bin_dir = tmp_path / "bin"
    pyenv(bin_dir, root)
    shim(bin_dir / "python3.13")  # pyenv's shim on the PATH refuses: not the active version
    found = function_envs.find_interpreter("3.13", fake_uv(tmp_path / "uv"), {"PATH": str(bin_dir)})
    assert (found.version, found.found_by) == ("3.13.10", "pyenv")
    assert found.path == root / "versions" / "3.13.10" / "bin" / "python3.13"


def test_then_every_python3_x_on_the_path_that_runs_and_is_that_version(tmp_path: Path) -> None:
    shims, wrong, right = tmp_path / "shims", tmp_path / "wrong", tmp_path / "right"
    shim(shims / "python3.13")
    python(wrong / "python3.13", "3.12.1")  # a name that lies is skipped too
    python(right / "python3.13", "3.13.1")
    env = {"PATH": f"{shims}:{wrong}:{right}"}
    found = function_envs.find_interpreter("3.13", None, env)
    assert (found.path, found.found_by) == (right / "python3.13", "PATH")


def test_without_one_the_plane_s_python_is_used_and_the_line_says_how_to_get_the_right_one(tmp_path: Path) -> None:
    own = python(tmp_path / "own" / "python3", "3.11.7")
    found = function_envs.find_interpreter("3.13", fake_uv(tmp_path / "uv"), {"PATH": str(tmp_path)}, fallback=own)
    assert (found.path, found.version, found.found_by, found.matches) == (own, "3.11.7", "fallback", False)
    line = found.line()
    assert "\n" not in line
    assert "no Python 3.13" in line and "Python 3.11.7 runs the functions" in line
    assert "uv python install 3.13" in line and "python3.13" in line and "make up" in line
    assert function_envs.find_interpreter("3.13", None, {"PATH": ""}).found_by in ("fallback", "pyenv", "PATH")


def test_the_line_for_a_found_interpreter_names_it_and_the_images_version(tmp_path: Path) -> None:
    line = Interpreter(tmp_path / "python3.13", "3.13.0", "pyenv", "3.13").line()
    assert line == f"function environments: Python 3.13.0 (pyenv: {tmp_path / 'python3.13'}), the images' 3.13"


def test_the_digest_changes_with_either_lock_and_with_the_interpreter(tmp_path: Path) -> None:
    interpreter = Interpreter(tmp_path / "python3.13", "3.13.0", "uv", "3.13")
    base = function_envs.digest(b"a==1", b"awslambdaric==4", interpreter)
    assert base == function_envs.digest(b"a==1", b"awslambdaric==4", interpreter)
    others = {
        function_envs.digest(b"a==2", b"awslambdaric==4", interpreter),
        function_envs.digest(b"a==1", b"awslambdaric==5", interpreter),
        function_envs.digest(b"a==1", b"awslambdaric==4", Interpreter(tmp_path / "other", "3.13.0", "uv", "3.13")),
        function_envs.digest(b"a==1", b"awslambdaric==4", Interpreter(tmp_path / "python3.13", "3.13.1", "uv", "3.13")),
        function_envs.digest(b"a==1awslambdaric==4", b"", interpreter),  # where one ends counts
    }
    assert base not in others and len(others) == 5


def test_status_shows_the_environment_s_python_and_marks_one_not_of_its_image() -> None:
    assert function_envs.runtime_text({"python": "3.13.0", "image_python": "3.13"}) == "python 3.13.0"
    mismatch = function_envs.runtime_text({"python": "3.11.7", "image_python": "3.13"})
    assert mismatch.startswith("python 3.11.7, not its image's 3.13")
    assert function_envs.runtime_text(None) == "no environment yet (make up makes it)"


MAKER = """
case "$1 $2" in
  "pip compile")
    out=""; prev=""
    for a in "$@"; do [ "$prev" = "--output-file" ] && out="$a"; prev="$a"; done
    echo "locked==1" > "$out" ;;
  "venv --quiet")
    for a in "$@"; do dir="$a"; done
    mkdir -p "$dir/bin" && ln -s {python} "$dir/bin/python" ;;
  "pip sync")
    [ -e {fail} ] && {{ echo "error: no matching distribution for humanize==99" >&2; exit 1; }}
    for a in "$@"; do last="$a"; done
    prev=""; for a in "$@"; do [ "$prev" = "--python" ] && py="$a"; prev="$a"; done
    cp "$last" "$(dirname "$(dirname "$py")")/synced-runtime.lock" ;;
esac
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """A one-function project outside this one and a uv that makes environments without the network;
    returns the function's folder, the uv and the file whose presence makes its installs fail."""
    code = one_function_project(tmp_path / "project", "probe", "probe", "def handler(event, context):\n    return 1\n")
    fail = tmp_path / "fail-installs"
    uv = script(tmp_path / "uv" / "uv", MAKER.format(python=sys.executable, fail=fail))
    monkeypatch.setattr(locks, "uv_binary", lambda root=None: uv)
    monkeypatch.setattr(function_envs, "LOCK_CACHE", tmp_path / "locks")  # never this project's cache
    return code, uv, fail


def test_an_environment_is_made_once_and_again_only_when_its_lock_changes(project: tuple[Path, Path, Path]) -> None:
    code, uv, _ = project
    (fn,) = load(code.parent.parent / "template.yaml").functions
    interpreter = Interpreter(Path(sys.executable), "3.13.0", "uv", "3.13")
    said: list[str] = []
    first = function_envs.ensure(fn, interpreter, uv, said.append)
    folder = function_envs.env_dir(fn)
    assert folder == code.parent.parent / ".cache" / "functions" / "probe"
    assert first.made and first.problem is None and first.python == folder / "bin" / "python"
    assert said[0].startswith("probe: making its environment (Python 3.13.0")
    assert said[-1].startswith("probe: environment ready in")
    marker = json.loads((folder / function_envs.MARKER).read_text())
    assert (marker["python"], marker["image_python"], marker["found_by"]) == ("3.13.0", "3.13", "uv")
    # host mode's runtime is installed beside the function's own lock
    assert (folder / "synced-runtime.lock").read_bytes() == function_envs.RUNTIME_LOCK.read_bytes()
    assert function_envs.current(fn, interpreter)

    said.clear()
    again = function_envs.ensure(fn, interpreter, uv, said.append)
    assert not again.made and again.python == first.python and said == []

    (code / "requirements.txt").write_text("humanize==4.17.0\n")  # re-locked (stale input), then remade
    assert not function_envs.current(fn, interpreter)
    assert function_envs.ensure(fn, interpreter, uv, said.append).made
    assert said[0].startswith("probe: updating its environment")
    other = Interpreter(Path(sys.executable), "3.13.1", "uv", "3.13")  # a new interpreter remakes it too
    assert not function_envs.current(fn, other) and function_envs.ensure(fn, other, uv).made


def test_a_failed_install_is_one_problem_line_and_keeps_the_environment_before_it(
    project: tuple[Path, Path, Path],
) -> None:
    code, uv, fail = project
    (fn,) = load(code.parent.parent / "template.yaml").functions
    envs = function_envs.FunctionEnvs(interpreter=Interpreter(Path(sys.executable), "3.13.0", "uv", "3.13"))
    assert envs.update(fn).made and envs.problems() == []
    folder = function_envs.env_dir(fn)

    fail.touch()
    (code / "requirements.txt").write_text("humanize==99\n")
    outcome = envs.update(fn)
    assert not outcome.made and outcome.python == folder / "bin" / "python"
    (problem,) = envs.problems()
    assert problem.startswith("probe: its packages could not be installed: `uv pip sync` failed: error: no matching")
    assert problem.endswith("it keeps its environment (python 3.13.0)") and "\n" not in problem
    assert envs.python(fn) == str(folder / "bin" / "python")
    assert (folder / function_envs.MARKER).is_file()
    assert sorted(p.name for p in folder.parent.iterdir()) == [".probe.lock", "probe"]  # nothing half-made

    fail.unlink()  # the next edit installs: the problem goes
    assert envs.update(fn).made and envs.problems() == []


def test_a_function_that_never_had_an_environment_runs_on_the_plane_s_python_meanwhile(
    project: tuple[Path, Path, Path],
) -> None:
    code, _, fail = project
    (fn,) = load(code.parent.parent / "template.yaml").functions
    fail.touch()
    envs = function_envs.FunctionEnvs(interpreter=Interpreter(Path(sys.executable), "3.13.0", "uv", "3.13"))
    outcome = envs.update(fn)
    assert outcome.python is None and envs.python(fn) == sys.executable
    assert envs.problems()[0].endswith("it has no environment")


def test_the_host_runtime_lock_is_current_and_pins_what_requirements_dev_pins() -> None:
    assert locks.stale_reason(function_envs.runtime_lock()) is None
    pins = locks.requirement_lines(function_envs.RUNTIME_INPUT)
    dev = set(locks.requirement_lines(locks.ROOT / "requirements-dev.txt"))
    assert {p.split("==")[0] for p in pins} == {"awslambdaric", "debugpy"} and set(pins) <= dev


def test_the_runtime_runs_on_the_function_s_python_under_debugpy_too(tmp_path: Path) -> None:
    (fn,) = load(one_function_project(tmp_path, "probe", "probe", "").parent.parent / "template.yaml").functions
    log = type("Log", (), {"append": lambda self, line: None})()
    plain = RieProcess(fn, 1, 2, {}, "rie", log, python="/envs/probe/bin/python")  # type: ignore[arg-type]
    assert plain.runtime_command() == [
        "/envs/probe/bin/python",
        "-m",
        "lambda_local.environments.runtime_shim",
        "app.handler",
    ]
    debug = RieProcess(fn, 1, 2, {}, "rie", log, debug=True, python="/envs/probe/bin/python")  # type: ignore[arg-type]
    command = debug.runtime_command()
    assert command[:3] == ["/envs/probe/bin/python", "-m", "debugpy"] and command[-2:] == [
        "lambda_local.environments.runtime_shim",
        "app.handler",
    ]


def test_its_command_says_the_interpreter_line_and_refuses_what_it_does_not_know(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert function_envs.main(["find"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("==> function environments: ")
    assert function_envs.main(["bogus"]) == 2


def test_environments_live_under_cache_never_among_the_sources(tmp_path: Path) -> None:
    project, probe = load(), load(locks.ROOT / "tests" / "support" / "probe" / "template.yaml")
    weather = project.function("weatherApi")
    assert function_envs.env_dir(weather) == locks.ROOT / ".cache" / "functions" / "weather-api"
    (fn, *_) = probe.functions
    assert function_envs.env_dir(fn) == locks.ROOT / ".cache" / "projects" / "tests-support-probe" / fn.directory
    (elsewhere,) = load(one_function_project(tmp_path, "probe", "probe", "").parent.parent / "template.yaml").functions
    assert function_envs.env_dir(elsewhere) == tmp_path / ".cache" / "functions" / "probe"
