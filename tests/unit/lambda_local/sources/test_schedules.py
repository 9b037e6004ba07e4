"""The scheduler on a clock of the test's own: it fires each rule on time, makes up no firing a
sleeping machine missed (EventBridge does not backfill), and a firing that fails costs that firing,
not the rule."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambda_local.invocation.event_store import StoreError
from lambda_local.providers import Schedule
from lambda_local.sources import schedules
from lambda_local.sources.schedules import Scheduler, latest_by

START = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    """The wall clock the scheduler reads; its sleeps pass that much time, and `jump` more at the
    sleep ending at or after `jump_at` (the machine slept through it)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.jump_at: datetime | None = None
        self.jump = timedelta(0)
        self.slept: list[float] = []

    def read(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
        if self.jump_at is not None and self.now >= self.jump_at:
            self.now += self.jump
            self.jump_at = None
        await asyncio.sleep(0)


def run(schedule: Schedule, clock: Clock, submit: Any, firings: int) -> list[datetime]:
    """The times of the first `firings` firings the scheduler made (each its event's `time`)."""
    fired: list[datetime] = []

    async def scenario() -> None:
        scheduler = Scheduler([schedule], "123456789012", "us-east-1", submit, clock.read, clock.sleep)
        real_fire = scheduler.fire

        def fire(s: Schedule, when: datetime, done: Any = None) -> str:
            fired.append(when)
            return real_fire(s, when, done)

        scheduler.fire = fire  # type: ignore[method-assign]
        scheduler.start()
        for _ in range(10_000):
            if len(fired) >= firings:
                break
            await asyncio.sleep(0)
        scheduler.stop()

    asyncio.run(scenario())
    return fired[:firings]


def test_a_rule_fires_on_time_and_after_a_sleep_only_the_latest_missed_firing_runs() -> None:
    clock = Clock(START)  # the plane starts: rate() counts from here
    clock.jump_at, clock.jump = START + timedelta(minutes=2), timedelta(minutes=10, seconds=20)
    fired = run(Schedule("every-minute", "rate(1 minute)", "f"), clock, lambda *a, **k: "r", 4)
    minute = [START + timedelta(minutes=m) for m in (1, 12, 13, 14)]
    assert fired == minute  # 02:00 ... 11:00 were slept through: not made up, 12:00 fired once


def test_a_cron_rule_after_a_long_sleep_fires_its_latest_firing_once() -> None:
    clock = Clock(START)
    clock.jump_at, clock.jump = START + timedelta(minutes=6), timedelta(days=30)
    fired = run(Schedule("cron", "cron(*/5 * * * ? *)", "f"), clock, lambda *a, **k: "r", 3)
    assert fired == [
        START + timedelta(minutes=5),
        START + timedelta(days=30, minutes=5),  # the wall clock at waking: that firing, not 8640 of them
        START + timedelta(days=30, minutes=10),
    ]


def test_waiting_reads_the_wall_clock_again_at_least_every_minute() -> None:
    """The loop's clock stops while the machine sleeps: a single long wait would end late by the sleep."""
    clock = Clock(START)
    slept: list[float] = []
    run(Schedule("daily", "rate(1 day)", "f"), clock, lambda *a, **k: slept.append(sum(clock.slept)) or "r", 1)
    assert slept == [86400] and max(clock.slept) <= schedules.WAKE_S


def test_a_firing_that_fails_is_reported_and_the_rule_goes_on(capsys: pytest.CaptureFixture[str]) -> None:
    calls = {"n": 0}

    def submit(*_: Any, **__: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise StoreError("event store add failed 3 times: database or disk is full")
        return "r"

    fired = run(Schedule("every-minute", "rate(1 minute)", "f"), Clock(START), submit, 2)
    assert fired == [START + timedelta(minutes=1), START + timedelta(minutes=2)] and calls["n"] == 2
    assert capsys.readouterr().err.strip() == (
        "lambda_local: schedule every-minute: firing 2026-01-01T00:01:00Z failed: "
        "event store add failed 3 times: database or disk is full"
    )


@pytest.mark.parametrize("expression", ["rate(7 minutes)", "cron(0 20 ? * MON-SAT *)", "cron(15 10 L * ? *)"])
def test_the_latest_firing_by_a_time_is_the_one_counting_them_finds(expression: str) -> None:
    schedule = Schedule("r", expression, "f")
    first = schedule.next_after(START, START)
    for days in (0, 1, 3, 40):
        now = first + timedelta(days=days, minutes=3)
        counted = first
        while (following := schedule.next_after(counted, START)) <= now:
            counted = following
        assert latest_by(schedule, first, now, START) == counted
