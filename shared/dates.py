"""Which day a report covers, and that day's bounds in UTC."""

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.errors import InvalidEventError, preview

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_report_date(value: Any) -> date:
    """Parse a strict `YYYY-MM-DD` string."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise InvalidEventError(f"event.date must be a YYYY-MM-DD string, got {preview(value)}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidEventError(f"event.date {preview(value)} is not a calendar date") from None


def _parse_event_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise InvalidEventError(f"event.time must be an ISO 8601 timestamp, got {preview(value)}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidEventError(f"event.time {preview(value)} is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise InvalidEventError(f"event.time {preview(value)} has no UTC offset")
    return parsed


def resolve_report_date(event: Any, tz: ZoneInfo, now: datetime | None = None) -> date:
    """The report day: `event.date`, else the day of a scheduled event's `time`, else today; days are in `tz`."""
    if not isinstance(event, Mapping):
        raise InvalidEventError(f"event must be a JSON object, got {type(event).__name__}")
    if event.get("date") is not None:
        field, day = "date", parse_report_date(event["date"])
    elif event.get("time") is not None:
        field = "time"
        try:
            day = _parse_event_time(event["time"]).astimezone(tz).date()
        except OverflowError:
            raise InvalidEventError(f"event.time {preview(event['time'])} is out of range") from None
    else:
        return (now or datetime.now(UTC)).astimezone(tz).date()
    try:
        day_window_utc(day, tz)
    except OverflowError:
        raise InvalidEventError(f"event.{field} {preview(event[field])} is out of range (its day has no end)") from None
    return day


def today(tz: ZoneInfo, now: datetime | None = None) -> date:
    """Today's date in `tz`."""
    return (now or datetime.now(UTC)).astimezone(tz).date()


def day_window_utc(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of `day` in `tz`, as naive UTC datetimes (DST days are 23 or 25 hours long)."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return (
        start.astimezone(UTC).replace(tzinfo=None),
        end.astimezone(UTC).replace(tzinfo=None),
    )
