from datetime import UTC as TZ_UTC
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from shared.dates import day_window_utc, resolve_report_date, today
from shared.errors import InvalidEventError

UTC = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 22, 3, 30, tzinfo=TZ_UTC)


def test_explicit_date_wins_over_time():
    event = {"date": "2026-11-20", "time": "2026-11-21T20:00:00Z"}
    assert resolve_report_date(event, UTC, NOW) == date(2026, 11, 20)


def test_scheduled_event_uses_its_time_in_the_report_timezone():
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "time": "2026-11-21T02:00:00Z"}
    assert resolve_report_date(event, UTC, NOW) == date(2026, 11, 21)
    assert resolve_report_date(event, NEW_YORK, NOW) == date(2026, 11, 20)


def test_no_date_means_today_in_the_report_timezone():
    assert resolve_report_date({}, UTC, NOW) == date(2026, 11, 22)
    assert resolve_report_date({}, NEW_YORK, NOW) == date(2026, 11, 21)
    assert today(NEW_YORK, NOW) == date(2026, 11, 21)


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        ({"date": "2026-13-01"}, "'2026-13-01' is not a calendar date"),
        ({"date": "2026-02-30"}, "'2026-02-30' is not a calendar date"),
        ({"date": "20261120"}, "event.date must be a YYYY-MM-DD string, got '20261120'"),
        ({"date": 20261120}, "got 20261120"),
        ({"date": "yesterday"}, "got 'yesterday'"),
        ({"time": "soon"}, "event.time 'soon' is not an ISO 8601 timestamp"),
        ({"time": "2026-11-21T20:00:00"}, "has no UTC offset"),
        ([], "event must be a JSON object, got list"),
    ],
)
def test_bad_events_name_the_field_and_value(event, fragment):
    with pytest.raises(InvalidEventError) as error:
        resolve_report_date(event, UTC, NOW)
    assert fragment in str(error.value)


def test_window_is_midnight_to_midnight_utc():
    assert day_window_utc(date(2026, 11, 20), UTC) == (datetime(2026, 11, 20), datetime(2026, 11, 21))


def test_window_follows_the_timezone_and_dst():
    # 2031-03-09 is the day New York moves to daylight time: 23 hours long.
    start, end = day_window_utc(date(2031, 3, 9), NEW_YORK)
    assert (start, end) == (datetime(2031, 3, 9, 5), datetime(2031, 3, 10, 4))
    start, end = day_window_utc(date(2031, 11, 2), NEW_YORK)
    assert (end - start).total_seconds() == 25 * 3600


@pytest.mark.parametrize(
    ("event", "tz"),
    [
        ({"date": "9999-12-31"}, "UTC"),
        ({"time": "9999-12-31T23:00:00-14:00"}, "UTC"),
        ({"date": "0001-01-01"}, "Asia/Tokyo"),
    ],
)
def test_days_without_a_representable_window_are_invalid_events(event, tz):
    with pytest.raises(InvalidEventError, match="out of range"):
        resolve_report_date(event, ZoneInfo(tz))
