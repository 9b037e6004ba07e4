"""`make debug` in Docker mode: the function's next environment is a container of its debug image
(debugpy added, never pushed) with 5678 published on the host's loopback; the test attaches as an editor
does, stops at a breakpoint in /var/task/app.py past the function's timeout, continues, and gets the
result."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any

import stack
from tests.support.dap import DapClient

EVENT = json.loads((stack.ROOT / "events" / "weather-api" / "http-api-city.json").read_text())


def post(path: str, body: Any) -> tuple[int, Any]:
    request = urllib.request.Request(f"{stack.LAMBDA_ENDPOINT}{path}", data=json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def breakpoint_line() -> int:
    """The handler's first line of body in the function's app.py."""
    lines = (stack.ROOT / "functions" / "weather-api" / "app.py").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("def handler("))
    return start + 2  # 1-based: the line after the def


def test_an_editor_stops_at_a_breakpoint_in_the_container_and_the_invocation_returns():
    status, state = post("/_local/functions/weatherApi/debug", {"on": True})
    assert status == 200 and state["debugging"] is True, state
    result: dict[str, Any] = {}
    call = threading.Thread(
        target=lambda: result.update(
            zip(("status", "body"), post("/2015-03-31/functions/weatherApi/invocations", EVENT), strict=True)
        )
    )
    call.start()
    try:
        editor = DapClient.initialized("127.0.0.1", 5678, timeout=180)  # the debug image is built first
        editor.send("attach", justMyCode=True)
        editor.wait("event", "initialized", timeout=60)
        line = breakpoint_line()
        answer = editor.request("setBreakpoints", source={"path": "/var/task/app.py"}, breakpoints=[{"line": line}])
        assert answer["body"]["breakpoints"][0]["verified"], answer
        editor.request("configurationDone")
        stopped = editor.wait("event", "stopped", timeout=60)
        frame = editor.request("stackTrace", threadId=stopped["body"]["threadId"])["body"]["stackFrames"][0]
        assert (frame["source"]["path"], frame["line"]) == ("/var/task/app.py", line)
        time.sleep(11)  # past weatherApi's 10 s timeout
        editor.request("continue", threadId=stopped["body"]["threadId"])
        call.join(60)
        editor.close()
        assert result["status"] == 200 and result["body"]["statusCode"] == 200, result
    finally:
        post("/_local/functions/weatherApi/debug", {"on": False})
