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


def test_host_mode_ports_come_from_below_the_ephemeral_range_and_are_never_given_twice():
    from lambda_local.runtimes import RIE_PORTS, free_port

    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(RIE_PORTS[0] <= p <= RIE_PORTS[1] < 32768 for p in ports)


def test_an_rie_whose_port_was_taken_meanwhile_starts_again_on_fresh_ports(tmp_path):  # type: ignore[no-untyped-def]
    import socket

    from lambda_local.environment import function_env
    from lambda_local.runtimes import LogBuffer, RieProcess, free_port
    from stack.host_mode import rie_binary

    template = load()
    fn = template.function("weatherApi")
    env = function_env(template, fn, "http://127.0.0.1:1", "http://127.0.0.1:1")
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", free_port()))
    squatter.listen(1)
    taken = squatter.getsockname()[1]
    instance = RieProcess(fn, free_port(), taken, env, rie_binary(), LogBuffer(tmp_path / "rie.log"))

    async def scenario() -> None:
        try:
            await instance.start()
            assert instance.api_port != taken and instance.url == f"http://127.0.0.1:{instance.port}"
            assert instance.process is not None and instance.process.returncode is None
        finally:
            await instance.stop()

    try:
        asyncio.run(scenario())
    finally:
        squatter.close()
    assert any("new ports" in line for line in instance.log.since(0))
