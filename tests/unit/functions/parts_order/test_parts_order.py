"""tractorPartsOrder's pure rules (the request, settings, the supplier's confirmation, the texts it sends),
its store's idempotent writes under moto's mock, and its template entry's times."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambda_local.providers import load
from lambda_local.sources.provision import create_resources
from parts_order import (
    MAX_SUPPLIER_TIMEOUT_S,
    Confirmation,
    Escalation,
    InvalidConfirmation,
    OrderRequest,
    Settings,
    dealer_notice,
    duration_text,
    escalation_subject,
    escalation_text,
    order_subject,
    parse_confirmation,
    reply_window,
    supplier_timeout,
)
from parts_order_store import AwsOrderStore, OrderStateConflict
from shared.errors import ConfigError, InvalidEventError
from stack import ROOT
from tests.support.handlers import reset_caches

NAMES = load().names
SETTINGS = Settings("parts-orders", "arn:dealer", "arn:escalations", 172800)


def sample() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "events" / "parts-order" / "order.json").read_text())
    return loaded


def test_the_sample_request_reads_and_writes_back_the_same() -> None:
    request = OrderRequest.from_event(sample())
    assert (request.tractor_id, request.part, request.z, request.reply_within_s) == (
        "T-003",
        "wheel-bearing",
        21.437,
        None,
    )
    assert request.baseline == {"mean": 55.06, "stddev": 0.781, "samples": 30}
    assert request.as_event() == sample()
    assert OrderRequest.from_event(sample() | {"z": None, "reply_within_s": 60}).as_event()["reply_within_s"] == 60


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"order_id": ""}, "order_id must be a string of 1..200"),
        ({"tractor": 7}, "tractor must be a string"),
        ({"part": "x" * 201}, "part must be a string of 1..200"),
        ({"value": "hot"}, "value must be a finite number"),
        ({"value": True}, "value must be a finite number"),
        ({"z": "inf"}, "z must be a finite number"),
        ({"baseline": []}, "baseline must be an object"),
        ({"baseline": {"mean": 1.0, "stddev": 0.1, "samples": -1}}, "baseline.samples must be a whole number"),
        ({"reply_within_s": 0}, "reply_within_s must be a whole number of seconds >= 1"),
        ({"reply_within_s": 1.5}, "reply_within_s must be a whole number"),
    ],
)
def test_a_bad_request_names_its_field(change: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidEventError, match=words):
        OrderRequest.from_event(sample() | change)


def test_a_request_is_an_object() -> None:
    with pytest.raises(InvalidEventError, match="JSON object"):
        OrderRequest.from_event(["order"])
    request = sample()
    del request["detected_at"]
    with pytest.raises(InvalidEventError, match="detected_at must be a string"):
        OrderRequest.from_event(request)


def test_the_supplier_timeout_setting() -> None:
    assert supplier_timeout("172800") == 172800
    for bad in ("two days", "0", str(MAX_SUPPLIER_TIMEOUT_S + 1)):
        with pytest.raises(ConfigError, match="SUPPLIER_TIMEOUT_SECONDS"):
            supplier_timeout(bad)


def test_the_reply_window_is_the_setting_or_the_orders_shorter_one() -> None:
    request = OrderRequest.from_event(sample())
    assert reply_window(request, SETTINGS) == 172800
    assert reply_window(OrderRequest.from_event(sample() | {"reply_within_s": 600}), SETTINGS) == 600
    assert reply_window(OrderRequest.from_event(sample() | {"reply_within_s": 10**7}), SETTINGS) == 172800


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"delivery_date": "2026-06-01"}', Confirmation(date(2026, 6, 1))),
        (b'{"delivery_date": "2026-06-01", "reference": "SO-7"}', Confirmation(date(2026, 6, 1), "SO-7")),
        ({"delivery_date": "2026-12-31"}, Confirmation(date(2026, 12, 31))),
    ],
)
def test_a_confirmation_names_a_delivery_date(raw: Any, expected: Confirmation) -> None:
    assert parse_confirmation(raw) == expected


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("soon", "not JSON"),
        (None, "a confirmation is a JSON object"),
        ('["2026-06-01"]', "a confirmation is a JSON object"),
        ('{"delivery_date": "2026-02-30"}', "delivery_date must be a date"),
        ('{"delivery_date": "20260601"}', "delivery_date must be a date"),
        ('{"delivery_date": 20260601}', "delivery_date must be a date"),
        ('{"delivery_date": "2026-06-01", "reference": ""}', "reference must be a string"),
    ],
)
def test_anything_else_is_no_confirmation(raw: Any, words: str) -> None:
    with pytest.raises(InvalidConfirmation, match=words):
        parse_confirmation(raw)


def test_the_dealers_notice_says_how_to_answer_and_by_when() -> None:
    request = OrderRequest.from_event(sample())
    notice = dealer_notice(request, "cb-1", datetime(2026, 5, 6, 6, 5, 20, tzinfo=UTC))
    assert (notice["order_id"], notice["callback_id"], notice["reply_by"]) == (
        request.order_id,
        "cb-1",
        "2026-05-06T06:05:20.000Z",
    )
    assert notice["z"] == 21.44 and notice["baseline"]["samples"] == 30
    assert "SendDurableExecutionCallbackSuccess" in notice["reply"]["confirm"]
    assert order_subject(request) == "Spare part order: wheel-bearing for tractor T-003"


def test_subjects_are_ascii_and_short() -> None:
    request = OrderRequest.from_event(sample() | {"tractor": "Trättor-" + "9" * 150})
    for subject in (order_subject(request), escalation_subject(request)):
        assert subject.isascii() and len(subject) < 100 and "Tr?ttor" in subject


def test_the_escalation_email_says_why() -> None:
    request = OrderRequest.from_event(sample())
    text = escalation_text(request, Escalation("timeout", "the supplier did not confirm within 48 h"))
    assert text.splitlines()[0] == (
        "The spare-part order T-003#wheel-bearing#2026-05-04T06:05:00Z is not confirmed: "
        "the supplier did not confirm within 48 h."
    )
    assert "Reading:   71.8 °C at 2026-05-04T06:05:20Z" in text


@pytest.mark.parametrize(("seconds", "text"), [(172800, "48 h"), (5400, "90 min"), (45, "45 s"), (90, "90 s")])
def test_durations_read_as_people_say_them(seconds: int, text: str) -> None:
    assert duration_text(seconds) == text


def test_the_supplier_window_ends_inside_the_execution() -> None:
    fn = load().function("tractorPartsOrder")
    assert fn.durable is not None
    window = supplier_timeout(fn.environment["SUPPLIER_TIMEOUT_SECONDS"])
    assert window == 48 * 3600
    assert window + 3600 <= fn.durable.execution_timeout_s  # an hour left for the escalation and its retries


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsOrderStore]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    reset_caches()
    with mock_aws():
        create_resources(load(), lambda service: boto3.client(service, region_name="us-east-1"))
        topics = {t: f"arn:aws:sns:us-east-1:123456789012:{NAMES[t]}" for t in ("DealerTopic", "PartsEscalationTopic")}
        yield AwsOrderStore(
            Settings(NAMES["PartsOrdersTable"], topics["DealerTopic"], topics["PartsEscalationTopic"], 60)
        )
    reset_caches()


def test_an_order_is_put_once_and_its_outcome_written_once(store: AwsOrderStore) -> None:
    request = OrderRequest.from_event(sample())
    first = store.record_order(request, "arn:execution-1")
    again = store.record_order(request, "arn:execution-2")  # the step run again, or another execution
    assert (first.status, first.new, again.status, again.new) == ("ORDERED", True, "ORDERED", False)
    assert (store.read(request.order_id) or {})["execution"] == "arn:execution-1"

    confirmation = Confirmation(date(2026, 6, 1), "SO-7")
    store.record_confirmed(request, confirmation)
    store.record_confirmed(request, confirmation)  # the record step run again: done before, no error
    assert store.record_order(request, "arn:execution-3").status == "CONFIRMED"
    with pytest.raises(OrderStateConflict, match="is CONFIRMED, not ORDERED"):
        store.record_escalated(request, Escalation("timeout", "late"), "m-1")
    assert (store.read(request.order_id) or {})["delivery_date"] == "2026-06-01"
    assert store.read("no such order") is None
