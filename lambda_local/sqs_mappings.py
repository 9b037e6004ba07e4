"""SQS event source mappings (the template's `SQS` events), with Lambda's documented semantics.

Pollers long-poll the queue on the local AWS endpoint and gather a batch: up to `BatchSize` messages,
waiting at most `MaximumBatchingWindowInSeconds` for more once the first arrived, never over the 6 MB
synchronous payload (what does not fit goes back to the queue at once). The function is invoked
synchronously with Lambda's SQS event. Then:

- success: the batch is deleted;
- `ReportBatchItemFailures` and an answer naming failed message ids: all but those are deleted (an
  answer naming an id not in the batch, or an empty one, fails the whole batch, as Lambda does);
- a function error: nothing is deleted; the messages come back after the queue's visibility timeout,
  and the queue itself moves one to its dead-letter queue after its RedrivePolicy's maxReceiveCount.

Messages that no `FilterCriteria` pattern matches are deleted without an invocation. Pollers scale
as Lambda's do: one while the queue is quiet, one more each time a poller's batch came back full, up to
`ScalingConfig.MaximumConcurrency` (default: Lambda's first five); a poller that finds the queue empty
leaves, down to one. Batches wait, not fail, when the function's concurrency is used up. FIFO queues
keep each message group's order: the queue hands out no later message of a group while an earlier one
is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Callable
from typing import Any

from lambda_local import recursion
from lambda_local.batch_failures import reported_failures
from lambda_local.event_filters import split
from lambda_local.event_shapes import sqs_record
from lambda_local.limits import SYNC_PAYLOAD_LIMIT
from lambda_local.providers import SqsTrigger
from lambda_local.runtimes import FunctionRuntime, InvokeResult

DEFAULT_POLLERS = 5  # Lambda starts an SQS mapping with five concurrent pollers
POLL_WAIT_S = 1  # a receive's long poll locally: short, so a stopping plane is not held up
ENVELOPE = 1024  # bytes of the event around the records' bodies, allowed for in the payload cap
Keep = Callable[[dict[str, Any]], bool]
Report = Callable[..., None]


def failed_ids(result: InvokeResult, batch_ids: list[str]) -> set[str] | None:
    """The message ids a ReportBatchItemFailures answer names as failed: an empty set when all succeeded,
    None when the answer fails the whole batch (an id that is empty, missing or not in the batch)."""
    failed = reported_failures(result.payload, batch_ids)
    return None if failed is None else set(failed)


class SqsMapping:
    """One SQS event of a function: its pollers and what they do with each batch."""

    def __init__(
        self,
        trigger: SqsTrigger,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        runtime: FunctionRuntime,
        report: Report,
        region: str,
        keep: Keep | None = None,
        dead_letter_url: str | None = None,
    ) -> None:
        self.trigger = trigger
        self.settings = trigger.settings
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.runtime = runtime
        self.report = report
        self.region = region
        self.keep = keep
        self.dead_letter_url = dead_letter_url  # where a message a recursive loop carried goes (recursion.py)
        self.stopped_loops = 0
        self.pollers = self.settings.max_concurrency or DEFAULT_POLLERS
        self.name = f"{trigger.function}-{trigger.event.name}"
        self.batches = 0
        self.filtered = 0
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        if self.settings.enabled:
            self._spawn()

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()

    def _spawn(self) -> None:
        task = asyncio.create_task(self._poll())
        self._tasks.append(task)
        task.add_done_callback(lambda t: self._tasks.remove(t) if t in self._tasks else None)

    @property
    def active(self) -> int:
        return sum(1 for task in self._tasks if not task.done())

    async def _receive(self, count: int, wait_s: int) -> list[dict[str, Any]]:
        answer = await asyncio.to_thread(
            self.sqs.receive_message,
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(answer.get("Messages", []))

    async def gather(self) -> list[dict[str, Any]]:
        """One batch: the first receive long-polls; then more until BatchSize or the batching window."""
        settings = self.settings
        batch: list[dict[str, Any]] = []
        size = ENVELOPE
        deadline = math.inf
        while len(batch) < settings.batch_size:
            remaining = deadline - time.monotonic()
            if batch and remaining <= 0:
                break
            # Whole seconds only, rounded down: a wait past the window could outlast a visibility timeout.
            wait = POLL_WAIT_S if not batch else max(0, min(20, math.floor(remaining)))
            received = await self._receive(min(10, settings.batch_size - len(batch)), wait)
            messages = await self._filtered(received)  # before batching, as Lambda filters
            if not batch:
                if not received:
                    return []  # a long poll came back empty
                if not messages:
                    continue  # all filtered out: the batch has not begun
                deadline = time.monotonic() + settings.window_s
            back = []
            known = {m["MessageId"]: i for i, m in enumerate(batch)}
            for message in messages:
                if message["MessageId"] in known:  # visible again already: its newest receipt is the one that counts
                    batch[known[message["MessageId"]]] = message
                    continue
                body = len(message.get("Body", "").encode()) + 2048  # the record's other fields
                if batch and size + body > SYNC_PAYLOAD_LIMIT:
                    back.append(message)
                else:
                    batch.append(message)
                    size += body
            if back:  # over the payload cap: back to the queue at once, for the next batch
                await self._visible_now(back)
                break
            if settings.window_s == 0:
                break
        return batch

    async def _poll(self) -> None:
        while True:
            try:
                batch = await self.gather()
                if not batch and self.active > 1:
                    return  # the queue is quiet: fewer pollers
                if len(batch) >= min(10, self.settings.batch_size) and self.active < self.pollers:
                    self._spawn()  # a full batch: the backlog may be larger, one more poller
                if batch:
                    await self.handle(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the endpoint away, the queue gone: this round only
                print(f"lambda_local: SQS mapping {self.name}: {exc!r}; polling again", flush=True)
                await asyncio.sleep(2)

    async def _filtered(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The messages a FilterCriteria pattern matches; the others are deleted without an invocation."""
        if self.keep is None or not messages:
            return messages
        keep = self.keep
        kept, dropped = split(messages, lambda m: keep(sqs_record(m, self.queue_arn, self.region)))
        if dropped:
            self.filtered += len(dropped)
            await self._delete(dropped)
            self.report("sqs", self.trigger.function, "-", 0, 0.0, "filtered out", records=len(dropped))
        return kept

    async def handle(self, batch: list[dict[str, Any]]) -> None:
        records = [sqs_record(m, self.queue_arn, self.region) for m in batch]
        batch, records = await self._stop_loops(batch, records)
        if not batch:
            return
        trace = recursion.next_trace(records[0]["attributes"].get("AWSTraceHeader"), self.trigger.function)
        result = await self.runtime.invoke_when_free(json.dumps({"Records": records}).encode(), trace_id=trace)
        self.batches += 1
        attempt = max(int(r["attributes"].get("ApproximateReceiveCount", "1")) for r in records)
        ids = [m["MessageId"] for m in batch]
        failed: set[str] = set()
        if result.function_error:
            outcome = f"error ({len(batch)} back after the visibility timeout)"
            failed = set(ids)
        elif self.settings.report_item_failures:
            reported = failed_ids(result, ids)
            if reported is None:
                outcome = "invalid batchItemFailures: the whole batch fails"
                failed = set(ids)
            else:
                outcome, failed = f"partial ({len(ids) - len(reported)} ok)" if reported else "ok", reported
        else:
            outcome = "ok"
        await self._delete([m for m in batch if m["MessageId"] not in failed])
        self.report(
            "sqs",
            self.trigger.function,
            result.request_id,
            attempt,
            result.duration_ms,
            outcome,
            records=len(batch),
            queue=self.trigger.queue_name,
            cold=result.cold_start,
        )

    async def _stop_loops(
        self, batch: list[dict[str, Any]], records: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The batch without the messages of a chain in which the function already ran MAX_DEPTH times:
        those go to the queue's dead-letter queue (else are deleted), as Lambda stops a recursive loop."""
        function = self.trigger.function
        looping = [
            i for i, r in enumerate(records) if recursion.stopped(r["attributes"].get("AWSTraceHeader"), function)
        ]
        if not looping:
            return batch, records
        stopped = [batch[i] for i in looping]
        if self.dead_letter_url:
            entries = [
                {"Id": str(i), "MessageBody": m.get("Body", ""), "MessageAttributes": m.get("MessageAttributes", {})}
                for i, m in enumerate(stopped)
            ]
            if not entries[0]["MessageAttributes"]:
                for entry in entries:
                    entry.pop("MessageAttributes")
            await asyncio.to_thread(self.sqs.send_message_batch, QueueUrl=self.dead_letter_url, Entries=entries)
        await self._delete(stopped)
        self.stopped_loops += len(stopped)
        where = "dead-letter queue" if self.dead_letter_url else "deleted"
        outcome = f"RecursiveInvocationException: loop stopped after {recursion.MAX_DEPTH} invocations ({where})"
        self.report("sqs", function, "-", 0, 0.0, outcome, records=len(stopped), queue=self.trigger.queue_name)
        kept = [i for i in range(len(batch)) if i not in looping]
        return [batch[i] for i in kept], [records[i] for i in kept]

    async def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages[start:][:10])]
            answer = await asyncio.to_thread(self.sqs.delete_message_batch, QueueUrl=self.queue_url, Entries=entries)
            if answer.get("Failed"):  # they come back after their visibility timeout: at-least-once
                print(f"lambda_local: SQS mapping {self.name}: not deleted: {answer['Failed']}", flush=True)

    async def _visible_now(self, messages: list[dict[str, Any]]) -> None:
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(messages)
        ]
        with contextlib.suppress(Exception):  # else they come back after their visibility timeout
            await asyncio.to_thread(self.sqs.change_message_visibility_batch, QueueUrl=self.queue_url, Entries=entries)
