"""Locked requirements: what makes a lock stale, and real uv runs that write them.

uv resolves here against wheels the tests make in a temporary folder (a uv.toml with no index and
that folder as find-links), so the locks are real uv output with real hashes, without the network.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys
import zipfile
from pathlib import Path

import pytest

from lambda_local.environments import locks
from lambda_local.settings import ROOT


def make_wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> Path:
    """A pure-Python wheel of one empty module, with its dependencies in its metadata."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": "",
        f"{dist_info}/METADATA": "Metadata-Version: 2.1\n"
        f"Name: {name}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{dist_info}/RECORD,,")
    wheel = folder / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in {**files, f"{dist_info}/RECORD": "\n".join(record) + "\n"}.items():
            zf.writestr(path, text)
    return wheel


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of wheels that uv resolves from, and from nothing else (no index, own cache)."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    config = tmp_path / "uv.toml"
    config.write_text(f'[pip]\nno-index = true\nfind-links = ["{folder.as_posix()}"]\n')
    monkeypatch.setenv("UV_CONFIG_FILE", str(config))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    make_wheel(folder, "uv", "0.0.1")  # the dev lock must pin a uv: a stand-in of that name
    make_wheel(folder, "alpha", "1.0", ("beta>=1",))
    make_wheel(folder, "beta", "1.0")
    make_wheel(folder, "gamma", "2.0")
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project laid out as this one: Dockerfiles, pyproject, the requirement files, two functions."""
    root = tmp_path / "project"
    (root / "images").mkdir(parents=True)
    (root / "images" / "lambda-python.Dockerfile").write_text(
        "# one image per function\nFROM public.ecr.aws/lambda/python:3.12\n"
    )
    (root / "images" / "lambda-local.Dockerfile").write_text("FROM python:3.13-slim\n")
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nrequires-python = ">=3.11"\n')
    (root / "requirements-dev.txt").write_text("uv==0.0.1\n")
    (root / "lambda_local").mkdir()
    (root / "lambda_local" / "requirements.txt").write_text("gamma\n")
    (root / "lambda_local" / "environments").mkdir()
    (root / "lambda_local" / "environments" / "host-runtime.txt").write_text("beta==1.0\n")
    (root / "shared").mkdir()
    (root / "shared" / "requirements.txt").write_text("# the shared library's\nalpha==1.0\n")
    (root / "tools").mkdir()
    for name, requirements in (("first", "gamma==2.0\n"), ("second", "# only shared/'s\n")):
        (root / "functions" / name).mkdir(parents=True)
        (root / "functions" / name / "requirements.txt").write_text(requirements)
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "bin" / "uv").symlink_to(locks.uv_binary())
    return root


def pins(lock: Path) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", lock.read_text(), re.MULTILINE))


def test_the_image_python_is_read_from_the_dockerfiles_from() -> None:
    dockerfile = (ROOT / locks.FUNCTION_DOCKERFILE).read_text()
    assert f"FROM public.ecr.aws/lambda/python:{locks.image_python_version()}\n" in dockerfile
    assert re.fullmatch(r"3\.\d+", locks.image_python_version())


def test_a_dockerfile_without_a_python_from_is_an_error_naming_it(tmp_path: Path) -> None:
    dockerfile = tmp_path / "odd.Dockerfile"
    dockerfile.write_text("FROM debian:bookworm\n")
    with pytest.raises(locks.LockError, match="odd.Dockerfile: no FROM of a python"):
        locks.dockerfile_python_version(dockerfile)


def test_comments_and_blank_lines_do_not_change_a_requirements_digest(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("alpha==1.0\n")
    digest = locks.requirements_digest(path)
    path.write_text("# why alpha\n\nalpha==1.0  # pinned: see the notes\n")
    assert locks.requirements_digest(path) == digest
    path.write_text("alpha==1.1\n")
    assert locks.requirements_digest(path) != digest


def test_a_function_lock_is_its_requirements_lock_from_shared_and_its_own(project: Path) -> None:
    function_dir = project / "functions" / "first"
    lock = locks.function_lock(function_dir)
    assert locks.lock_path(function_dir) == function_dir / "requirements.lock"
    assert lock.inputs == (project / "shared" / "requirements.txt", function_dir / "requirements.txt")
    assert lock.python == "3.12"


def test_the_dev_lock_takes_every_function_that_asks_for_something_by_glob(project: Path) -> None:
    assert locks.dev_lock(project).inputs == (
        project / "requirements-dev.txt",
        project / "lambda_local" / "requirements.txt",
        project / "shared" / "requirements.txt",
        project / "functions" / "first" / "requirements.txt",
    )
    assert locks.dev_lock(project).python == "3.11"  # pyproject.toml's requires-python


def test_ensure_lock_writes_a_hashed_lock_once_and_again_only_when_its_inputs_change(
    project: Path, wheels: Path
) -> None:
    function_dir = project / "functions" / "first"
    assert not locks.is_current(function_dir)
    assert locks.stale_reason(locks.function_lock(function_dir)) == "missing"

    assert locks.ensure_lock(function_dir)
    lock = function_dir / "requirements.lock"
    assert pins(lock) == {"alpha": "1.0", "beta": "1.0", "gamma": "2.0"}
    text = lock.read_text()
    for wheel in wheels.glob("[abg]*.whl"):
        assert f"--hash=sha256:{sha256(wheel)}" in text
    assert "# python: 3.12 (images/lambda-python.Dockerfile)\n" in text
    assert str(project) not in text  # paths relative to the project: the lock is committed
    assert locks.is_current(function_dir)
    assert not locks.ensure_lock(function_dir)

    (function_dir / "requirements.txt").write_text("# a comment changes nothing\ngamma==2.0\n")
    assert locks.is_current(function_dir)
    (function_dir / "requirements.txt").write_text("gamma==2.0\nbeta\n")
    assert locks.stale_reason(locks.function_lock(function_dir)) == "functions/first/requirements.txt changed"
    assert locks.ensure_lock(function_dir)
    assert locks.is_current(function_dir)


def test_a_new_image_python_makes_every_function_lock_stale(project: Path, wheels: Path) -> None:
    function_dir = project / "functions" / "second"
    locks.ensure_lock(function_dir)
    assert pins(locks.lock_path(function_dir)) == {"alpha": "1.0", "beta": "1.0"}
    (project / "images" / "lambda-python.Dockerfile").write_text("FROM public.ecr.aws/lambda/python:3.13\n")
    assert (
        locks.stale_reason(locks.function_lock(function_dir)) == "Python 3.12 -> 3.13 (images/lambda-python.Dockerfile)"
    )


def test_a_relock_keeps_the_pins_it_need_not_move_and_upgrade_moves_them(project: Path, wheels: Path) -> None:
    function_dir = project / "functions" / "second"
    locks.ensure_lock(function_dir)
    make_wheel(wheels, "beta", "1.1")
    (project / "shared" / "requirements.txt").write_text("alpha==1.0\ngamma\n")
    assert locks.ensure_lock(function_dir)  # stale: re-locked, beta stays where the lock had it
    assert pins(locks.lock_path(function_dir)) == {"alpha": "1.0", "beta": "1.0", "gamma": "2.0"}
    assert locks.ensure_lock(function_dir, upgrade=True)
    assert pins(locks.lock_path(function_dir))["beta"] == "1.1"


def test_a_resolution_that_fails_names_the_lock_and_uvs_reason(project: Path, wheels: Path) -> None:
    function_dir = project / "functions" / "first"
    (function_dir / "requirements.txt").write_text("gamma==9.9\n")
    with pytest.raises(
        locks.LockError, match=r"(?s)functions/first/requirements.lock: uv could not resolve.*gamma==9.9"
    ):
        locks.ensure_lock(function_dir)
    assert not locks.lock_path(function_dir).exists()


def test_the_dev_lock_and_uvs_bootstrap_from_it(project: Path, wheels: Path) -> None:
    assert not locks.is_dev_current(project)
    assert locks.ensure_dev_lock(project)
    assert pins(project / "requirements-dev.lock") == {"uv": "0.0.1", "alpha": "1.0", "beta": "1.0", "gamma": "2.0"}
    bootstrap = (project / "tools" / "uv-bootstrap.lock").read_text()
    assert pins(project / "tools" / "uv-bootstrap.lock") == {"uv": "0.0.1"}
    assert f"--hash=sha256:{sha256(next(wheels.glob('uv-*.whl')))}" in bootstrap
    assert locks.is_dev_current(project)
    assert not locks.ensure_dev_lock(project)

    (project / "tools" / "uv-bootstrap.lock").write_text("uv==0.0.0\n")
    assert not locks.is_dev_current(project)
    assert locks.stale(project)[-1] == "tools/uv-bootstrap.lock: differs from requirements-dev.lock's uv"
    assert locks.ensure_dev_lock(project)
    assert (project / "tools" / "uv-bootstrap.lock").read_text() == bootstrap

    # a new function with a package of its own: by glob, no requirements-dev.txt edit
    (project / "functions" / "third").mkdir()
    (project / "functions" / "third" / "requirements.txt").write_text("beta\n")
    assert locks.stale_reason(locks.dev_lock(project)) == "functions/third/requirements.txt changed"


def test_ensure_all_makes_every_lock_and_check_then_finds_none_stale(
    project: Path, wheels: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = locks.ensure_all(project)
    assert written == [
        "requirements-dev.lock",
        "lambda_local/requirements.lock",
        "lambda_local/environments/host-runtime.lock",
        "functions/first/requirements.lock",
        "functions/second/requirements.lock",
    ]
    assert locks.stale(project) == []
    assert locks.ensure_all(project) == []
    (project / "lambda_local" / "requirements.txt").write_text("gamma\nbeta\n")
    assert locks.stale(project) == [
        "requirements-dev.lock: lambda_local/requirements.txt changed",
        "lambda_local/requirements.lock: lambda_local/requirements.txt changed",
    ]


def test_uv_binary_is_the_one_setup_installed_or_an_error_naming_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert locks.uv_binary() == ROOT / ".venv" / "bin" / "uv"
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    with pytest.raises(locks.LockError, match=r"make setup.*tools/uv-bootstrap.lock"):
        locks.uv_binary(tmp_path)


def test_this_projects_locks_are_current() -> None:
    assert locks.stale() == [], "a requirements file changed without its lock: run `make lock` or `make setup`"


def test_the_function_image_installs_its_lock_with_hashes_required() -> None:
    dockerfile = (ROOT / locks.FUNCTION_DOCKERFILE).read_text()
    assert "COPY functions/${FUNCTION}/requirements.lock " in dockerfile
    assert "pip install --no-cache-dir --require-hashes --no-deps" in dockerfile
    plane = (ROOT / locks.PLANE_DOCKERFILE).read_text()
    assert "COPY lambda_local/requirements.lock " in plane
    assert "--require-hashes --no-deps" in plane
