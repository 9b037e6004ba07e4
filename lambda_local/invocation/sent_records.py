"""The destination records this plane sent to SQS queues, in memory, for the local console (console.py):
the last RECENT, newest first, each as its queue, MessageId and body. The console lists the failed
events from here, so reading its state never receives from a queue (which would change the messages'
visibility and receive counts); what an earlier plane left there is looked at on request only."""

from __future__ import annotations

from collections import deque
from typing import Any

RECENT = 200


class Sent:
    def __init__(self, size: int = RECENT) -> None:
        self.records: deque[dict[str, str]] = deque(maxlen=size)

    def record(self, queue: str, answer: Any, body: str) -> None:
        """A record sent to `queue`: `answer` is SQS's SendMessage answer (its MessageId)."""
        self.records.appendleft({"queue": queue, "MessageId": str(answer["MessageId"]), "Body": body})

    def forget(self, queue: str, message_id: str) -> None:
        """The record is off its queue (redriven)."""
        for entry in [e for e in self.records if e["queue"] == queue and e["MessageId"] == message_id]:
            self.records.remove(entry)

    def on(self, queues: set[str]) -> list[dict[str, str]]:
        """The records sent to any of `queues`, newest first."""
        return [e for e in self.records if e["queue"] in queues]


SENT = Sent()
