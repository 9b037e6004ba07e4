"""EventBridge schedules of the template (`Schedule` / `ScheduleV2` events), fired on time in UTC.

Cron expressions are evaluated by aws-croniter (EventBridge's six-field dialect: `?`, `L`, `W`,
`#`, years); `rate(N unit)` counts from when the rule was created, here from the plane's start.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aws_croniter import AwsCroniter

from lambda_local.event_shapes import scheduled_event
from lambda_local.template import FunctionSpec

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\((.+)\)")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


class ScheduleError(ValueError):
    """A schedule expression EventBridge would refuse."""


@dataclass(frozen=True)
class Schedule:
    rule: str
    expression: str
    function: str
    enabled: bool = True

    def next_after(self, moment: datetime, started: datetime) -> datetime:
        """The first firing strictly after `moment` (UTC)."""
        rate = _RATE.fullmatch(self.expression)
        if rate:
            count, unit = int(rate.group(1)), rate.group(2).rstrip("s")
            if count < 1 or (count == 1) != (not rate.group(2).endswith("s")):
                raise ScheduleError(f"{self.rule}: {self.expression} (use `1 minute` or `N minutes`, N > 1)")
            period = timedelta(seconds=count * _UNITS[unit])
            return started + period * ((moment - started) // period + 1)
        cron = _CRON.fullmatch(self.expression)
        if not cron:
            raise ScheduleError(f"{self.rule}: {self.expression!r} is neither cron(...) nor rate(...)")
        (following,) = AwsCroniter(cron.group(1)).get_next(moment.astimezone(UTC))
        if following is None:
            raise ScheduleError(f"{self.rule}: {self.expression} never fires again")
        assert isinstance(following, datetime)
        return following


def schedules_of(fn: FunctionSpec) -> list[Schedule]:
    """The function's schedules; SAM names an unnamed rule after the function and event."""
    found = []
    for event in fn.events:
        if event.type not in ("Schedule", "ScheduleV2"):
            continue
        props = event.properties
        expression = props.get("Schedule") or props.get("ScheduleExpression")
        if not isinstance(expression, str):
            raise ScheduleError(f"{fn.logical_id}.{event.name}: the schedule expression must be a literal string")
        enabled = props.get("Enabled", True) is not False and props.get("State", "ENABLED") != "DISABLED"
        name = props.get("Name") or f"{fn.logical_id}{event.name}"
        found.append(Schedule(name, expression, fn.lambda_name, enabled))
    for schedule in found:
        schedule.next_after(datetime.now(UTC), datetime.now(UTC))  # refuse a bad expression at start
    return found


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
        return self.submit(schedule.function, json.dumps(event).encode(), f"schedule:{schedule.rule}", done)

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
