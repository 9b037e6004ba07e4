"""Hot reload (lambda_local/environments/reload.py), host mode: a plane of its own serves a function copied into a
temporary folder; the test edits that copy while the plane runs. Docker mode's reload (an image
rebuilt, the environments replaced) is tested in tests/docker/test_hot_reload.py."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.probe_plane import INVOKE_PORT, ProbePlane, wait_for
from tests.support.reload_probe import copy_of_reloaded, write_app


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ProbePlane, Path]]:
    root = tmp_path_factory.mktemp("reload")
    folder = copy_of_reloaded(root, "one")
    plane = ProbePlane(root / "state", template=root / "template.yaml")
    plane.start()
    wait_for(lambda: "watching" in plane.log(), 10, "the plane's code watcher")
    yield plane, folder
    plane.stop()


def invoke(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{INVOKE_PORT}/2015-03-31/functions/reloadProbe/invocations",
        data=json.dumps(event).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read()), {k.lower(): v for k, v in response.headers.items()}


def served(value: str) -> bool:
    return invoke({})[0].get("value") == value


def test_an_edit_is_served_by_the_next_invocation_and_one_in_flight_finishes_on_the_old_code(copy):
    plane, folder = copy
    write_app(folder, "before")
    wait_for(lambda: served("before"), 15, "the first edit served")
    in_flight: dict[str, Any] = {}
    slow = threading.Thread(target=lambda: in_flight.update(invoke({"sleep": 3})[0]))
    slow.start()
    time.sleep(1)  # the slow invocation is running on the old code
    write_app(folder, "after")
    wait_for(lambda: served("after"), 15, "the edit served")
    slow.join(30)
    assert in_flight.get("value") == "before"
    assert "reloaded reloadProbe (functions/reloaded/app.py): new environment ready in" in plane.log()


def test_a_syntax_error_fails_the_next_invocation_and_the_next_good_save_recovers(copy):
    plane, folder = copy
    (folder / "app.py").write_text("def handler(event, context:\n")

    def failing() -> dict[str, Any] | None:
        body, headers = invoke({})
        return body if headers.get("x-amz-function-error") else None

    error = wait_for(failing, 15, "the broken edit's error")
    # Lambda reports a syntax error in the handler's module as Runtime.UserCodeSyntaxError (awslambdaric).
    assert error["errorType"] == "Runtime.UserCodeSyntaxError", error
    # The reload says so on one line naming the file and line, never "new environment ready".
    syntax = "functions/reloaded/app.py:1: SyntaxError"  # the first "does not load" line may be another test's
    line = wait_for(lambda: next((x for x in plane.log().splitlines() if syntax in x), None), 15, "the reload line")
    assert "does not load" in line and "ready" not in line
    assert any("reloadProbe: its code does not load" in p for p in plane.state_of()["problems"])
    write_app(folder, "fixed")
    wait_for(lambda: served("fixed"), 15, "the fixed code served")
    wait_for(lambda: not any("does not load" in p for p in plane.state_of()["problems"]), 15, "the problem cleared")


def test_an_edit_that_fails_to_import_is_named_with_its_line(copy):
    plane, folder = copy
    (folder / "app.py").write_text(
        "import json\n\nimport no_such_package_here\n\n\ndef handler(event, context):\n    return {}\n"
    )
    line = wait_for(
        lambda: next((x for x in plane.log().splitlines() if "No module named 'no_such_package_here'" in x), None),
        15,
        "the import error's reload line",
    )
    assert "functions/reloaded/app.py:3: ModuleNotFoundError" in line
    write_app(folder, "fixed again")
    wait_for(lambda: served("fixed again"), 15, "the fixed code served")
    # Its reload is over (a fresh environment may serve the fix before the reload says so).
    wait_for(lambda: not any("does not load" in p for p in plane.state_of()["problems"]), 15, "the problem cleared")


def test_bytecode_and_sample_events_do_not_reload(copy):
    plane, folder = copy
    before = plane.log().count("reloaded reloadProbe")
    write_app(folder, "steady")
    wait_for(lambda: plane.log().count("reloaded reloadProbe") > before, 15, "the edit's reload line")
    wait_for(lambda: served("steady"), 15, "the edit served")
    reloads = plane.log().count("reloaded reloadProbe")
    (folder / "events").mkdir(exist_ok=True)
    (folder / "events" / "sample.json").write_text("{}")
    (folder / "__pycache__").mkdir(exist_ok=True)
    (folder / "__pycache__" / "x.cpython-313.pyc").write_bytes(b"\0")
    time.sleep(1.5)
    assert plane.log().count("reloaded reloadProbe") == reloads


def test_an_edit_of_the_same_size_within_the_same_second_is_served(copy):
    # Python trusts cached bytecode whose recorded mtime (whole seconds) and size match the source.
    plane, folder = copy
    write_app(folder, "aaaa")
    wait_for(lambda: served("aaaa"), 15, "the first edit served")
    write_app(folder, "bbbb")
    wait_for(lambda: served("bbbb"), 15, "the same-size edit served")
