"""salesAnalysisReportDataExtractor through its RIE endpoint, against the real MariaDB."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import stack
from stack.functions import by_name
from tests.integration.conftest import expected_rows
from tests.support.containers import service_container

pytestmark = pytest.mark.integration
UTC = UTC


def window(day: str) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return start, start.replace(day=start.day + 1)


def test_seeded_day_matches_an_independent_computation(invoke):
    result = invoke("sales-data-extractor", {"date": "2026-11-20"})
    assert result["statusCode"] == 200
    expected = expected_rows(*window("2026-11-20"))
    assert expected, "the seed has orders on 2026-11-20"
    assert result["body"] == expected


def test_every_seeded_day_differs_and_is_ordered(invoke):
    bodies = [invoke("sales-data-extractor", {"date": d})["body"] for d in ("2026-11-19", "2026-11-20", "2026-11-21")]
    assert bodies[0] != bodies[1] != bodies[2]
    for body in bodies:
        keys = [(r["product_group_number"], r["product_id"]) for r in body]
        assert keys == sorted(keys)


def test_midnight_boundaries_are_half_open(invoke, orders):
    orders.add("2031-01-14 23:59:59", [(1, 1)])  # day before
    orders.add("2031-01-15 00:00:00", [(2, 2)])  # first second of the day
    orders.add("2031-01-15 23:59:59", [(3, 3), (2, 5)])  # last second of the day
    orders.add("2031-01-16 00:00:00", [(7, 4)])  # next day
    body = invoke("sales-data-extractor", {"date": "2031-01-15"})["body"]
    assert [(r["product_id"], r["quantity"]) for r in body] == [(2, 7), (3, 3)]
    assert body == expected_rows(*window("2031-01-15"))


def test_scheduled_event_reports_the_day_of_its_time(invoke, orders):
    orders.add("2031-01-15 12:00:00", [(9, 6)])
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "time": "2031-01-15T20:00:00Z", "detail": {}}
    body = invoke("sales-data-extractor", event)["body"]
    assert [(r["product_name"], r["quantity"]) for r in body] == [("Latte", 6)]


def test_empty_day_returns_no_rows(invoke):
    assert invoke("sales-data-extractor", {"date": "2031-06-01"}) == {"statusCode": 200, "body": []}


@pytest.fixture
def new_york_extractor() -> Iterator[int]:
    """A second extractor under the RIE with REPORT_TIMEZONE=America/New_York: a process in host mode, a
    container of the extractor's service in Docker mode."""
    overrides = {"REPORT_TIMEZONE": "America/New_York"}
    if stack.mode() == "docker":
        with service_container("sales-data-extractor", env=overrides) as port:
            yield port
        return
    port = 9101
    service = stack.start_function(
        by_name("sales-data-extractor"), port=port, service="extractor-new-york", overrides=overrides
    )
    yield port
    stack.stop(service)


def test_report_day_follows_report_timezone_across_dst(orders, new_york_extractor):
    # 2031-03-09 in New York: 05:00 UTC to 04:00 UTC next day (daylight time starts that day).
    orders.add("2031-03-09 04:59:59", [(1, 1)])
    orders.add("2031-03-09 05:00:00", [(2, 2)])
    orders.add("2031-03-10 03:59:59", [(3, 3)])
    orders.add("2031-03-10 04:00:00", [(4, 4)])
    status, body = stack.invoke(new_york_extractor, {"date": "2031-03-09"})
    assert status == 200
    import json

    rows = json.loads(body)["body"]
    assert [(r["product_id"], r["quantity"]) for r in rows] == [(2, 2), (3, 3)]
    ny_start = datetime(2031, 3, 9, 5, tzinfo=UTC)
    assert rows == expected_rows(ny_start, datetime(2031, 3, 10, 4, tzinfo=UTC))


@pytest.mark.parametrize(
    ("event", "fragment"),
    [
        ({"date": "2026-02-30"}, "event.date '2026-02-30' is not a calendar date"),
        ({"date": "20/11/2026"}, "event.date must be a YYYY-MM-DD string, got '20/11/2026'"),
        ({"time": "not-a-time"}, "event.time 'not-a-time' is not an ISO 8601 timestamp"),
        ([1, 2], "event must be a JSON object, got list"),
    ],
)
def test_malformed_events_get_a_clear_error(invoke, event, fragment):
    result = invoke("sales-data-extractor", event)
    assert result["errorType"] == "InvalidEventError"
    assert fragment in result["errorMessage"]
