"""`make debug` (host mode): a function's next invocation runs under debugpy and waits for an editor; the
test is that editor, speaking the Debug Adapter Protocol as VS Code does: it attaches, sets a breakpoint,
sees the invocation stop there, waits past the function's timeout, continues, and gets the result."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.dap import DapClient
from tests.support.probe_plane import INVOKE_PORT, ProbePlane, one_function_project

APP = """\
def handler(event, context):
    doubled = event["n"] * 2
    return {"doubled": doubled, "remaining_ms": context.get_remaining_time_in_millis()}
"""
BREAKPOINT_LINE = 3


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ProbePlane, Path]]:
    root = tmp_path_factory.mktemp("debug")
    folder = one_function_project(root, "debugged", "debugProbe", APP, "Timeout: 2")
    plane = ProbePlane(root / "state", template=root / "template.yaml", env={"LAMBDA_LOCAL_WATCH": "0"})
    plane.start()
    yield plane, folder / "app.py"
    plane.stop()


def post(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{INVOKE_PORT}{path}", data=json.dumps(body).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_an_editor_stops_at_a_breakpoint_past_the_timeout_and_the_invocation_returns(plane):
    probe, app = plane
    status, state = post("/_local/functions/debugProbe/debug", {"on": True})
    assert status == 200 and state["debugging"] is True
    assert "its next invocation waits for a debugger on 127.0.0.1:5678" in probe.log()
    result: dict[str, Any] = {}
    call = threading.Thread(
        target=lambda: result.update(post("/2015-03-31/functions/debugProbe/invocations", {"n": 21})[1])
    )
    call.start()
    editor = DapClient.initialized("127.0.0.1", 5678, timeout=30)
    try:
        editor.send("attach", justMyCode=True)
        editor.wait("event", "initialized")
        answer = editor.request("setBreakpoints", source={"path": str(app)}, breakpoints=[{"line": BREAKPOINT_LINE}])
        assert answer["body"]["breakpoints"][0]["verified"], answer
        editor.request("configurationDone")
        stopped = editor.wait("event", "stopped", timeout=30)
        assert stopped["body"]["reason"] == "breakpoint"
        thread = stopped["body"]["threadId"]
        frame = editor.request("stackTrace", threadId=thread)["body"]["stackFrames"][0]
        assert (Path(frame["source"]["path"]).resolve(), frame["line"]) == (app.resolve(), BREAKPOINT_LINE)
        time.sleep(3)  # past the function's 2 s timeout: no Sandbox.Timedout while stepping
        editor.request("continue", threadId=thread)
        call.join(30)
    finally:
        editor.close()
    assert result.get("doubled") == 42, result


def test_debugging_off_runs_plain_environments_again(plane):
    status, state = post("/_local/functions/debugProbe/debug", {"on": False})
    assert status == 200 and state["debugging"] is False
    status, body = post("/2015-03-31/functions/debugProbe/invocations", {"n": 2})
    assert status == 200 and body["doubled"] == 4
    assert body["remaining_ms"] <= 2000  # the template's timeout again


def test_a_function_that_does_not_exist_is_named_in_a_404(plane):
    status, body = post("/_local/functions/nope/debug", {"on": True})
    assert status == 404 and body["message"] == "Function not found", body
