"""EventBridge schedules of the template (`Schedule` / `ScheduleV2` events), fired on time in UTC.

Cron expressions are evaluated by aws-croniter (EventBridge's six-field dialect: `?`, `L`, `W`,
`#`, years); `rate(N unit)` counts from when the rule was created, here from the plane's start.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime

from lambda_local.event_shapes import scheduled_event
from lambda_local.providers import Schedule


class Scheduler:
    """Sleeps until each enabled rule's next firing and submits its Scheduled Event."""

    def __init__(self, schedules: list[Schedule], account: str, region: str, submit: Callable[..., str]) -> None:
        self.schedules = {s.rule: s for s in schedules}
        self.account = account
        self.region = region
        self.submit = submit
        self.started = datetime.now(UTC)
        self._tasks: list[asyncio.Task[None]] = []

    def rule_arn(self, rule: str) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:rule/{rule}"

    def fire(self, schedule: Schedule, at: datetime, done: Callable[..., object] | None = None) -> str:
        """Deliver `schedule`'s event as if fired at `at`; returns the request id."""
        event = scheduled_event(self.rule_arn(schedule.rule), self.account, self.region, at)
        return self.submit(schedule.function, json.dumps(event).encode(), f"schedule:{schedule.rule}", done, True)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(s)) for s in self.schedules.values() if s.enabled]

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def _run(self, schedule: Schedule) -> None:
        moment = datetime.now(UTC)
        while True:
            due = schedule.next_after(moment, self.started)
            await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
            self.fire(schedule, due)
            moment = due
