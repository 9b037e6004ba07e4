"""EventBridge schedules of the template (`Schedule` / `ScheduleV2` events), fired on time in UTC.

Cron expressions are evaluated by aws-croniter (EventBridge's six-field dialect: `?`, `L`, `W`,
`#`, years); `rate(N unit)` counts from when the rule was created, here from the plane's start.

Firings a sleeping machine missed are not made up, as EventBridge never backfills: on waking, the
latest one fires, once, and the rule goes on from there. A firing that fails (its event cannot be
stored) is reported, and the rule goes on to its next one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from lambda_local.events.scheduled import scheduled_event
from lambda_local.logs import LOG
from lambda_local.providers import Schedule
from lambda_local.traces import recorder

# The wall clock is read again at least this often while waiting: the loop's own clock stops while
# the machine sleeps, so a wait alone would end the sleep's length late.
WAKE_S = 60.0


def latest_by(schedule: Schedule, due: datetime, now: datetime, started: datetime) -> datetime:
    """The last firing of `schedule` at or before `now`, `due` being one: halving the time between
    them, as a long sleep passes many firings of a frequent rule (firings are a minute apart or more)."""
    if schedule.next_after(due, started) > now:
        return due
    low, high = due, now  # next_after(low) <= now < next_after(high)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if schedule.next_after(middle, started) <= now:
            low = middle
        else:
            high = middle
    return schedule.next_after(low, started)


class Scheduler:
    """Sleeps until each enabled rule's next firing and submits its Scheduled Event."""

    def __init__(
        self,
        schedules: list[Schedule],
        account: str,
        region: str,
        submit: Callable[..., str],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.schedules = {s.rule: s for s in schedules}
        self.account = account
        self.region = region
        self.submit = submit
        self.now = now
        self.sleep = sleep
        self.started = now()
        self._tasks: list[asyncio.Task[None]] = []

    def rule_arn(self, rule: str) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:rule/{rule}"

    def fire(self, schedule: Schedule, at: datetime, done: Callable[..., object] | None = None) -> str:
        """Deliver `schedule`'s event as if fired at `at`; returns the request id."""
        event = scheduled_event(self.rule_arn(schedule.rule), self.account, self.region, at)
        trace = recorder.onward(recorder.schedule(schedule.rule, schedule.function, at), schedule.function)
        source = f"schedule:{schedule.rule}"
        return self.submit(schedule.function, json.dumps(event).encode(), source, done, True, trace=trace)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(s)) for s in self.schedules.values() if s.enabled]

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def _run(self, schedule: Schedule) -> None:
        moment = self.now()
        while True:
            due = schedule.next_after(moment, self.started)
            while (wait := (due - self.now()).total_seconds()) > 0:
                await self.sleep(min(wait, WAKE_S))
            due = latest_by(schedule, due, self.now(), self.started)  # after a sleep: the latest firing only
            try:
                self.fire(schedule, due)
            except Exception as exc:  # its event could not be stored: this firing is lost, not the rule
                LOG.warning(f"schedule {schedule.rule}: firing {due:%Y-%m-%dT%H:%M:%SZ} failed: {exc}")
            moment = due
