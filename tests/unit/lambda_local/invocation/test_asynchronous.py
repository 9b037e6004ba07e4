"""Asynchronous invocations survive their own failure paths: a destination that cannot be reached
is tried again with back-off, a record too large for SQS is cut to fit, and an error while settling
one event never stops the function's worker, nor does a failing event store."""

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from lambda_local.environments.instance import InvokeResult
from lambda_local.events import recursion
from lambda_local.events.destinations import SQS_MESSAGE_LIMIT, fit_to_queue
from lambda_local.invocation import asynchronous, event_store
from lambda_local.invocation.asynchronous import AsyncInvoker
from lambda_local.invocation.event_store import EventStore, StoreError
from lambda_local.providers import AsyncInvokeConfig, load

FN = load().function("weatherApi")


class FailingRuntime:
    """Every invocation ends in a function error (the pool's answer, without environments)."""

    fn = FN
    concurrency = 1

    def __init__(self) -> None:
        self.calls = 0
        self.traces: list[str | None] = []

    async def invoke_when_free(
        self, payload: bytes, request_id: str | None = None, trace_id: str | None = None, tenant: str | None = None
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
    monkeypatch.setattr(asynchronous, "DESTINATION_ATTEMPTS", 3)
    real_sleep = asyncio.sleep
    monkeypatch.setattr(asynchronous.asyncio, "sleep", lambda _delay: real_sleep(0))
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


class WorkingRuntime(FailingRuntime):
    """Every invocation succeeds; `broken`: each raises instead (the environment could not be reached)."""

    def __init__(self, broken: bool = False) -> None:
        super().__init__()
        self.broken = broken

    async def invoke_when_free(
        self, payload: bytes, request_id: str | None = None, trace_id: str | None = None, tenant: str | None = None
    ) -> InvokeResult:
        self.calls += 1
        if self.broken:
            raise ConnectionError("environment away")
        return InvokeResult(b"{}", None, f"r{self.calls}", "", 1.0)


class FlakyStore(EventStore):
    """A real store whose statements starting with `verb` fail the next `failures` times (those of
    event `only`, when given)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.verb, self.failures, self.only = "", 0, ""
        self.real = self._db
        self._db = self  # type: ignore[assignment]

    def execute(self, sql: str, *args: Any) -> Any:
        if self.failures and sql.startswith(self.verb) and (not self.only or self.only in args[0]):
            self.failures -= 1
            raise sqlite3.OperationalError("database is locked")
        return self.real.execute(sql, *args)


def stored_invoker(tmp_path: Path, runtime: WorkingRuntime, lines: list[str]) -> tuple[AsyncInvoker, FlakyStore]:
    store = FlakyStore(tmp_path / "events.sqlite")

    def report(*args: Any, **_: Any) -> None:
        lines.append(f"{args[2]} {args[5]}")

    config = AsyncInvokeConfig(maximum_retry_attempts=0)
    return AsyncInvoker(runtime, config, "arn:f", None, report, (0.0,), store), store  # type: ignore[arg-type]


async def until(condition: Any, what: str) -> None:
    for _ in range(300):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


@pytest.fixture
def quick_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_store, "RETRY_DELAYS", (0.0,))
    monkeypatch.setattr(asynchronous, "REMOVE_RETRY_S", (0.05,))


@pytest.mark.usefixtures("quick_store")
def test_a_store_that_fails_to_remove_a_settled_event_ends_no_worker_and_is_retried(tmp_path: Path) -> None:
    """Removal fails on every attempt of the first event's settling (a lock, a full disk): the worker
    goes on to the next event, and the first is removed in the background once the store works."""
    runtime, lines = WorkingRuntime(), []

    async def scenario() -> FlakyStore:
        invoker, store = stored_invoker(tmp_path, runtime, lines)
        first = invoker.submit(b'{"n": 1}', durable=True)
        # Every attempt of its settling fails, and of the first try in the background
        store.verb, store.failures, store.only = "DELETE", 2 * event_store.ATTEMPTS, first
        invoker.start()
        second = invoker.submit(b'{"n": 2}', durable=True)
        await until(lambda: runtime.calls == 2, "the second event to run")
        await until(lambda: not list(store.pending()), "both events to be removed")
        invoker.stop()
        assert any(line.startswith(f"{first} store remove failed, retried") for line in lines), lines
        assert f"{first} removed from the store (try 3)" in lines
        assert not any(line.startswith(second) and "store" in line for line in lines)
        return store

    store = asyncio.run(scenario())
    assert store.unremoved == set() and store.problems.failures == 2  # two removals failed every attempt


@pytest.mark.usefixtures("quick_store")
def test_an_attempt_count_the_store_cannot_keep_does_not_stop_the_invocation(tmp_path: Path) -> None:
    runtime, lines = WorkingRuntime(), []

    async def scenario() -> None:
        invoker, store = stored_invoker(tmp_path, runtime, lines)
        store.verb, store.failures = "UPDATE", event_store.ATTEMPTS
        invoker.start()
        invoker.submit(b"{}", durable=True)
        await until(lambda: not list(store.pending()), "the event to settle")
        invoker.stop()

    asyncio.run(scenario())
    assert runtime.calls == 1 and any("store count failed" in line for line in lines)


@pytest.mark.usefixtures("quick_store")
def test_an_event_the_store_cannot_keep_is_not_accepted(tmp_path: Path) -> None:
    runtime, lines = WorkingRuntime(), []

    async def scenario() -> None:
        invoker, store = stored_invoker(tmp_path, runtime, lines)
        store.verb, store.failures = "INSERT", event_store.ATTEMPTS
        with pytest.raises(StoreError, match="add failed"):
            invoker.submit(b"{}", durable=True)
        assert invoker.queue.empty()  # not queued either: it was answered with an error, not a 202
        invoker.submit(b"{}", durable=True)  # the store works again
        assert invoker.queue.qsize() == 1

    asyncio.run(scenario())


def test_a_stored_events_done_hears_a_failed_delivery_and_a_sources_does_not(tmp_path: Path) -> None:
    """A delivery that raises: a durable event's `done` (what `POST /_local/schedules/<rule>/fire`
    waits on) hears "failed: ..."; a source's (SQS) is not told, so its message comes back."""
    runtime, lines = WorkingRuntime(broken=True), []
    heard: dict[str, str] = {}

    def done(name: str) -> Any:
        async def hear(outcome: str) -> None:
            heard[name] = outcome

        return hear

    async def scenario() -> None:
        invoker, store = stored_invoker(tmp_path, runtime, lines)
        invoker.start()
        invoker.submit(b"{}", "schedule:tick", done=done("stored"), durable=True)
        invoker.submit(b"{}", "sqs", done=done("source"))
        await until(lambda: runtime.calls == 2, "both deliveries")
        await asyncio.sleep(0.05)
        invoker.stop()
        assert len(list(store.pending())) == 1  # the stored one stays for the next plane

    asyncio.run(scenario())
    assert heard == {"stored": "failed: ConnectionError('environment away')"}


def test_the_bound_on_settling_covers_every_attempt_the_delays_and_the_destination() -> None:
    lines: list[str] = []
    runtime = WorkingRuntime()
    config = AsyncInvokeConfig(maximum_retry_attempts=2)
    invoker = AsyncInvoker(runtime, config, "arn:f", None, lambda *a, **k: None, (1.0, 2.0))  # type: ignore[arg-type]
    destination = sum(min(30.0, 0.5 * 2**a) for a in range(asynchronous.DESTINATION_ATTEMPTS - 1))
    assert invoker.settle_bound_s() == 3 * (asynchronous.INIT_S + FN.timeout_s) + 1.0 + 2.0 + destination
    assert not lines
