"""`make status`'s lines of the functions: each with its runtime (host mode: its own environment's Python,
marked when it is not its image's version)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lambda_local.environments import function_envs
from stack import control
from stack.functions import functions

LISTING = {
    "account": {"in_flight": 0, "concurrency_limit": 1000, "why": "Lambda's default", "available_mb": 1},
    "functions": [
        {"function": "weatherApi", "idle": 1, "busy": 0, "cold_starts": 1, "throttles": 0},
        {"function": "elsewhere", "idle": 0, "busy": 0, "cold_starts": 0, "throttles": 0},
    ],
    "problems": ["weather-api: its packages could not be installed: no such version; it keeps its environment"],
}


@pytest.fixture
def plane() -> Iterator[str]:
    class Listing(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = json.dumps(LISTING).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Listing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_each_function_line_ends_with_its_runtime_and_problems_are_listed(plane: str) -> None:
    lines, problems = control.environments_lines(plane, runtimes={"weatherApi": "python 3.13.0"})
    weather, elsewhere = lines.splitlines()[1:]
    assert weather.endswith("1 idle, 0 busy, 1 cold starts, 0 throttled; python 3.13.0")
    assert elsewhere.endswith("0 throttled")  # a function it knows no runtime of (a probe plane's)
    assert problems == LISTING["problems"]


def test_host_mode_s_runtime_is_each_function_s_environment_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "mode", lambda: "host")
    runtimes = control.function_runtimes()
    assert set(runtimes) == {fn.lambda_name for fn in functions()}
    for fn in functions():
        marker = function_envs.read_marker(function_envs.env_dir(fn))
        assert runtimes[fn.lambda_name] == function_envs.runtime_text(marker)
