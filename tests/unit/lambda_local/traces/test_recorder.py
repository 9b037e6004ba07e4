"""The plane's own spans and the trace header they hand on: a trigger starts or continues a trace, an
invocation's span is the Parent the function receives, one SNS message fanned out is one trace."""

import asyncio
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from lambda_local.events import recursion
from lambda_local.traces import recorder
from lambda_local.traces.model import Span, trace_id_of


class Collected:
    def __init__(self) -> None:
        self.spans: list[Span] = []

    def add(self, spans: Iterable[Span]) -> int:
        self.spans += list(spans)
        return len(self.spans)


@pytest.fixture
def spans() -> Iterator[list[Span]]:
    collected = Collected()
    recorder.RECORDER.attach(collected)  # type: ignore[arg-type]
    yield collected.spans
    recorder.RECORDER.attach(None)


@dataclass(frozen=True)
class Result:
    payload: bytes = b"{}"
    function_error: str | None = None
    request_id: str = "req-1"
    duration_ms: float = 12.0
    cold_start: bool = True


def test_a_trigger_without_a_trace_starts_one_and_hands_on_itself_as_parent(spans: list[Span]) -> None:
    header = recorder.received("Schedule nightly")
    fields = recursion.fields(header)
    (span,) = spans
    assert trace_id_of(fields["Root"]) == span.trace_id and fields["Parent"] == span.span_id
    assert fields["Sampled"] == "1" and span.parent_id == "" and span.service == "lambda-local"


def test_a_trigger_continues_an_incoming_trace_and_keeps_its_lineage(spans: list[Span]) -> None:
    incoming = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=0a1b2c3d:2"
    header = recorder.received("SQS jobs (1 message)", incoming)
    (span,) = spans
    assert span.trace_id == "5759e988bd862e3fe1be46a994272793" and span.parent_id == "53995c3f42cd8ad8"
    assert recursion.fields(header)["Lineage"] == "0a1b2c3d:2" and recursion.fields(header)["Sampled"] == "1"
    onward = recorder.onward(header, "worker")
    assert recursion.fields(onward)["Parent"] == span.span_id and recursion.fields(onward)["Root"].endswith(
        "a994272793"
    )
    assert recursion.depth(onward, "worker") == 1 and recursion.fields(onward)["Lineage"].startswith("0a1b2c3d:2")


def test_the_invocation_span_is_the_parent_the_function_receives(spans: list[Span]) -> None:
    trace = recorder.onward(recorder.received("Schedule nightly"), "report")
    given: list[str] = []

    async def call(header: str) -> Result:
        given.append(header)
        return Result()

    result = asyncio.run(recorder.invocation("report", trace, call, source="schedule", request_id="ev-1"))
    assert result.request_id == "req-1"
    trigger, invocation = spans
    assert recursion.fields(given[0])["Parent"] == invocation.span_id and invocation.parent_id == trigger.span_id
    assert recursion.depth(given[0], "report") == 1  # the lineage goes to the function unchanged
    assert invocation.attributes["faas.invocation_id"] == "req-1"
    assert invocation.attributes["lambda_local.request_id"] == "ev-1" and invocation.status == "ok"


def test_a_failed_invocation_is_an_error_span_with_the_functions_error(spans: list[Span]) -> None:
    error = Result(json.dumps({"errorType": "ValueError", "errorMessage": "bad photo"}).encode(), "Unhandled")

    async def call(header: str) -> Result:
        return error

    asyncio.run(recorder.invocation("resize", None, call, source="sns", attempt=2))
    (span,) = spans
    assert span.error and span.status_message == "ValueError: bad photo" and span.name == "invoke resize (attempt 2)"

    async def raises(header: str) -> Result:
        raise RuntimeError("throttled")

    with pytest.raises(RuntimeError):
        asyncio.run(recorder.invocation("resize", None, raises, source="invoke"))
    assert spans[-1].error and "throttled" in spans[-1].status_message


def sns_event(subscription: str) -> dict[str, object]:
    s3 = {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "eventTime": "2026-11-20T20:00:00.000Z",
                "s3": {"bucket": {"name": "photo-uploads"}, "object": {"key": "a.jpg", "sequencer": "01"}},
            }
        ]
    }
    sns = {
        "MessageId": "m-1",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:uploads",
        "Timestamp": "2026-11-20T20:00:00.050Z",
        "Message": json.dumps(s3),
    }
    return {"Records": [{"EventSubscriptionArn": subscription, "Sns": sns}]}


def test_one_sns_message_two_functions_receive_is_one_trigger_span_in_one_trace(spans: list[Span]) -> None:
    resize = recorder.notification("SNS", "uploads", sns_event("arn:sub:resize"))
    labels = recorder.notification("SNS", "uploads", sns_event("arn:sub:labels"))
    assert recursion.fields(resize)["Root"] == recursion.fields(labels)["Root"]
    assert recursion.fields(resize)["Parent"] == recursion.fields(labels)["Parent"]
    first, second = spans
    assert first.span_id == second.span_id and first.name == "S3 ObjectCreated:Put photo-uploads/a.jpg → SNS uploads"
    assert first.start_ns == int(datetime(2026, 11, 20, 20, tzinfo=UTC).timestamp()) * 10**9  # the upload's time
    assert first.trace_id.startswith(f"{int(datetime(2026, 11, 20, 20, tzinfo=UTC).timestamp()):08x}")
    assert first.attributes["aws.s3.key"] == "a.jpg" and first.attributes["messaging.message.id"] == "m-1"
    other = recorder.notification("SNS", "uploads", {"Records": [{"Sns": {"MessageId": "m-2", "Message": "hi"}}]})
    assert recursion.fields(other)["Root"] != recursion.fields(resize)["Root"]


def test_an_sqs_batch_continues_its_first_messages_trace(spans: list[Span]) -> None:
    sender = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    records = [{"messageId": "m", "attributes": {"AWSTraceHeader": sender, "SentTimestamp": "1700000000000"}}]
    recorder.sqs_batch("jobs", records)
    (span,) = spans
    assert span.parent_id == "53995c3f42cd8ad8" and span.start_ns == 1700000000000 * 10**6
    assert span.name == "SQS jobs (1 message)"


def test_a_destination_span_is_the_current_trace_while_its_record_is_sent(spans: list[Span]) -> None:
    trace = recorder.received("Invoke f")

    async def send() -> str | None:
        async with recorder.destination("on-failure", "f", trace, "failed-queue"):
            return recorder.current()

    inside = asyncio.run(send())
    assert recorder.current() is None
    trigger, sent = spans
    assert recursion.fields(inside)["Parent"] == sent.span_id and sent.parent_id == trigger.span_id
    assert sent.name == "on-failure destination failed-queue"


def test_without_a_store_spans_go_nowhere_and_headers_still_flow() -> None:
    recorder.RECORDER.attach(None)
    assert recursion.fields(recorder.received("x"))["Parent"]


def test_an_s3_notification_to_two_functions_queues_is_one_span_too(spans: list[Span]) -> None:
    record = {
        "eventName": "ObjectCreated:Put",
        "eventTime": "2026-11-20T20:00:00.000Z",
        "s3": {"bucket": {"name": "photo-uploads"}, "object": {"key": "b.jpg", "sequencer": "02"}},
    }
    first = recorder.notification("S3", "photo-uploads", {"Records": [record]})
    second = recorder.notification("S3", "photo-uploads", {"Records": [dict(record)]})
    assert recursion.fields(first)["Parent"] == recursion.fields(second)["Parent"]
    assert spans[0].name == "S3 ObjectCreated:Put photo-uploads/b.jpg" and spans[0].span_id == spans[1].span_id


def test_a_stream_batch_and_a_schedule_start_traces_of_their_own(spans: list[Span]) -> None:
    one = recorder.stream_batch("Kinesis", "tractor-telemetry", 100, 1_700_000_000.5)
    two = recorder.schedule("nightly", "report", datetime(2026, 11, 20, 20, tzinfo=UTC))
    assert recursion.fields(one)["Root"] != recursion.fields(two)["Root"]
    stream, fired = spans
    assert stream.name == "Kinesis tractor-telemetry (100 records)" and stream.start_ns == 1_700_000_000_500_000_000
    assert fired.name == "Schedule nightly" and fired.attributes["aws.events.rule"] == "nightly"
    assert stream.parent_id == fired.parent_id == ""
