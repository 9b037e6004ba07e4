"""Asynchronous invocations (`Event`), as Lambda runs them: queued, retried on error with back-off
(`MaximumRetryAttempts`, default 2), dropped past `MaximumEventAgeInSeconds`, then sent with the error
to the function's on-failure destination."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from lambda_local.environments.instance import InvokeResult
from lambda_local.environments.pool import FunctionRuntime
from lambda_local.events import recursion
from lambda_local.events.destinations import async_failure_record, async_success_record, fit_to_queue
from lambda_local.invocation.event_store import EventStore, StoredEvent, StoreError
from lambda_local.providers import AsyncInvokeConfig
from lambda_local.settings import ASYNC_RETRY_DELAYS
from lambda_local.traces import recorder

# The condition of an event a recursive loop carried: not invoked, sent to the on-failure destination.
RECURSION = "RecursiveInvocationException"
DESTINATION_ATTEMPTS = 7  # about a minute of back-off before the event is given up
INIT_S = 10.0  # an environment's start, at most (Lambda's init phase limit), before an attempt's timeout runs
# A settled event whose removal from the store failed is removed again in the background, after these.
REMOVE_RETRY_S = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

Send = Callable[[dict[str, Any]], Awaitable[None]]
Report = Callable[..., None]
# Called once an event is settled: "ok", or the condition that sent it to the on-failure destination;
# for a stored (durable) event also when its delivery failed: "failed: <the error>".
Done = Callable[[str], Awaitable[None]]


@dataclass
class _Event:
    payload: bytes
    request_id: str
    source: str
    received: float  # time.monotonic() when accepted
    done: Done | None = None
    attempts: int = 0  # made before this plane took it over (a resumed event)
    durable: bool = False  # kept in the event store until settled
    trace: str | None = None  # the invocation's trace header, lineage counted (recursion.py)
    tenant: str | None = None  # the invoke's tenant id (tenant isolation mode)


class AsyncInvoker:
    """One function's event queue and its retry loop."""

    def __init__(
        self,
        runtime: FunctionRuntime,
        config: AsyncInvokeConfig,
        function_arn: str,
        send_failure: Send | None,
        report: Report,
        delays: tuple[float, ...] = ASYNC_RETRY_DELAYS,
        store: EventStore | None = None,
        send_success: Send | None = None,
    ) -> None:
        self.runtime = runtime
        self.config = config
        self.function_arn = function_arn
        self.send_failure = send_failure
        self.send_success = send_success  # DestinationConfig.OnSuccess
        self.report = report
        self.delays = delays
        self.store = store
        self.queue: asyncio.Queue[_Event] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        self._removals: set[asyncio.Task[None]] = set()  # removals from the store retried (REMOVE_RETRY_S)
        self.failed = 0

    def start(self) -> None:
        # As many events at once as the function may run (its environments scale out for them).
        workers = max(1, min(self.runtime.concurrency, 64))
        self._workers = [asyncio.create_task(self._work()) for _ in range(workers)]

    def stop(self) -> None:
        for task in [*self._workers, *self._removals]:  # an event still stored runs again at the next start
            task.cancel()

    def settle_bound_s(self) -> float:
        """The longest an event's delivery takes once its turn comes: every attempt started and run to
        the function's timeout, the delays between them, and the on-failure destination's back-off."""
        attempts = self.config.maximum_retry_attempts + 1
        delays = sum(self.delays[min(a, len(self.delays) - 1)] for a in range(attempts - 1)) if self.delays else 0.0
        destination = sum(_destination_delay(a) for a in range(DESTINATION_ATTEMPTS - 1))
        return attempts * (INIT_S + self.runtime.fn.timeout_s) + delays + destination

    def submit(
        self,
        payload: bytes,
        source: str = "invoke",
        request_id: str | None = None,
        done: Done | None = None,
        durable: bool = False,
        trace: str | None = None,
        tenant: str | None = None,
    ) -> str:
        """Accept an event (Lambda's 202); returns its request id. `done` hears how it was settled.
        `durable`: on disk before this returns (an `Event` invoke, a schedule), so a killed plane's
        successor runs it; a source that keeps the event itself until `done` (SQS) needs no copy.
        `trace`: the invocation's trace header (a calling function's chain, its lineage counted).
        Raises StoreError when a durable event cannot be stored: it is not accepted."""
        request_id = request_id or str(uuid.uuid4())
        # An event from outside a chain starts one: its lineage counts this function once.
        trace = trace or recursion.next_trace(None, self.runtime.fn.lambda_name)
        durable = durable and self.store is not None
        if durable:
            assert self.store is not None
            name = self.runtime.fn.lambda_name
            self.store.add(StoredEvent(request_id, name, source, payload, time.time(), 0, trace, tenant))
        self.queue.put_nowait(
            _Event(payload, request_id, source, time.monotonic(), done, durable=durable, trace=trace, tenant=tenant)
        )
        return request_id

    def resume(self, stored: StoredEvent) -> None:
        """An event a plane before this one accepted and did not settle: its age and attempts go on."""
        received = time.monotonic() - max(0.0, time.time() - stored.received)
        event = _Event(
            stored.payload,
            stored.request_id,
            stored.source,
            received,
            None,
            stored.attempts,
            True,
            stored.trace,
            stored.tenant,
        )
        self.queue.put_nowait(event)

    async def _work(self) -> None:
        while True:
            event = await self.queue.get()
            try:
                outcome = await self._deliver(event)
            except Exception as exc:  # this event only; a source that sent it delivers it again later
                self.report(event.source, self.runtime.fn.lambda_name, event.request_id, 0, 0.0, f"failed: {exc!r}")
                # A stored event stays stored (the next plane runs it): its `done` only listens, and hears
                # the failure. A source that keeps the event itself (SQS) is not told: it delivers again.
                if event.durable:
                    await self._tell(event, f"failed: {exc!r}")
                continue
            if event.durable and self.store is not None:
                self._remove(event)
            await self._tell(event, outcome)

    async def _tell(self, event: _Event, outcome: str) -> None:
        if event.done is None:
            return
        try:
            await event.done(outcome)
        except Exception as exc:  # a source's acknowledgement failed: it will deliver the event again
            self.report(event.source, self.runtime.fn.lambda_name, event.request_id, 0, 0.0, f"ack failed: {exc}")

    def _remove(self, event: _Event) -> None:
        """A settled event off the store; when the store fails, again in the background, and the event
        counts as settled meanwhile (were the plane to stop first, the next one runs it again)."""
        assert self.store is not None
        try:
            self.store.remove(event.request_id)
        except StoreError as exc:
            name = self.runtime.fn.lambda_name
            self.report(event.source, name, event.request_id, 0, 0.0, f"store remove failed, retried: {exc}")
            task = asyncio.create_task(self._remove_later(event))
            self._removals.add(task)
            task.add_done_callback(self._removals.discard)

    async def _remove_later(self, event: _Event) -> None:
        assert self.store is not None
        for tries, delay in enumerate(itertools.chain(REMOVE_RETRY_S, itertools.repeat(REMOVE_RETRY_S[-1])), 2):
            await asyncio.sleep(delay)
            try:
                self.store.remove(event.request_id)
            except StoreError:
                continue  # counted in the store's problems, which `make status` shows
            name = self.runtime.fn.lambda_name
            self.report(event.source, name, event.request_id, 0, 0.0, f"removed from the store (try {tries})")
            return

    async def _deliver(self, event: _Event) -> str:
        result: InvokeResult | None = None
        attempts = event.attempts
        name = self.runtime.fn.lambda_name
        if recursion.depth(event.trace, name) > recursion.MAX_DEPTH:  # the chain ran it MAX_DEPTH times already
            await self._fail(event, attempts, result, RECURSION)
            return RECURSION
        if attempts > self.config.maximum_retry_attempts:  # resumed with no retry left
            await self._fail(event, attempts, result, "RetriesExhausted")
            return "RetriesExhausted"
        for attempt in range(event.attempts, self.config.maximum_retry_attempts + 1):
            if time.monotonic() - event.received > self.config.maximum_event_age_s:
                await self._fail(event, attempts, result, "EventAgeExceeded")
                return "EventAgeExceeded"
            if attempt:
                await asyncio.sleep(self.delays[min(attempt - 1, len(self.delays) - 1)])
            attempts += 1
            queued_ms = (time.monotonic() - event.received) * 1000 if attempts == 1 else None
            if queued_ms is not None:  # its wait in the plane, stored to taken: a span of its trace
                recorder.queued(name, event.trace, time.time_ns() - int(queued_ms * 1e6), event.request_id)
            if event.durable and self.store is not None:
                try:
                    self.store.attempted(event.request_id)
                except StoreError as exc:  # the stored count is one short: a kill now costs one more retry
                    self.report(event.source, name, event.request_id, attempts, 0.0, f"store count failed: {exc}")
            result = await recorder.invocation(  # its span is the Parent of the header the function gets
                name,
                event.trace,
                lambda trace: self.runtime.invoke_when_free(
                    event.payload, request_id=event.request_id, trace_id=trace, tenant=event.tenant
                ),
                event.source,
                attempts,
                event.request_id,
            )
            outcome = "error" if result.function_error else "ok"
            self.report(
                event.source,
                name,
                event.request_id,
                attempts,
                result.duration_ms,
                outcome,
                queued_ms=queued_ms,
                cold=result.cold_start,
                function_request_id=result.request_id,  # what the function's context and log lines say
            )
            if not result.function_error:
                await self._succeeded(event, attempts, result)
                return "ok"
        await self._fail(event, attempts, result, "RetriesExhausted")
        return "RetriesExhausted"

    async def _succeeded(self, event: _Event, attempts: int, result: InvokeResult) -> None:
        """The on-success record, when the function has that destination (sent once: a record that
        cannot be sent is reported, and the event still counts as done, as its invocation was)."""
        if self.send_success is None:
            return
        name = self.runtime.fn.lambda_name
        record = fit_to_queue(
            async_success_record(self.function_arn, event.request_id, event.payload, attempts, result)
        )
        try:
            target = self.config.on_success.name if self.config.on_success else ""
            async with recorder.destination("on-success", name, event.trace, target):
                await self.send_success(record)
        except Exception as exc:  # noqa: BLE001 - the invocation succeeded; its record is what was lost
            self.report(event.source, name, event.request_id, attempts, 0.0, f"success destination failed ({exc!r})")
            return
        self.report(event.source, name, event.request_id, attempts, 0.0, "on-success destination")

    async def _fail(self, event: _Event, attempts: int, result: InvokeResult | None, condition: str) -> None:
        self.failed += 1
        name = self.runtime.fn.lambda_name
        if self.send_failure is None:
            self.report(event.source, name, event.request_id, attempts, 0.0, f"dropped ({condition})")
            return
        record = fit_to_queue(
            async_failure_record(self.function_arn, event.request_id, event.payload, attempts, result, condition)
        )
        target = self.config.on_failure.name if self.config.on_failure else ""
        async with recorder.destination("on-failure", name, event.trace, target):
            for attempt in range(DESTINATION_ATTEMPTS):
                try:
                    await self.send_failure(record)
                    break
                except Exception as exc:  # the endpoint is away, the queue missing: again, with back-off
                    if attempt == DESTINATION_ATTEMPTS - 1:
                        raise
                    delay = _destination_delay(attempt)
                    self.report(event.source, name, event.request_id, attempts, 0.0, f"destination failed ({exc!r})")
                    await asyncio.sleep(delay)
        self.report(event.source, name, event.request_id, attempts, 0.0, f"on-failure destination ({condition})")


def _destination_delay(attempt: int) -> float:
    """The wait after the on-failure destination's attempt `attempt` (from 0) failed."""
    return min(30.0, 0.5 * 2.0**attempt)
