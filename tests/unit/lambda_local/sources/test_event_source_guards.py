"""No record, message or trace header stops an event source: a bad one costs itself only (the on-failure
destination or the dead-letter queue, with the reason), the rest of its batch is invoked, the shard's
checkpoint moves past it and the poller goes on. The stream and queue are fakes; the mapping code is real."""

import asyncio
import base64
import dataclasses
import json
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from lambda_local.environments.instance import InvokeResult
from lambda_local.events import recursion
from lambda_local.providers import EventSpec, MappingSettings, SqsSettings, SqsTrigger, filters, load
from lambda_local.sources import streams
from lambda_local.sources.sqs import SqsMapping
from lambda_local.sources.streams import StreamMapping, StreamRecord, StreamSource

DEEP = '{"a":' * 5000 + "1" + "}" * 5000  # json.loads raised RecursionError on it, uncaught


class Runtime:
    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.traces: list[str | None] = []

    async def invoke_when_free(self, payload: bytes, trace_id: str | None = None, **_: Any) -> InvokeResult:
        self.payloads.append(json.loads(payload))
        self.traces.append(trace_id)
        return InvokeResult(b"null", None, "req-1", "", 1.0)


class Reports:
    def __init__(self) -> None:
        self.outcomes: list[tuple[str, int]] = []

    def __call__(self, *args: Any, records: int = 0, **_: Any) -> None:
        self.outcomes.append((args[5], records))


# ------------------------------------------------------------------ SQS


class Sqs:
    def __init__(self, batches: list[list[dict[str, Any]]]) -> None:
        self.batches = batches
        self.deleted: list[str] = []
        self.dead_letters: list[str] = []

    def receive_message(self, **_: Any) -> dict[str, Any]:
        return {"Messages": self.batches.pop(0)} if self.batches else {}

    def delete_message_batch(self, Entries: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
        self.deleted += [entry["ReceiptHandle"] for entry in Entries]
        return {"Successful": Entries}

    def send_message_batch(self, Entries: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
        self.dead_letters += [entry["MessageBody"] for entry in Entries]
        return {"Successful": Entries}


def message(name: str, body: str, trace: str | None = None, **extra: Any) -> dict[str, Any]:
    attributes = {"ApproximateReceiveCount": "1"} | ({"AWSTraceHeader": trace} if trace else {})
    return {"MessageId": name, "ReceiptHandle": f"r-{name}", "Body": body, "Attributes": attributes} | extra


KEEP = json.dumps({"kind": "keep"})
# Lineage with a count of '²': isdigit() said yes, int() raised, the whole batch was received again and again.
ODD_TRACE = f"Root=1-5759e988-bd862e3fe1be46a994272793;Lineage={recursion.function_hash('probe')}:²"
BROKEN_ATTRIBUTE: dict[str, Any] = {"a": {"DataType": "Binary", "BinaryListValues": ["not bytes"]}}


def sqs_mapping(sqs: Sqs, runtime: Runtime, reports: Reports, filtered: bool) -> SqsMapping:
    trigger = SqsTrigger("probe", EventSpec("Jobs", "SQS", {}), "JobsQueue", "jobs", SqsSettings())
    patterns = filters.parse_filters({"Filters": [{"Pattern": '{"body": {"kind": ["keep"]}}'}]}, "at")
    keep = partial(filters.keep, patterns, source="sqs") if filtered else None
    return SqsMapping(trigger, sqs, "url", "arn:aws:sqs:us-east-1:1:jobs", runtime, reports, "us-east-1", keep, "dlq")  # type: ignore[arg-type]


@pytest.mark.parametrize("filtered", [True, False])
def test_bad_sqs_messages_cost_themselves_and_the_batch_goes_on(filtered: bool) -> None:
    batch = [
        message("good", KEEP),
        message("odd-trace", KEEP, ODD_TRACE),
        message("deep", DEEP),
        message("broken", KEEP, MessageAttributes=BROKEN_ATTRIBUTE),
    ]
    sqs, runtime, reports = Sqs([batch]), Runtime(), Reports()
    mapping = sqs_mapping(sqs, runtime, reports, filtered)

    async def scenario() -> None:
        gathered = await mapping.gather()
        await mapping.handle(gathered)

    asyncio.run(scenario())
    (invoked,) = runtime.payloads
    expected = ["good", "odd-trace"] if filtered else ["good", "odd-trace", "deep"]
    assert [r["messageId"] for r in invoked["Records"]] == expected
    assert sqs.dead_letters == [KEEP]  # the message whose record cannot be built, as it came
    assert sorted(sqs.deleted) == sorted(f"r-{m['MessageId']}" for m in batch)
    outcomes = [outcome for outcome, _ in reports.outcomes]
    assert ("filtered out", 1) in reports.outcomes if filtered else "filtered out" not in outcomes
    assert any(o.startswith("not handed over (TypeError") and o.endswith("(dead-letter queue)") for o in outcomes)


def test_a_poller_reports_an_unexpected_error_and_polls_again(monkeypatch: pytest.MonkeyPatch) -> None:
    real_sleep = asyncio.sleep
    monkeypatch.setattr(asyncio, "sleep", lambda _delay: real_sleep(0))
    sqs, runtime, reports = Sqs([]), Runtime(), Reports()
    mapping = sqs_mapping(sqs, runtime, reports, filtered=False)
    calls = 0
    handled = asyncio.Event()

    async def gather() -> list[dict[str, Any]]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("something unexpected")
        if calls == 2:
            return [message("good", KEEP)]
        handled.set()
        await asyncio.Event().wait()
        return []

    mapping.gather = gather  # type: ignore[method-assign]

    async def scenario() -> None:
        mapping.start()
        await asyncio.wait_for(handled.wait(), 5)
        mapping.stop()

    asyncio.run(scenario())
    assert calls == 3 and len(runtime.payloads) == 1


# ------------------------------------------------------------------ streams


class Stream(StreamSource):
    kind = "kinesis"

    def __init__(self, records: list[StreamRecord]) -> None:
        super().__init__(None, "arn:aws:kinesis:us-east-1:1:stream/t", "t")
        self.records = records

    def shards(self) -> list[str]:
        return ["shard-1"]

    def iterator(self, shard: str, position: str, sequence: str | None = None, at: float | None = None) -> str:
        return "it"

    def read(self, shard: str, iterator: str, limit: int) -> tuple[list[StreamRecord], str | None]:
        records, self.records = self.records, []
        return records, "it"


def kinesis(sequence: str, data: str) -> StreamRecord:
    event_record = {
        "kinesis": {"partitionKey": "k", "sequenceNumber": sequence, "data": base64.b64encode(data.encode()).decode()}
    }
    return StreamRecord(sequence, time.time(), event_record, len(json.dumps(event_record)))


def test_bad_stream_records_cost_themselves_and_the_checkpoint_moves_past_them(tmp_path: Path) -> None:
    records = [
        kinesis("1", '{"a": 1}'),
        kinesis("2", DEEP),  # filtered out: too deep to parse, so not {"a": 1}
        StreamRecord("3", time.time(), {}, 2, "KeyError: 'PartitionKey'"),  # could not be built (streams._built)
        kinesis("4", '{"a": 1}'),
        kinesis("5", '{"a": 1, "boom": true}'),  # the filter itself fails on it
    ]
    (trigger,) = [t for t in load().stream_triggers if t.kind == "Kinesis"]
    trigger = dataclasses.replace(trigger, settings=MappingSettings(batch_size=10))
    runtime, reports, failures = Runtime(), Reports(), []

    async def send_failure(record: dict[str, Any]) -> None:
        failures.append(record)

    patterns = filters.parse_filters({"Filters": [{"Pattern": '{"data": {"a": [1]}}'}]}, "at")

    def keep(record: dict[str, Any]) -> bool:
        if record["kinesis"]["sequenceNumber"] == "5":
            raise RecursionError("maximum recursion depth exceeded")
        return filters.keep(patterns, record, "kinesis")

    fn = load().function(trigger.function)
    mapping = StreamMapping(fn, trigger, Stream(records), runtime, "arn:fn", send_failure, reports, tmp_path)  # type: ignore[arg-type]
    mapping.keep = keep

    async def scenario() -> None:
        await mapping.start()
        for _ in range(500):
            if mapping.checkpoints.shards.get("shard-1") == "5":
                break
            await asyncio.sleep(0.01)
        mapping.stop()

    asyncio.run(scenario())
    assert mapping.checkpoints.shards.get("shard-1") == "5"
    assert [[r["kinesis"]["sequenceNumber"] for r in p["Records"]] for p in runtime.payloads] == [["1", "4"]]
    assert [(f["requestContext"]["condition"], f["KinesisBatchInfo"]["startSequenceNumber"]) for f in failures] == [
        (streams.MALFORMED, "3"),
        (streams.MALFORMED, "5"),
    ]
    outcomes = [outcome for outcome, _ in reports.outcomes]
    assert ("filtered out", 1) in reports.outcomes
    assert (
        "on-failure destination (MalformedEvent: filter: RecursionError: maximum recursion depth exceeded)" in outcomes
    )
