"""The local console's pure parts: recent deliveries, one invocation's log lines, a failed event's row,
and its endpoints locked like every control surface of the plane."""

import json
from pathlib import Path

from starlette.testclient import TestClient

from lambda_local.http.console import _failed_event, invocation_lines
from lambda_local.http.doors import locked
from lambda_local.invocation.deliveries import Recent


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

    client = TestClient(locked(ok, control=True, peers=["testclient"]), base_url="http://127.0.0.1:3001")
    evil = client.post("/_local/console/redrive", content=b"{}", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    assert client.post("/_local/console/redrive", content=b"{}").status_code == 202


class RecordingSqs:
    """An SQS client that records every call: two failed events wait on the queue, one of them sent
    by this plane."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        record = {
            "requestContext": {
                "requestId": "r1",
                "functionArn": "arn:aws:lambda:r:1:function:report",
                "condition": "X",
            },
            "requestPayload": {"date": "x"},
        }
        self.messages = [
            {"MessageId": "m1", "ReceiptHandle": "h1", "Body": json.dumps(record)},
            {"MessageId": "m0", "ReceiptHandle": "h0", "Body": json.dumps(record | {"requestContext": {}})},
        ]

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        def call(**kwargs):  # type: ignore[no-untyped-def]
            self.calls.append(name)
            if name == "get_queue_url":
                return {"QueueUrl": f"http://sqs/{kwargs['QueueName']}"}
            if name == "get_queue_attributes":
                counts = {"ApproximateNumberOfMessages": "2", "ApproximateNumberOfMessagesNotVisible": "0"}
                return {"Attributes": counts | {"ApproximateNumberOfMessagesDelayed": "0"}}
            if name == "receive_message":
                return {"Messages": self.messages}
            raise AssertionError(f"unexpected SQS call {name}")

        return call


def console_plane(sqs: RecordingSqs, tmp_path: Path):  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    on_failure = SimpleNamespace(name="failed-q")
    fn = SimpleNamespace(async_config=SimpleNamespace(on_failure=on_failure))
    return SimpleNamespace(
        aws=lambda service: sqs,
        template=SimpleNamespace(functions=[fn], stream_triggers=[], schedules=[], routes=[]),
        runtimes={},
        invokers={},
        mappings=[],
        sqs_mappings=[],
        account=SimpleNamespace(limit=10, in_flight=0, state=lambda: {"concurrency_limit": 10, "in_flight": 0}),
        settings=SimpleNamespace(api_port=3000, log_dir=tmp_path),
        problems=[],
        all_problems=lambda: [],
    )


def test_reading_the_state_receives_nothing_and_looking_at_a_queue_is_a_post(tmp_path: Path) -> None:
    """The page polls the state every second: it must leave the queue's messages as they are (a receive
    changes their visibility and receive counts). The failed events listed are those this plane sent;
    what waits on the queue (an earlier plane's too) is looked at on request."""
    from starlette.applications import Starlette

    from lambda_local.http.console import routes
    from lambda_local.invocation.sent_records import SENT

    sqs = RecordingSqs()
    SENT.record("failed-q", {"MessageId": "m1"}, sqs.messages[0]["Body"])
    SENT.record("other-q", {"MessageId": "m9"}, sqs.messages[0]["Body"])  # no on-failure queue
    client = TestClient(Starlette(routes=routes(console_plane(sqs, tmp_path))))
    for _ in range(3):
        state = client.get("/_local/console/state").json()
    assert "receive_message" not in sqs.calls and set(sqs.calls) == {"get_queue_url", "get_queue_attributes"}
    assert state["failure_queues"] == [{"queue": "failed-q", "messages": 2, "in_flight": 0, "delayed": 0}]
    assert [(f["messageId"], f["requestId"], f["redrivable"]) for f in state["failed"]] == [("m1", "r1", True)]

    assert client.get("/_local/console/peek").status_code == 405
    assert client.post("/_local/console/peek", json={"queue": "other-q"}).status_code == 400
    looked = client.post("/_local/console/peek", json={"queue": "failed-q"}).json()
    assert sqs.calls.count("receive_message") == 1
    assert [f["messageId"] for f in looked["failed"]] == ["m1", "m0"]


def test_an_invocation_cut_by_the_logs_rotation_is_found_across_both_files(tmp_path: Path) -> None:
    log = tmp_path / "fn.log"
    (tmp_path / "fn.log.1").write_text("START RequestId: one Version: $LATEST\nfirst half\n")
    log.write_text("second half\nEND RequestId: one\nREPORT RequestId: one\tDuration: 1 ms\n")
    assert invocation_lines(log, "one") == [
        "START RequestId: one Version: $LATEST",
        "first half",
        "second half",
        "END RequestId: one",
        "REPORT RequestId: one\tDuration: 1 ms",
    ]


def test_every_page_links_the_shared_styles_and_script_and_they_are_served(tmp_path: Path) -> None:
    from starlette.applications import Starlette

    from lambda_local.http.console import routes

    client = TestClient(Starlette(routes=routes(console_plane(RecordingSqs(), tmp_path))))
    styles = client.get("/_local/console/console.css")
    assert styles.status_code == 200 and styles.headers["content-type"].startswith("text/css")
    assert "button:hover" in styles.text
    script = client.get("/_local/console/console.js")
    assert script.status_code == 200 and "function el(" in script.text
    for page in ("/_local/", "/_local/console/trace", "/_local/console/execution"):
        text = client.get(page).text
        assert '<link rel="stylesheet" href="/_local/console/console.css">' in text
        assert '<script src="/_local/console/console.js"></script>' in text and "function el(" not in text
    assert client.post("/_local/console/console.css").status_code == 405
