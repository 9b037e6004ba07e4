"""A function with a package no other function uses runs in host mode, on its image's Python: added as a
user adds one (`make new-function`'s scaffold: its folder and its template entry, in a project of its
own), with `humanize` in its requirements.txt. Its plane makes it an environment of its own
(function_envs.py); an edit of its requirements re-locks and re-installs it while the plane runs, and
one that cannot be installed is a problem `make status` lists while the function keeps its packages."""

from __future__ import annotations

import importlib.util
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_local.environments import function_envs, locks
from lambda_local.providers import load
from tests.support.probe_plane import INVOKE_PORT, NEW_PROJECT_TEMPLATE, ProbePlane, wait_for
from tools.new_function import scaffold

pytestmark = pytest.mark.integration

TEMPLATE = NEW_PROJECT_TEMPLATE

# The function's own logic (the scaffold's pure module), written as its author would.
LOGIC = '''"""humaneProbe's logic: sizes for people."""

import importlib.metadata
import json
import sys
from typing import Any

import humanize


def answer(event: dict[str, Any]) -> dict[str, Any]:
    body = {
        "size": humanize.naturalsize(event.get("bytes", 3000000)),
        "humanize": importlib.metadata.version("humanize"),
        "python": list(sys.version_info[:3]),
        "prefix": sys.prefix,
    }
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("humane-project")
    (root / "template.yaml").write_text(TEMPLATE)
    scaffold("humane-probe", "Says sizes as people do.", root)
    code = root / "functions" / "humane-probe"
    (code / "humane_probe.py").write_text(LOGIC)
    (code / "requirements.txt").write_text("humanize==4.17.0\n")
    return root


@pytest.fixture(scope="module")
def plane(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbePlane]:
    running = ProbePlane(tmp_path_factory.mktemp("humane-plane"), project / "template.yaml")
    running.start(timeout=300)  # its environment is made first: seconds with uv's cache, more on a cold one
    wait_for(lambda: "watching" in running.log(), 10, "the plane's code watcher")
    yield running
    running.stop()


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{INVOKE_PORT}/2015-03-31/functions/humaneProbe/invocations",
        data=json.dumps(event).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
        assert response.headers.get("X-Amz-Function-Error") is None, answer
    body: dict[str, Any] = json.loads(answer["body"])
    return body


def problems(plane: ProbePlane) -> list[str]:
    return [str(p) for p in plane.state_of()["problems"]]


def test_the_package_is_the_function_s_own_nobody_else_s() -> None:
    assert importlib.util.find_spec("humanize") is None, "the plane's and the tests' .venv must not have humanize"
    assert not any(
        "humanize" in line for d in locks.function_dirs() for line in locks.requirement_lines(d / "requirements.txt")
    )


def test_the_added_function_runs_on_its_own_package_and_its_image_s_python(project: Path, plane: ProbePlane) -> None:
    pinned = (project / "functions" / "humane-probe" / "requirements.txt").read_text().strip().split("==")[1]
    answer = invoke({"bytes": 3000000})
    assert answer["size"] == "3.0 MB" and answer["humanize"] == pinned  # 4.17.0, or the edit test's
    assert ".".join(map(str, answer["python"][:2])) == locks.image_python_version()
    (fn,) = load(project / "template.yaml").functions
    assert Path(answer["prefix"]) == function_envs.env_dir(fn)
    assert problems(plane) == []


def test_a_requirements_edit_reinstalls_and_one_that_cannot_install_keeps_the_packages(
    project: Path, plane: ProbePlane
) -> None:
    requirements = project / "functions" / "humane-probe" / "requirements.txt"
    requirements.write_text("humanize==0.0.999\n")  # no such version: the re-lock fails
    wait_for(lambda: any("could not be installed" in p for p in problems(plane)), 120, "the install problem listed")
    (problem,) = [p for p in problems(plane) if "could not be installed" in p]
    assert problem.startswith("humane-probe: its packages could not be installed:") and "humanize" in problem
    assert problem.endswith(f"it keeps its environment (python {'.'.join(map(str, invoke({})['python']))})")
    assert invoke({})["humanize"] == "4.17.0"  # the environment before the failed install serves on

    requirements.write_text("humanize==4.16.0\n")
    updated = "reloaded humaneProbe (functions/humane-probe/requirements.txt): environment updated in"
    wait_for(lambda: updated in plane.log(), 120, "the reload with the environment updated")
    assert not any("could not be installed" in p for p in problems(plane))
    answer = invoke({"bytes": 1000})
    assert (answer["humanize"], answer["size"]) == ("4.16.0", "1.0 kB")
