"""One request id per invocation, as in Lambda (host mode's runtime, lambda_local/environments/runtime_shim.py): the
id the Invoke API answers (the 202 of an `Event` invoke too) is the function's `context.aws_request_id`,
the id of its START / REPORT lines and of its retries, and the function gets an X-Ray trace header."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.probe_plane import INVOKE_PORT, ProbePlane, one_function_project, wait_for

APP = """\
import os


def handler(event, context):
    print("handler saw", context.aws_request_id)
    if event.get("fail"):
        raise ValueError("failing on purpose")
    custom = context.client_context.custom if context.client_context else None
    return {"request_id": context.aws_request_id, "trace": os.environ.get("_X_AMZN_TRACE_ID"), "custom": custom}
"""


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbePlane]:
    root = tmp_path_factory.mktemp("ids")
    one_function_project(root, "ids", "idsProbe", APP, "EventInvokeConfig: {MaximumRetryAttempts: 1}")
    probe = ProbePlane(root / "state", template=root / "template.yaml", env={"ASYNC_RETRY_DELAYS": "0.2"})
    probe.start()
    yield probe
    probe.stop()


def invoke(event: dict[str, Any], **headers: str) -> tuple[dict[str, str], Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{INVOKE_PORT}/2015-03-31/functions/idsProbe/invocations",
        data=json.dumps(event).encode(),
        method="POST",
        headers=headers,
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read()
        return {k.lower(): v for k, v in response.headers.items()}, json.loads(body) if body else None


def log(plane: ProbePlane) -> str:
    path = plane.state / "logs" / "ids.log"
    return path.read_text() if path.exists() else ""


def test_a_synchronous_invocation_has_one_id_and_a_trace_header(plane: ProbePlane) -> None:
    headers, body = invoke({})
    request_id = headers["x-amzn-requestid"]
    assert body["request_id"] == request_id
    assert body["trace"].startswith("Root=1-") and ";Parent=" in body["trace"]
    assert body["custom"] is None  # the plane's part of the client context is taken out again
    # The log file is written by a thread of its own (environments/log_files.py): a moment after the answer.
    lines = (f"START RequestId: {request_id}", f"REPORT RequestId: {request_id}")
    wait_for(lambda: all(line in log(plane) for line in lines), 10, "the invocation's START and REPORT lines")


def test_the_202_of_an_event_is_the_id_of_every_attempt_and_its_lines(plane: ProbePlane) -> None:
    headers, _ = invoke({"fail": True, "at": time.time_ns()}, **{"X-Amz-Invocation-Type": "Event"})
    request_id = headers["x-amzn-requestid"]
    wait_for(lambda: log(plane).count(f"handler saw {request_id}") == 2, 20, "both attempts")  # one retry
    assert log(plane).count(f"START RequestId: {request_id}") == 2
    attempts = [d for d in plane.deliveries("idsProbe") if d["request_id"] == request_id and d["outcome"] == "error"]
    assert [d["function_request_id"] for d in attempts] == [request_id, request_id]
