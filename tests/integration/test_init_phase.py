"""A function's init phase (its module's imports) is not counted against its Timeout, as in Lambda, whose init
has a limit of its own: the RIE would count it against the first invocation's (it starts the runtime only
then). The plane opens a new environment with an init invocation the runtime shim answers once the module is
imported (pool._initialize); the first real invocation's REPORT line says the init's duration, as Lambda's
does, and the function's log holds no line of an invocation nobody made. In the stack's mode. (The init
invocation itself runs under the RIE's timer, the function's Timeout: an init longer than that still fails,
where Lambda allows 10 s.)"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.docker_probe import probe_plane_for_mode
from tests.support.probe_plane import ProbePlane, lambda_client, one_function_project

pytestmark = pytest.mark.integration

APP = """\
import time

time.sleep(3)  # the init phase: with the handler's 2.5 s, longer than the function's Timeout


def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"remaining_ms": context.get_remaining_time_in_millis()}
"""


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbePlane]:
    root = tmp_path_factory.mktemp("init-phase")
    one_function_project(root, "slowinit", "slowInit", APP, "Timeout: 5")
    probe = probe_plane_for_mode(root / "state", template=root / "template.yaml")
    try:
        probe.start()
        yield probe
    finally:
        probe.stop()


def invoke(event: dict[str, Any]) -> tuple[dict[str, Any], Any, str]:
    answer = lambda_client().invoke(FunctionName="slowInit", Payload=json.dumps(event).encode(), LogType="Tail")
    return answer, json.loads(answer["Payload"].read()), base64.b64decode(answer["LogResult"]).decode()


def starts(plane: ProbePlane) -> int:
    path = plane.state / "logs" / "slowinit.log"
    return path.read_text().count("START RequestId") if path.exists() else 0


def test_the_init_phase_does_not_count_against_the_first_invocations_timeout(plane: ProbePlane) -> None:
    """Its first invocation, or (tests in another order) the first after a timeout, which resets the runtime:
    its init runs apart again."""
    before = starts(plane)
    answer, body, tail = invoke({"sleep": 2.5})  # 3 s of init and 2.5 s of handler, with a Timeout of 5 s
    assert "FunctionError" not in answer, body
    assert 0 < body["remaining_ms"] <= 2500  # its 5 s are the handler's own: none spent on the init
    (report,) = [line for line in tail.splitlines() if line.startswith("REPORT RequestId")]
    init_ms = float(report.split("Init Duration: ")[1].split(" ms")[0])
    assert 3000 <= init_ms < 5000, report  # the module's sleep, said as Lambda says a cold start's init

    again, _, tail = invoke({})  # warm: no init, none in its REPORT
    assert "FunctionError" not in again and "Init Duration" not in tail

    (function,) = [f for f in plane.state_of()["functions"] if f["function"] == "slowInit"]
    assert function["cold_starts"] == 1 and len(function["instances"]) == 1
    assert starts(plane) - before == 2  # the init invocation's lines are not the function's


def test_the_timeout_still_counts_the_handler(plane: ProbePlane) -> None:
    answer, body, _ = invoke({"sleep": 6})
    assert answer.get("FunctionError") == "Unhandled" and body["errorType"] == "Sandbox.Timedout", body
