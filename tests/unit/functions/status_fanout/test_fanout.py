"""statusFanout's pure parts: the request body checked, the stored item and the push message shaped."""

import json
import re
from datetime import UTC, datetime

import pytest

from fanout import MAX_BODY_BYTES, InvalidStatus, StatusTooLarge, parse_status

NOW = datetime(2026, 11, 20, 9, 15, 0, 123456, tzinfo=UTC)


def test_a_status_is_stored_under_its_user_newest_last() -> None:
    status = parse_status("alice", '{"text": "  Fresh croissants!  "}', NOW)
    assert status.text == "Fresh croissants!"
    assert status.posted_at == "2026-11-20T09:15:00.123Z"
    item = status.item
    assert item["user_id"] == "alice" and item["posted"] == f"2026-11-20T09:15:00.123Z#{status.status_id}"
    later = parse_status("alice", '{"text": "again"}', NOW.replace(second=1))
    assert later.item["posted"] > item["posted"]


def test_the_push_message_has_a_payload_per_platform() -> None:
    status = parse_status("alice", json.dumps({"text": "é" * 300}), NOW)
    message = json.loads(status.push_message())
    assert set(message) == {"default", "GCM", "APNS", "APNS_SANDBOX"}
    gcm = json.loads(message["GCM"])
    assert gcm["data"] == {"status_id": status.status_id, "user_id": "alice"}
    assert len(gcm["notification"]["body"]) == 100 and gcm["notification"]["body"].endswith("…")
    assert json.loads(message["APNS"])["aps"]["alert"]["title"] == "alice posted"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (None, "empty"),
        ("   ", "empty"),
        ("{", "not JSON"),
        ("[1, 2]", "JSON object, got list"),
        ('{"text": null}', "text must be a string"),
        ('{"text": "  "}', "text is empty"),
        ('{"text": "hi", "to": "bob"}', "unknown field(s): 'to'"),
        (json.dumps({"text": "x" * 501}), "501 characters; the limit is 500"),
    ],
)
def test_bad_bodies_say_what_is_wrong(body: str | None, says: str) -> None:
    with pytest.raises(InvalidStatus, match=re.escape(says)):
        parse_status("alice", body, NOW)


def test_a_body_over_the_limit_is_too_large_not_invalid() -> None:
    with pytest.raises(StatusTooLarge, match="the limit is 4,096"):
        parse_status("alice", json.dumps({"text": "x" * MAX_BODY_BYTES}), NOW)


def test_an_echoed_body_is_cut() -> None:
    with pytest.raises(InvalidStatus) as caught:
        parse_status("alice", "not json " * 300, NOW)
    assert len(str(caught.value)) < 120
