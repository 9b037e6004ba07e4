"""How the queue and the RIE's answers become Lambda's answers (no runtime started)."""

import asyncio
import json

import httpx
import pytest

from lambda_local.providers import load
from lambda_local.runtimes import FunctionRuntime, Throttled, classify

RID = "8476a536-e9f4-4b8a-9b2e-6e5a1b3c4d5e"


def test_a_raised_exception_is_a_function_error_but_a_returned_lookalike_is_not():
    raised = json.dumps({"errorMessage": "x", "errorType": "ValueError", "requestId": RID, "stackTrace": []}).encode()
    assert classify(200, raised, RID, 3) == (raised, "Unhandled")
    returned = json.dumps({"errorMessage": "x", "errorType": "ValueError"}).encode()
    assert classify(200, returned, RID, 3) == (returned, None)
    other_id = json.dumps({"errorMessage": "x", "errorType": "E", "requestId": "someone-else"}).encode()
    assert classify(200, other_id, RID, 3)[1] is None


@pytest.mark.parametrize(
    ("status", "body", "error_type"),
    [
        (0, b"", "Runtime.ExitError"),
        (200, b"Task timed out after 3.00 seconds", "Sandbox.Timedout"),
        (502, b"oops", "Runtime.Unknown"),
    ],
)
def test_crashes_timeouts_and_emulator_errors_become_lambda_shaped_errors(status, body, error_type):
    payload, function_error = classify(status, body, RID, 3)
    assert function_error == "Unhandled"
    assert json.loads(payload)["errorType"] == error_type
    assert RID in json.loads(payload)["errorMessage"] or error_type == "Runtime.Unknown"


def test_a_full_queue_throttles():
    async def scenario() -> None:
        runtime = FunctionRuntime(load().functions[0], [], queue_size=2, client=httpx.AsyncClient())
        pending = [asyncio.create_task(runtime.invoke(b"{}")) for _ in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(Throttled):
            await runtime.invoke(b"{}")
        assert runtime.state()["queued"] == 2
        for task in pending:
            task.cancel()

    asyncio.run(scenario())
