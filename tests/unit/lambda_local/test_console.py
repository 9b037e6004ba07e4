"""The local console's pure parts: recent deliveries, one invocation's log lines, a failed event's row,
and its endpoints locked like every control surface of the plane."""

import json
from pathlib import Path

from starlette.testclient import TestClient

from lambda_local.console import _failed_event, invocation_lines
from lambda_local.doors import locked
from lambda_local.invocations import Recent


def test_recent_deliveries_are_kept_per_function_newest_first_and_bounded() -> None:
    recent = Recent(size=3)
    for i in range(5):
        recent.record({"function": "a", "request_id": f"r{i}"})
    recent.record({"function": "b", "request_id": "x"})
    assert [d["request_id"] for d in recent.of("a")] == ["r4", "r3", "r2"]
    assert [d["request_id"] for d in recent.of("b")] == ["x"] and recent.of("c") == []
    assert recent.count == 6


def test_one_invocations_lines_are_found_in_text_and_json_format(tmp_path: Path) -> None:
    log = tmp_path / "fn.log"
    log.write_text(
        "START RequestId: one Version: $LATEST\nfirst\nEND RequestId: one\nREPORT RequestId: one\tDuration: 1 ms\n"
        "START RequestId: two Version: $LATEST\nsecond\nREPORT RequestId: two\tDuration: 1 ms\n"
        + json.dumps({"type": "platform.start", "record": {"requestId": "three"}})
        + "\nthird\n"
        + json.dumps({"type": "platform.report", "record": {"requestId": "three"}})
        + "\nafter\n"
    )
    assert invocation_lines(log, "one")[1:3] == ["first", "END RequestId: one"]
    assert invocation_lines(log, "two")[1] == "second" and len(invocation_lines(log, "two")) == 3
    assert invocation_lines(log, "three")[1] == "third" and len(invocation_lines(log, "three")) == 3
    assert invocation_lines(log, "nope") == [] and invocation_lines(tmp_path / "none.log", "one") == []


def test_a_failure_record_becomes_a_row_with_its_error_and_whether_it_can_be_redriven() -> None:
    record = {
        "requestContext": {
            "requestId": "r1",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:report:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": {"date": "x"},
        "responsePayload": {"errorType": "InvalidEventError", "errorMessage": "bad date"},
    }
    row = _failed_event("failed", {"MessageId": "m1", "Body": json.dumps(record)})
    assert (row["function"], row["requestId"], row["attempts"], row["redrivable"]) == ("report", "r1", 3, True)
    assert row["error"] == "InvalidEventError: bad date"
    stream = _failed_event("failed", {"MessageId": "m2", "Body": json.dumps({"requestContext": {"condition": "X"}})})
    assert stream["redrivable"] is False and stream["error"] == "X"


def test_the_redrive_endpoint_is_refused_cross_site() -> None:
    async def ok(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    client = TestClient(locked(ok, control=True), base_url="http://127.0.0.1:3001")
    evil = client.post("/_local/console/redrive", content=b"{}", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    assert client.post("/_local/console/redrive", content=b"{}").status_code == 202
