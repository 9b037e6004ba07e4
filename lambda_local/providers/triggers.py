"""What invokes a function, as the template declares it: schedules, SNS and S3 notifications, stream
mappings, and the destinations of what fails. Typed, validated, with local resource names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_croniter import AwsCroniter

from lambda_local.providers.filters import FilterError, parse_filters
from lambda_local.providers.loader import TemplateError

QUEUE_PREFIX = "lambda-local-"
STREAM_TYPES = ("DynamoDB", "Kinesis")
QUEUE_TYPES = ("SNS", "S3")
SCHEDULE_TYPES = ("Schedule", "ScheduleV2")
API_TYPES = ("Api", "HttpApi")
SQS_TYPES = ("SQS",)
KNOWN_TYPES = STREAM_TYPES + QUEUE_TYPES + SCHEDULE_TYPES + API_TYPES + SQS_TYPES

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\((.+)\)")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class EventSpec:
    """One entry of a function's `Events`: its name, SAM type (Schedule, SNS, S3, ...) and properties."""

    name: str
    type: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class Destination:
    """Where an invocation's record goes: a queue, topic or function of the template (`!GetAtt X.Arn`,
    `!Ref Topic`) under its local name."""

    type: str  # SQS | SNS | Lambda
    logical_id: str
    name: str


class ScheduleError(TemplateError):
    """A schedule expression EventBridge would refuse."""


@dataclass(frozen=True)
class Schedule:
    rule: str
    expression: str
    function: str
    enabled: bool = True
    description: str = ""

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
        try:
            (following,) = AwsCroniter(cron.group(1)).get_next(moment.astimezone(UTC))
        except ValueError as exc:
            raise ScheduleError(f"{self.rule}: {self.expression}: {exc}") from None
        if following is None:
            raise ScheduleError(f"{self.rule}: {self.expression} never fires again")
        assert isinstance(following, datetime)
        return following


def schedule_of(function: str, logical_id: str, event: EventSpec, at: str) -> Schedule:
    """A `Schedule` event; SAM names an unnamed rule after the function and event."""
    props = event.properties
    expression = props.get("Schedule") or props.get("ScheduleExpression")
    if not isinstance(expression, str):
        raise ScheduleError(f"{at}.Schedule: the schedule expression must be a literal string")
    enabled = props.get("Enabled", True) is not False and props.get("State", "ENABLED") != "DISABLED"
    name = props.get("Name") or f"{logical_id}{event.name}"
    schedule = Schedule(str(name), expression, function, enabled, str(props.get("Description", "")))
    try:
        schedule.next_after(datetime.now(UTC), datetime.now(UTC))  # refuse a bad expression at start
    except ScheduleError as exc:
        raise ScheduleError(f"{at}.Schedule: {exc}") from None
    return schedule


@dataclass(frozen=True)
class QueueTrigger:
    """An SNS or S3 trigger, delivered locally through a queue of its own (queue_sources.py)."""

    function: str  # Lambda name
    event: EventSpec
    source_id: str  # the topic's or bucket's logical id
    source_name: str  # its local name
    timeout_s: int
    retries: int

    @property
    def queue_name(self) -> str:
        return f"{QUEUE_PREFIX}{self.function}-{self.event.name}"[:80]


def bounded(value: Any, where: str, low: int, high: int, also: tuple[int, ...] = ()) -> int:
    """An event source mapping's integer setting within Lambda's limits (or one of `also`, e.g. -1)."""
    if not isinstance(value, int) or isinstance(value, bool) or not (low <= value <= high or value in also):
        allowed = f"{low}..{high}" + "".join(f" or {a}" for a in also)
        raise TemplateError(f"{where}: must be an integer in {allowed}, got {value!r}")
    return value


def filter_patterns(props: dict[str, Any], at: str) -> tuple[str, ...]:
    """`FilterCriteria.Filters[].Pattern`: up to five JSON patterns, kept as written; checked now (shape,
    JSON, operators: event_filters.py), so a pattern Lambda would refuse stops the template, not the plane."""
    criteria = props.get("FilterCriteria")
    if criteria is None:
        return ()
    try:
        parse_filters(criteria, f"{at}.FilterCriteria")
    except FilterError as exc:
        raise TemplateError(str(exc)) from None
    return tuple(str(entry["Pattern"]) for entry in criteria["Filters"])


@dataclass(frozen=True)
class MappingSettings:
    """An event source mapping's settings, from a stream event's properties (SAM's names and defaults)."""

    batch_size: int = 100
    window_s: float = 0.0
    starting_position: str = "TRIM_HORIZON"
    starting_timestamp: float | None = None
    report_item_failures: bool = False
    bisect: bool = False
    max_retries: int = -1
    max_record_age_s: int = -1
    on_failure: str | None = None  # logical id of the destination queue
    enabled: bool = True
    parallelization: int = 1  # ParallelizationFactor: batches of one shard at once, order kept per key
    filters: tuple[str, ...] = ()  # FilterCriteria patterns (JSON); a record none matches is dropped

    @classmethod
    def of(cls, event: EventSpec, at: str) -> MappingSettings:
        props = event.properties

        def number(name: str, default: int, low: int, high: int, also: tuple[int, ...] = ()) -> int:
            return bounded(props.get(name, default), f"{at}.{name}", low, high, also)

        position = props.get("StartingPosition")
        positions = ("TRIM_HORIZON", "LATEST") + (("AT_TIMESTAMP",) if event.type == "Kinesis" else ())
        if position not in positions:
            raise TemplateError(f"{at}.StartingPosition: must be one of {', '.join(positions)}, got {position!r}")
        timestamp = props.get("StartingPositionTimestamp")
        if position == "AT_TIMESTAMP" and not isinstance(timestamp, int | float):
            raise TemplateError(f"{at}.StartingPositionTimestamp: AT_TIMESTAMP needs it (epoch seconds)")
        types = props.get("FunctionResponseTypes", [])
        if not isinstance(types, list) or not set(types) <= {"ReportBatchItemFailures"}:
            raise TemplateError(f"{at}.FunctionResponseTypes: may only be [ReportBatchItemFailures]")
        on_failure = None
        destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if destination is not None:
            if not (isinstance(destination, dict) and isinstance(destination.get("Fn::GetAtt"), list)):
                raise TemplateError(f"{at}.DestinationConfig.OnFailure.Destination: must be !GetAtt <Queue>.Arn")
            on_failure = str(destination["Fn::GetAtt"][0])
        return cls(
            batch_size=number("BatchSize", 100, 1, 10000),
            window_s=float(number("MaximumBatchingWindowInSeconds", 0, 0, 300)),
            starting_position=position,
            starting_timestamp=float(timestamp) if isinstance(timestamp, int | float) else None,
            report_item_failures="ReportBatchItemFailures" in types,
            bisect=props.get("BisectBatchOnFunctionError", False) is True,
            max_retries=number("MaximumRetryAttempts", -1, 0, 10000, also=(-1,)),
            max_record_age_s=number("MaximumRecordAgeInSeconds", -1, 60, 604800, also=(-1,)),
            on_failure=on_failure,
            enabled=props.get("Enabled", True) is not False,
            parallelization=number("ParallelizationFactor", 1, 1, 10),
            filters=filter_patterns(props, at),
        )


@dataclass(frozen=True)
class StreamTrigger:
    """A DynamoDB or Kinesis event: the stream's resource and local name, and the mapping's settings."""

    function: str  # Lambda name
    event: EventSpec
    stream_id: str  # the table's or stream's logical id
    stream_name: str  # its local name
    settings: MappingSettings
    on_failure: Destination | None

    @property
    def kind(self) -> str:
        return self.event.type


@dataclass(frozen=True)
class SqsSettings:
    """An SQS event source mapping's settings (SAM's names, Lambda's defaults and limits)."""

    batch_size: int = 10
    window_s: float = 0.0
    report_item_failures: bool = False
    max_concurrency: int | None = None  # ScalingConfig.MaximumConcurrency: batches of this queue at once
    enabled: bool = True
    filters: tuple[str, ...] = ()

    @classmethod
    def of(cls, event: EventSpec, at: str, fifo: bool) -> SqsSettings:
        props = event.properties

        def number(name: str, value: Any, low: int, high: int) -> int:
            return bounded(value, f"{at}.{name}", low, high)

        batch = number("BatchSize", props.get("BatchSize", 10), 1, 10 if fifo else 10000)
        window = number("MaximumBatchingWindowInSeconds", props.get("MaximumBatchingWindowInSeconds", 0), 0, 300)
        if batch > 10 and window < 1:  # Lambda refuses such a mapping
            raise TemplateError(f"{at}.MaximumBatchingWindowInSeconds: must be at least 1 when BatchSize is over 10")
        if fifo and window:
            raise TemplateError(f"{at}.MaximumBatchingWindowInSeconds: FIFO queues take no batching window")
        types = props.get("FunctionResponseTypes", [])
        if not isinstance(types, list) or not set(types) <= {"ReportBatchItemFailures"}:
            raise TemplateError(f"{at}.FunctionResponseTypes: may only be [ReportBatchItemFailures]")
        scaling = props.get("ScalingConfig") or {}
        maximum = scaling.get("MaximumConcurrency") if isinstance(scaling, dict) else None
        return cls(
            batch_size=batch,
            window_s=float(window),
            report_item_failures="ReportBatchItemFailures" in types,
            max_concurrency=None if maximum is None else number("ScalingConfig.MaximumConcurrency", maximum, 2, 1000),
            enabled=props.get("Enabled", True) is not False,
            filters=filter_patterns(props, at),
        )


@dataclass(frozen=True)
class SqsTrigger:
    """An SQS event: the queue's resource and local name, and the mapping's settings."""

    function: str  # Lambda name
    event: EventSpec
    queue_id: str  # the queue's logical id
    queue_name: str  # its local name
    settings: SqsSettings
    fifo: bool = False
