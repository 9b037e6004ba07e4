"""salesAnalysisReport end to end: RIE -> extractor (RIE) -> MariaDB, report published to SNS on moto."""

import json
from collections.abc import Iterator

import pytest

import stack
from stack import moto
from stack.functions import functions
from tests.integration.conftest import SECRETS, TEMPLATE
from tests.support.sns_tap import TopicTap, tap

pytestmark = pytest.mark.integration
TOPIC = TEMPLATE.ref("ReportTopic")

SEEDED_DAY_REPORT = (
    "                             Sales Analysis Report\n"
    "                                Date: 2026-11-20\n"
    "\n"
    "Product Group: Pastries\n"
    "\n"
    "Item Name                  Quantity\n"
    "Croissant                         5\n"
    "Donut                             2\n"
    "Strawberry Blueberry Tart         9\n"
    "Strawberry Tart                   5\n"
    "\n"
    "Product Group: Drinks\n"
    "\n"
    "Item Name                  Quantity\n"
    "Coffee                            4\n"
    "Hot Chocolate                     6\n"
)


@pytest.fixture
def topic() -> Iterator[TopicTap]:
    """The report topic, as a subscribed queue sees it."""
    with tap(TOPIC) as subscription:
        yield subscription


def published(topic: TopicTap, message_id: str) -> dict:
    matches = [n for n in topic.messages(expect=1, wait=10) if n["message_id"] == message_id]
    assert len(matches) == 1, f"message {message_id} delivered {len(matches)} times"
    assert topic.messages(wait=0.5) == [], "more was published"
    return matches[0]


def test_seeded_day_report_is_published_with_the_expected_layout(invoke, topic):
    result = invoke("sales-report", {"date": "2026-11-20"})
    assert {k: result[k] for k in ("date", "groups", "items")} == {"date": "2026-11-20", "groups": 2, "items": 6}
    message = published(topic, result["messageId"])
    assert message["subject"] == "Daily Sales Analysis Report"
    assert message["message"] == SEEDED_DAY_REPORT


def test_scheduled_event_reports_its_day(invoke, orders, topic):
    orders.add("2031-01-15 09:30:00", [(8, 2), (4, 1)])
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "time": "2031-01-15T20:00:00Z", "detail": {}}
    result = invoke("sales-report", event)
    assert (result["date"], result["groups"], result["items"]) == ("2031-01-15", 2, 2)
    text = published(topic, result["messageId"])["message"]
    assert "Date: 2031-01-15" in text
    assert text.index("Product Group: Pastries") < text.index("Muffin") < text.index("Product Group: Drinks")
    assert text.rstrip().endswith("\nHot Chocolate         2")


def test_empty_day_says_so(invoke, topic):
    result = invoke("sales-report", {"date": "2031-06-01"})
    assert (result["groups"], result["items"]) == (0, 0)
    assert published(topic, result["messageId"])["message"].endswith("There were no orders on 2031-06-01.\n")


def test_bad_date_is_refused_and_nothing_is_published(invoke, topic):
    result = invoke("sales-report", {"date": "2026-02-30"})
    assert result["errorType"] == "InvalidEventError"
    assert "event.date '2026-02-30' is not a calendar date" in result["errorMessage"]
    assert topic.messages(wait=1) == []


def test_extractor_failure_fails_the_report_and_publishes_nothing(invoke, topic):
    stack.stop_service("db")
    try:
        failed = invoke("sales-report", {"date": "2026-11-20"})
        direct = invoke("sales-data-extractor", {"date": "2026-11-20"})
    finally:
        stack.start_service("db")
    assert failed["errorType"] == "DownstreamFunctionError"
    assert "salesAnalysisReportDataExtractor failed: DatabaseUnavailable" in failed["errorMessage"]
    assert direct["errorType"] == "DatabaseUnavailable"
    # Callers learn the MySQL error code; the host, port and database name go to the log only.
    assert direct["errorMessage"] == "cannot connect to the database (MySQL error 2003)"
    for answer in (failed, direct):
        assert "cafe_db" not in answer["errorMessage"] and f":{stack.DB_PORT}" not in answer["errorMessage"]
    log = stack.read_logs("sales-data-extractor")
    assert '"message":"database connection failed"' in log and '"database":"cafe_db"' in log
    assert topic.messages(wait=1) == []
    # The warm extractor reconnects once the database is back.
    assert invoke("sales-data-extractor", {"date": "2026-11-20"})["statusCode"] == 200


def test_password_is_a_secure_string_parameter():
    ssm = moto.client("ssm")
    prefix = TEMPLATE.parameter("DbParameterPrefix")
    assert ssm.get_parameter(Name=f"{prefix}/dbPassword")["Parameter"]["Type"] == "SecureString"


def test_credentials_never_appear_in_responses_or_logs(invoke):
    # Its own answers (successes and failures of both functions), then every function's whole log so far.
    events = [
        ("sales-report", {"date": "2026-11-21"}),
        ("sales-report", {"date": "2026-02-30"}),
        ("sales-data-extractor", {"date": "2026-11-20"}),
        ("sales-data-extractor", {"date": "bad"}),
        ("sales-data-extractor", {"time": "9999-12-31T23:00:00-14:00"}),
    ]
    bodies = [json.dumps(invoke(function, event)).encode() for function, event in events]
    for body in bodies:
        for secret in SECRETS:
            assert secret.encode() not in body
    for fn in functions():
        logs = stack.read_logs(fn.directory)
        if fn.directory in {function for function, _ in events}:  # the others may not have run yet
            assert "START RequestId" in logs, f"no log captured for {fn.directory}"
        for secret in SECRETS:
            assert secret not in logs, f"a database password appears in the {fn.directory} log"
