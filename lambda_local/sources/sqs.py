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

Messages that no `FilterCriteria` pattern matches are deleted without an invocation (filtering runs in a
worker thread: a slow filter never holds up the event loop). A message the plane cannot hand over (its
record cannot be built) costs that message only, as one a recursive loop carried does (recursion.py): it
goes to the queue's dead-letter queue if it has one, else is deleted, and the rest of the batch goes on;
no message ends a poller.

Pollers scale as Lambda's do: one while the queue is quiet, one more each time a poller's batch came
back full, up to `ScalingConfig.MaximumConcurrency` (default: Lambda's first five); a poller that finds
the queue empty leaves, down to one. Batches wait, not fail, when the function's concurrency is used
up. FIFO queues keep each message group's order: the queue hands out no later message of a group while
an earlier one is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Callable
from typing import Any

from lambda_local.environments.instance import InvokeResult
from lambda_local.environments.pool import FunctionRuntime
from lambda_local.events import recursion
from lambda_local.events.sqs import sqs_record
from lambda_local.logs import LOG
from lambda_local.providers import SqsTrigger
from lambda_local.providers.filters import triage
from lambda_local.settings import SYNC_PAYLOAD_LIMIT
from lambda_local.sources.batch_failures import reported_failures
from lambda_local.traces import recorder

DEFAULT_POLLERS = 5  # Lambda starts an SQS mapping with five concurrent pollers
POLL_WAIT_S = 1  # a receive's long poll locally: short, so a stopping plane is not held up
ENVELOPE = 1024  # bytes of the event around the records' bodies, allowed for in the payload cap
Keep = Callable[[dict[str, Any]], bool]
Report = Callable[..., None]


def _receive_count(record: dict[str, Any]) -> int:
    count = str(record["attributes"].get("ApproximateReceiveCount", "1"))
    return int(count) if count.isascii() and count.isdigit() and len(count) < 10 else 1


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
        failures = 0
        while True:
            try:
                batch = await self.gather()
                if not batch and self.active > 1:
                    return  # the queue is quiet: fewer pollers
                if len(batch) >= min(10, self.settings.batch_size) and self.active < self.pollers:
                    self._spawn()  # a full batch: the backlog may be larger, one more poller
                if batch:
                    await self.handle(batch)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the endpoint away, the queue gone: this round only
                failures += 1
                delay = min(30.0, 2.0 * 2 ** (failures - 1))
                LOG.info(f"SQS mapping {self.name}: {exc!r}; polling again in {delay:.0f} s")
                await asyncio.sleep(delay)

    async def _filtered(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The messages a FilterCriteria pattern matches; the others are deleted without an invocation,
        and one whose record cannot be built is set aside (`_set_aside`)."""
        if self.keep is None or not messages:
            return messages
        keep = self.keep
        kept, dropped, failed = await asyncio.to_thread(
            triage, messages, lambda m: keep(sqs_record(m, self.queue_arn, self.region))
        )
        if dropped:
            self.filtered += len(dropped)
            await self._delete(dropped)
            self.report("sqs", self.trigger.function, "-", 0, 0.0, "filtered out", records=len(dropped))
        await self._set_aside(failed, "not handed over")
        return kept

    async def handle(self, batch: list[dict[str, Any]]) -> None:
        batch, records = await self._sort_out(batch)
        if not batch:
            return
        # The batch's span continues its first message's trace (the sender's), the invocation's under it.
        trace = recorder.onward(recorder.sqs_batch(self.trigger.queue_name, records), self.trigger.function)
        payload = json.dumps({"Records": records}).encode()
        result = await recorder.invocation(
            self.trigger.function, trace, lambda header: self.runtime.invoke_when_free(payload, trace_id=header), "sqs"
        )
        self.batches += 1
        attempt = max(_receive_count(r) for r in records)
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

    async def _sort_out(self, batch: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The batch to invoke with, and its records: without the messages of a chain in which the function
        already ran MAX_DEPTH times (as Lambda stops a recursive loop) and those whose record cannot be
        built; both are set aside (`_set_aside`)."""
        function = self.trigger.function
        kept: list[dict[str, Any]] = []
        records: list[dict[str, Any]] = []
        looping: list[tuple[dict[str, Any], str]] = []
        broken: list[tuple[dict[str, Any], str]] = []
        for message in batch:
            try:
                record = sqs_record(message, self.queue_arn, self.region)
                stopped = recursion.stopped(record["attributes"].get("AWSTraceHeader"), function)
            except Exception as exc:  # this message only
                broken.append((message, f"{type(exc).__name__}: {exc}"[:1000]))
                continue
            if stopped:
                looping.append((message, ""))
            else:
                kept.append(message)
                records.append(record)
        if looping:
            self.stopped_loops += len(looping)
            outcome = f"RecursiveInvocationException: loop stopped after {recursion.MAX_DEPTH} invocations"
            await self._set_aside(looping, outcome)
        await self._set_aside(broken, "not handed over")
        return kept, records

    async def _set_aside(self, messages: list[tuple[dict[str, Any], str]], outcome: str) -> None:
        """Messages the function is not invoked with (each with its reason, or ""): to the queue's dead-letter
        queue if it has one, else deleted; reported. A message the dead-letter queue does not take stays
        (it comes back after its visibility timeout and the queue's redrive moves it on)."""
        if not messages:
            return
        for message, reason in messages:
            if reason:
                LOG.info(f"SQS mapping {self.name}: message {message.get('MessageId')!r}: {reason}")
        gone = [message for message, _ in messages]
        if self.dead_letter_url:
            gone = await self._to_dead_letters(gone)
        await self._delete(gone)
        where = "dead-letter queue" if self.dead_letter_url else "deleted"
        reasons = sorted({reason for _, reason in messages if reason})
        detail = f" ({'; '.join(reasons)[:300]})" if reasons else ""
        self.report(
            "sqs",
            self.trigger.function,
            "-",
            0,
            0.0,
            f"{outcome}{detail} ({where})",
            records=len(gone),
            queue=self.trigger.queue_name,
        )

    async def _to_dead_letters(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send `messages` to the dead-letter queue as they came (body, attributes; a FIFO queue's group);
        the ones it took."""
        sent: list[dict[str, Any]] = []
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            entries = []
            for i, message in enumerate(chunk):
                entry: dict[str, Any] = {"Id": str(i), "MessageBody": message.get("Body", "")}
                if message.get("MessageAttributes"):
                    entry["MessageAttributes"] = message["MessageAttributes"]
                group = message.get("Attributes", {}).get("MessageGroupId")
                if group:
                    entry |= {"MessageGroupId": group, "MessageDeduplicationId": message["MessageId"]}
                entries.append(entry)
            try:
                answer = await asyncio.to_thread(
                    self.sqs.send_message_batch, QueueUrl=self.dead_letter_url, Entries=entries
                )
            except Exception as exc:  # the dead-letter queue away: these stay, and come back
                LOG.info(f"SQS mapping {self.name}: dead-letter queue: {exc!r}")
                continue
            failed = {entry["Id"] for entry in answer.get("Failed", [])}
            if failed:
                LOG.info(f"SQS mapping {self.name}: not taken by the dead-letter queue: {answer['Failed']}")
            sent += [message for i, message in enumerate(chunk) if str(i) not in failed]
        return sent

    async def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages[start:][:10])]
            answer = await asyncio.to_thread(self.sqs.delete_message_batch, QueueUrl=self.queue_url, Entries=entries)
            if answer.get("Failed"):  # they come back after their visibility timeout: at-least-once
                LOG.info(f"SQS mapping {self.name}: not deleted: {answer['Failed']}")

    async def _visible_now(self, messages: list[dict[str, Any]]) -> None:
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(messages)
        ]
        with contextlib.suppress(Exception):  # else they come back after their visibility timeout
            await asyncio.to_thread(self.sqs.change_message_visibility_batch, QueueUrl=self.queue_url, Entries=entries)
