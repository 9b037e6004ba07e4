"""Asynchronous invocations survive their own failure paths: a destination that cannot be reached
is tried again with back-off, a record too large for SQS is cut to fit, and an error while settling
one event never stops the function's worker."""

import asyncio
import json
from typing import Any

from lambda_local import async_invoke, recursion
from lambda_local.async_invoke import AsyncInvoker
from lambda_local.destinations import SQS_MESSAGE_LIMIT, fit_to_queue
from lambda_local.providers import AsyncInvokeConfig, load
from lambda_local.runtimes import InvokeResult

FN = load().function("weatherApi")


class FailingRuntime:
    """Every invocation ends in a function error (the pool's answer, without environments)."""

    fn = FN
    concurrency = 1

    def __init__(self) -> None:
        self.calls = 0
        self.traces: list[str | None] = []

    async def invoke_when_free(
        self, payload: bytes, request_id: str | None = None, trace_id: str | None = None
    ) -> InvokeResult:
        self.calls += 1
        self.traces.append(trace_id)
        return InvokeResult(b'{"errorType": "E"}', "Unhandled", f"r{self.calls}", "", 1.0)


def invoker(send: Any, lines: list[str]) -> tuple[AsyncInvoker, FailingRuntime]:
    runtime = FailingRuntime()

    def report(*args: Any, **_: Any) -> None:
        lines.append(str(args[5]))

    config = AsyncInvokeConfig(maximum_retry_attempts=0)
    return AsyncInvoker(runtime, config, "arn:f", send, report, (0.0,)), runtime  # type: ignore[arg-type]


def test_an_unreachable_destination_is_tried_again_and_the_worker_goes_on(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(async_invoke, "DESTINATION_ATTEMPTS", 3)
    real_sleep = asyncio.sleep
    monkeypatch.setattr(async_invoke.asyncio, "sleep", lambda _delay: real_sleep(0))
    sent: list[dict[str, Any]] = []
    tries = {"n": 0}

    async def send(record: dict[str, Any]) -> None:
        tries["n"] += 1
        if tries["n"] <= 4:  # the first event: 3 tries, all fail; the second event: fails once, then works
            raise ConnectionError("endpoint away")
        sent.append(record)

    async def scenario() -> list[str]:
        lines: list[str] = []
        async_invoker, runtime = invoker(send, lines)
        async_invoker.start()
        async_invoker.submit(b'{"n": 1}')
        async_invoker.submit(b'{"n": 2}')
        for _ in range(200):
            if sent:
                break
            await real_sleep(0.01)
        async_invoker.stop()
        assert runtime.calls == 2  # the worker lived on to run the second event
        return lines

    lines = asyncio.run(scenario())
    assert [record["requestPayload"] for record in sent] == [{"n": 2}]
    assert sum("destination failed" in line for line in lines) == 3
    assert any(line.startswith("failed: ConnectionError") for line in lines)  # the first one, said so


def test_a_record_too_large_for_sqs_is_cut_to_fit() -> None:
    payload = {"blob": "x" * SQS_MESSAGE_LIMIT}
    record = {"version": "1.0", "requestPayload": payload, "responsePayload": {"errorType": "E"}}
    fitted = fit_to_queue(record)
    assert len(json.dumps(fitted).encode()) <= SQS_MESSAGE_LIMIT
    assert (
        fitted["requestPayload"]["truncated"] is True and fitted["requestPayload"]["bytes"] > SQS_MESSAGE_LIMIT - 1000
    )
    assert fitted["responsePayload"] == {"errorType": "E"}
    small = {"requestPayload": {"a": 1}}
    assert fit_to_queue(small) == small


def test_an_event_of_a_chain_that_ran_the_function_16_times_goes_to_the_destination_not_invoked() -> None:
    """Lambda's recursive loop detection for asynchronous invokes: the 17th round is not run; its event
    goes to the on-failure destination with the condition RecursiveInvocationException."""
    sent: list[dict[str, Any]] = []

    async def send(record: dict[str, Any]) -> None:
        sent.append(record)

    async def scenario() -> tuple[FailingRuntime, list[str]]:
        lines: list[str] = []
        async_invoker, runtime = invoker(send, lines)
        async_invoker.start()
        chain = None
        for _ in range(recursion.MAX_DEPTH):  # what 16 rounds of the function calling itself carry
            chain = recursion.next_trace(chain, FN.lambda_name)
        async_invoker.submit(b'{"n": 1}', trace=chain)  # round 16: runs
        async_invoker.submit(b'{"n": 2}', trace=recursion.next_trace(chain, FN.lambda_name))  # round 17
        async_invoker.submit(b'{"n": 3}')  # from outside any chain: runs, its lineage starts at one
        for _ in range(300):
            if runtime.calls == 2 and len(sent) == 3:
                break
            await asyncio.sleep(0.01)
        async_invoker.stop()
        return runtime, lines

    runtime, lines = asyncio.run(scenario())
    assert runtime.calls == 2  # events 1 and 3; FailingRuntime fails both, so they reach the destination too
    assert recursion.depth(runtime.traces[1], FN.lambda_name) == 1
    stopped = [r for r in sent if r["requestPayload"] == {"n": 2}]
    assert len(stopped) == 1 and stopped[0]["requestContext"]["condition"] == "RecursiveInvocationException"
    assert stopped[0]["requestContext"]["approximateInvokeCount"] == 0
    assert "on-failure destination (RecursiveInvocationException)" in lines
