"""Lambda's elasticity on a probe plane: a burst gets one execution environment per concurrent
invocation, idle ones are reaped, and reserved concurrency throttles synchronous invokes with Lambda's
reason while asynchronous ones wait their turn."""

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.probe_plane import INVOKE_PORT, ProbePlane, wait_for

pytestmark = pytest.mark.integration

IDLE_S = 3


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbePlane]:
    running = ProbePlane(tmp_path_factory.mktemp("concurrency"), env={"LAMBDA_LOCAL_IDLE_SECONDS": str(IDLE_S)})
    running.create_resources()
    running.start()
    yield running
    running.stop()


def invoke(function: str, event: dict[str, Any], invocation: str = "RequestResponse") -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{INVOKE_PORT}/2015-03-31/functions/{function}/invocations",
        data=json.dumps(event).encode(),
        headers={"X-Amz-Invocation-Type": invocation},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
            return response.status, json.loads(body) if body else {}
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def state(function: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{INVOKE_PORT}/_local/functions", timeout=10) as response:
        return next(f for f in json.load(response)["functions"] if f["function"] == function)


def test_a_burst_of_32_gets_32_environments_which_are_reaped_when_idle(plane: ProbePlane):
    most = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            most[0] = max(most[0], len(state("probeSleep")["instances"]))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(32) as pool:
            answers = list(pool.map(lambda i: invoke("probeSleep", {"tag": i}), range(32)))
    finally:
        done.set()
        watcher.join()
    assert [status for status, _ in answers] == [200] * 32
    assert len({body["pid"] for _, body in answers}) == 32  # one environment each
    assert most[0] == 32
    colds = [d.get("cold") for d in plane.deliveries("probeSleep")]
    assert colds.count(True) == 32
    status, body = invoke("probeSleep", {"seconds": 0})
    assert status == 200 and body["pid"] in {b["pid"] for _, b in answers}  # warm: an environment reused
    assert plane.deliveries("probeSleep")[-1]["cold"] is False
    wait_for(lambda: not state("probeSleep")["instances"], IDLE_S + 10, "the idle environments to be reaped")


def test_reserved_concurrency_one_gives_one_success_and_seven_throttles_and_async_events_all_run(plane: ProbePlane):
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: invoke("probeSleepReservedOne", {"tag": i}), range(8)))
    assert sorted(status for status, _ in answers) == [200] + [429] * 7
    reasons = {body.get("Reason") for status, body in answers if status == 429}
    assert reasons == {"ReservedFunctionConcurrentInvocationLimitExceeded"}
    before = len([d for d in plane.deliveries("probeSleepReservedOne") if d["outcome"] == "ok"])
    most = 0
    for i in range(8):
        assert invoke("probeSleepReservedOne", {"tag": i, "seconds": 0.2}, "Event")[0] == 202

    def settled() -> bool:
        nonlocal most
        current = state("probeSleepReservedOne")
        most = max(most, current["busy"])
        return len([d for d in plane.deliveries("probeSleepReservedOne") if d["outcome"] == "ok"]) >= before + 8

    wait_for(settled, 30, "8 asynchronous invocations, one at a time")
    assert most <= 1 and len(state("probeSleepReservedOne")["instances"]) <= 1


def test_reserved_zero_throttles_everything(plane: ProbePlane):
    status, body = invoke("probeSleepReservedZero", {})
    assert status == 429 and body["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert state("probeSleepReservedZero")["instances"] == []


def test_a_runtime_that_exits_at_every_start_is_held_back_and_reported_crash_looping(plane: ProbePlane):
    from stack import environments_lines

    answers = []
    hammered_until = time.monotonic() + 12
    while time.monotonic() < hammered_until:
        started = time.monotonic()
        status, body = invoke("probeExit", {})
        answers.append((status, body, time.monotonic() - started))
        time.sleep(0.05)
    assert {(status, body.get("errorType")) for status, body, _ in answers} == {(200, "Runtime.ExitError")}
    assert max(took for _, _, took in answers) < 10  # held back, answered: never hung
    supervision = state("probeExit")["supervision"]
    # Without back-off every one of these invocations would start the runtime again.
    assert len(answers) > 40 and supervision["exits"] < 10
    assert supervision["crash_looping"] and any("exit status 3" in line for line in supervision["last_lines"])
    lines, problems = environments_lines(f"http://127.0.0.1:{INVOKE_PORT}")
    assert any(p.startswith("probeExit crash-looping") for p in problems), problems
    assert "crash-looping" in next(line for line in lines.splitlines() if "probeExit" in line)
    assert invoke("probeSleep", {"seconds": 0})[0] == 200  # the others are not held back
