"""SNS and S3 triggers of the template, delivered through SQS queues on the local AWS endpoint.

In the account, SNS and S3 invoke the function asynchronously. Locally each such trigger gets a
queue (`lambda-local-<function>-<event>`): an SNS trigger subscribes it to the topic (with the
event's filter policy), an S3 trigger adds it to the bucket's notifications (with the event's
filter). The plane long-polls the queue, turns each message into the event AWS would send, and
submits it to the function's asynchronous queue (retries, on-failure destination). The message is
deleted only once that invocation is settled, so a restart of the plane loses nothing: an
unsettled message comes back after its visibility timeout (at-least-once, as in AWS).

What waits is bounded: a poller holds at most MAX_PENDING messages submitted and not yet settled,
and stops receiving while it holds that many (back-pressure: the rest wait in the queue, not in the
plane's memory). While a message waits for its turn and its attempts, its visibility timeout is
extended, so a long backlog is not received, run and sent to the failure queue a second time.

A message that is not the event its source sends (a malformed SNS publish, `[]` sent to the queue)
costs that message only: it goes to the function's on-failure destination with the reason (condition
`MalformedEvent`) and is deleted, and the poller goes on. No error in one message ends the poller.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from lambda_local.events.destinations import malformed_record
from lambda_local.events.malformed import MalformedEvent
from lambda_local.events.s3 import complete_s3_event
from lambda_local.events.sns import sns_event
from lambda_local.logs import LOG
from lambda_local.providers import QueueTrigger
from lambda_local.traces import recorder

POLL_WAIT_S = 1
MAX_PENDING = 100  # messages submitted and not yet settled, per trigger
TRIGGER_VISIBILITY_S = 30  # a trigger queue's visibility timeout, extended while a message is pending


Submit = Callable[..., str]
Fail = Callable[[dict[str, Any]], Awaitable[None]]


class QueuePoller:
    """Long-polls one trigger's queue and submits each message's event to the function."""

    def __init__(
        self,
        trigger: QueueTrigger,
        sqs: Any,
        queue_url: str,
        subscription_arn: str,
        submit: Submit,
        fail: Fail | None = None,
        function_arn: str = "",
        visibility_s: int = TRIGGER_VISIBILITY_S,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.trigger = trigger
        self.sqs = sqs
        self.queue_url = queue_url
        self.subscription_arn = subscription_arn
        self.submit = submit
        self.fail = fail
        self.function_arn = function_arn
        self.malformed = 0
        self.visibility_s = visibility_s
        self.max_pending = max_pending
        self.pending: dict[str, float] = {}  # receipt handle -> when its visibility was last set
        self.most_pending = 0
        self._settled = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def event_for(self, body: str) -> dict[str, Any] | None:
        """The event for one queue message, or None when AWS would not invoke the function for it."""
        try:
            message = json.loads(body)
        except ValueError as exc:
            raise MalformedEvent(f"not JSON: {exc}") from None
        except RecursionError:
            raise MalformedEvent("nested too deep to read") from None
        if self.trigger.event.type == "SNS":
            return sns_event(message, self.subscription_arn)
        return complete_s3_event(message)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run()), asyncio.create_task(self._extend())]

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def _room(self) -> None:
        """Wait while MAX_PENDING messages of this trigger wait for their function (back-pressure)."""
        while len(self.pending) >= self.max_pending:
            self._settled.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settled.wait(), 1)

    async def _extend(self) -> None:
        """Keep every message still waiting or running invisible: before half its visibility timeout has
        passed, it gets a full one again."""
        every = max(1.0, self.visibility_s / 3)
        while True:
            await asyncio.sleep(every)
            due = [r for r, at in self.pending.items() if time.monotonic() - at >= self.visibility_s / 2]
            for start in range(0, len(due), 10):
                entries = [
                    {"Id": str(i), "ReceiptHandle": r, "VisibilityTimeout": self.visibility_s}
                    for i, r in enumerate(due[start : start + 10])
                ]
                try:
                    await asyncio.to_thread(
                        self.sqs.change_message_visibility_batch, QueueUrl=self.queue_url, Entries=entries
                    )
                except Exception as exc:  # the endpoint is away: the next round tries again
                    LOG.info(f"{self.trigger.queue_name}: visibility not extended ({exc!r})")
                    break
                for entry in entries:
                    if entry["ReceiptHandle"] in self.pending:
                        self.pending[entry["ReceiptHandle"]] = time.monotonic()

    async def _run(self) -> None:
        while True:
            await self._room()
            try:
                answer = await asyncio.to_thread(
                    self.sqs.receive_message,
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=min(10, self.max_pending - len(self.pending)),
                    WaitTimeSeconds=POLL_WAIT_S,
                )
            except Exception as exc:  # the endpoint restarts or is briefly away: poll again
                LOG.info(f"polling {self.trigger.queue_name} failed: {exc}")
                await asyncio.sleep(2)
                continue
            for message in answer.get("Messages", []):
                try:
                    await self._handle(message)
                except Exception as exc:  # this message only: it comes back after its visibility timeout
                    LOG.info(f"{self.trigger.queue_name}: message not handled ({exc!r})")

    async def _handle(self, message: dict[str, Any]) -> None:
        receipt = message["ReceiptHandle"]

        async def settled(_outcome: str) -> None:
            try:
                await asyncio.to_thread(self.sqs.delete_message, QueueUrl=self.queue_url, ReceiptHandle=receipt)
            finally:
                self.pending.pop(receipt, None)
                self._settled.set()

        try:
            event = self.event_for(message["Body"])
        except Exception as exc:  # MalformedEvent, or anything else the builders choke on
            await self._malformed(message, exc)
            await settled("malformed")
            return
        if event is None:
            await settled("dropped")
            return
        source = self.trigger.event.type.lower()
        self.pending[receipt] = time.monotonic()
        self.most_pending = max(self.most_pending, len(self.pending))
        # Its span, one for every function the message reached, is the parent of this invocation's.
        received = recorder.notification(self.trigger.event.type, self.trigger.source_name, event)
        trace = recorder.onward(received, self.trigger.function)
        try:
            self.submit(self.trigger.function, json.dumps(event).encode(), source, settled, trace=trace)
        except BaseException:
            self.pending.pop(receipt, None)
            raise

    async def _malformed(self, message: dict[str, Any], exc: Exception) -> None:
        """Send a message that is no event to the on-failure destination, with the reason."""
        self.malformed += 1
        reason = str(exc) if isinstance(exc, MalformedEvent) else f"{type(exc).__name__}: {exc}"
        where = "dropped" if self.fail is None else "sent to the on-failure destination"
        LOG.info(f"{self.trigger.queue_name}: malformed message {where}: {reason}")
        if self.fail is None:
            return
        await self.fail(
            malformed_record(self.function_arn, message.get("Body", ""), f"{self.trigger.event.type} message: {reason}")
        )
