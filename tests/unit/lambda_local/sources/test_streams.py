"""The event source mapping's pure rules: partial batch answers, settings from the template, and the
stream events and failure records in AWS's documented shapes."""

import base64
from datetime import UTC, datetime

import pytest

from lambda_local.events.destinations import stream_failure_record
from lambda_local.events.streams import dynamodb_record, kinesis_record
from lambda_local.providers import EventSpec, TemplateError
from lambda_local.sources.streams import MappingSettings, first_failure

SEQUENCES = ["100", "200", "300", "400"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b'{"batchItemFailures": []}', None),  # empty list: success
        (b'{"batchItemFailures": null}', None),
        (b"{}", None),
        (b"null", None),
        (b"", None),
        (b'{"batchItemFailures": [{"itemIdentifier": "300"}]}', 2),
        (b'{"batchItemFailures": [{"itemIdentifier": "400"}, {"itemIdentifier": "200"}]}', 1),  # the lowest
        (b'{"batchItemFailures": [{"itemIdentifier": "100"}]}', 0),
        (b'{"batchItemFailures": [{"itemIdentifier": null}]}', 0),  # null: the whole batch failed
        (b'{"batchItemFailures": [{"itemIdentifier": ""}]}', 0),
        (b'{"batchItemFailures": [{"itemIdentifier": "999"}]}', 0),  # not in the batch
        (b'{"batchItemFailures": [{"id": "200"}]}', 0),  # misnamed key
        (b'{"batchItemFailures": "200"}', 0),
    ],
)
def test_partial_batch_answers(answer: bytes, expected: int | None) -> None:
    assert first_failure(answer, SEQUENCES) == expected


def _settings(**properties: object) -> MappingSettings:
    return MappingSettings.of(
        EventSpec("Stream", "Kinesis", {"StartingPosition": "LATEST"} | properties),
        "template.yaml: X.Properties.Events.Stream.Properties",
    )


def test_settings_defaults_are_lambdas() -> None:
    settings = _settings()
    assert (settings.batch_size, settings.window_s, settings.max_retries, settings.max_record_age_s) == (100, 0, -1, -1)
    assert not settings.report_item_failures and not settings.bisect


def test_settings_from_the_template() -> None:
    settings = _settings(
        BatchSize=1000,
        MaximumBatchingWindowInSeconds=5,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=3,
        MaximumRecordAgeInSeconds=3600,
        DestinationConfig={"OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": ["Failed", "Arn"]}}},
    )
    assert (settings.batch_size, settings.window_s, settings.max_retries, settings.max_record_age_s) == (
        1000,
        5.0,
        3,
        3600,
    )
    assert settings.report_item_failures and settings.bisect and settings.on_failure == "Failed"


@pytest.mark.parametrize(
    ("properties", "named"),
    [
        ({"BatchSize": 0}, "BatchSize"),
        ({"BatchSize": 10001}, "BatchSize"),
        ({"MaximumBatchingWindowInSeconds": 301}, "MaximumBatchingWindowInSeconds"),
        ({"MaximumRecordAgeInSeconds": 10}, "MaximumRecordAgeInSeconds"),
        ({"MaximumRetryAttempts": -2}, "MaximumRetryAttempts"),
        ({"StartingPosition": "EARLIEST"}, "StartingPosition"),
        ({"StartingPosition": "AT_TIMESTAMP"}, "StartingPositionTimestamp"),
        ({"FunctionResponseTypes": ["Everything"]}, "FunctionResponseTypes"),
        ({"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:x"}}}, "Destination"),
    ],
)
def test_bad_settings_are_named(properties: dict, named: str) -> None:
    with pytest.raises(TemplateError, match=named):
        _settings(**properties)


def test_dynamodb_stream_record_has_lambdas_shape() -> None:
    raw = {
        "eventID": "e1",
        "eventName": "MODIFY",
        "eventVersion": "1.0",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 11, 20, 20, 0, tzinfo=UTC),
            "Keys": {"id": {"S": "a"}},
            "NewImage": {"id": {"S": "a"}, "blob": {"B": b"\x00\xff"}, "tags": {"BS": [b"\x01"]}},
            "OldImage": {"id": {"S": "a"}},
            "SequenceNumber": "111",
            "SizeBytes": 40,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    record = dynamodb_record(raw, "arn:aws:dynamodb:us-east-1:1:table/t/stream/x", "us-east-1")
    assert record["eventVersion"] == "1.1"
    assert record["eventSourceARN"].endswith("/stream/x")
    change = record["dynamodb"]
    assert change["ApproximateCreationDateTime"] == int(datetime(2026, 11, 20, 20, 0, tzinfo=UTC).timestamp())
    assert change["NewImage"]["blob"] == {"B": base64.b64encode(b"\x00\xff").decode()}
    assert change["NewImage"]["tags"] == {"BS": [base64.b64encode(b"\x01").decode()]}
    assert change["SequenceNumber"] == "111" and change["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_kinesis_record_has_lambdas_shape() -> None:
    arrival = datetime(2026, 11, 20, 20, 0, 0, 123000, tzinfo=UTC)
    raw = {"SequenceNumber": "7", "ApproximateArrivalTimestamp": arrival, "Data": b'{"v": 1}', "PartitionKey": "t1"}
    record = kinesis_record(raw, "shardId-000000000001", "arn:aws:kinesis:us-east-1:1:stream/s", "us-east-1", "role")
    assert record["eventID"] == "shardId-000000000001:7"
    assert record["eventName"] == "aws:kinesis:record" and record["eventSource"] == "aws:kinesis"
    kinesis = record["kinesis"]
    assert base64.b64decode(kinesis["data"]) == b'{"v": 1}'
    assert kinesis["approximateArrivalTimestamp"] == round(arrival.timestamp(), 3)
    assert (kinesis["partitionKey"], kinesis["sequenceNumber"], kinesis["kinesisSchemaVersion"]) == ("t1", "7", "1.0")


def test_failure_records_say_where_the_records_are() -> None:
    batch = [("5", 1795600000.0), ("9", 1795600001.5)]
    record = stream_failure_record("kinesis", "arn:fn", "RecordAgeExceeded", 2, "shard-1", "arn:s", batch, None)
    info = record["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("5", "9", 2)
    assert info["approximateArrivalOfLastRecord"].endswith(":41.500Z")
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"
    assert "responseContext" not in record  # nothing was invoked for expired records
    ddb = stream_failure_record("dynamodb", "arn:fn", "RetryAttemptsExhausted", 3, "s", "arn:s", batch, "Unhandled")
    assert "DDBStreamBatchInfo" in ddb and ddb["responseContext"]["functionError"] == "Unhandled"


def test_a_shards_checkpoint_moves_only_past_records_that_are_all_settled(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from lambda_local.sources.streams import Checkpoints, ShardProgress, StreamRecord

    def records(*sequences: str) -> list[StreamRecord]:
        return [StreamRecord(s, 0.0, {"kinesis": {"partitionKey": "k"}}, 10) for s in sequences]

    checkpoints = Checkpoints(tmp_path / "m.json", "stream")
    progress = ShardProgress(checkpoints, "shard-1")
    progress.read(records("1", "2", "3", "4", "5"))
    progress.done(records("2", "4"))  # two lanes ahead of the first record
    assert "shard-1" not in checkpoints.shards
    progress.done(records("1"))
    assert checkpoints.shards["shard-1"] == "2"
    progress.done(records("5", "3"))
    assert checkpoints.shards["shard-1"] == "5" and not progress.pending and not progress.settled
    assert Checkpoints(tmp_path / "m.json", "stream").shards == {"shard-1": "5"}  # on disk, for a restart


def test_parallelization_factor_is_read_and_checked() -> None:
    assert _settings().parallelization == 1
    assert _settings(ParallelizationFactor=5).parallelization == 5
    with pytest.raises(TemplateError, match=r"ParallelizationFactor: must be an integer in 1\.\.10"):
        _settings(ParallelizationFactor=11)


@pytest.mark.parametrize("text", ["{garbled", "null", "[]", '{"stream": "s", "shards": ["a"]}'])
def test_an_unreadable_checkpoint_stops_its_mapping_naming_the_file(tmp_path, text: str) -> None:  # type: ignore[no-untyped-def]
    from lambda_local.sources.streams import CheckpointError, Checkpoints

    path = tmp_path / "probe-Orders.json"
    path.write_text(text)
    with pytest.raises(CheckpointError, match="probe-Orders.json"):
        Checkpoints(path, "s")


def test_a_failure_while_settling_is_tried_again_and_the_lane_lives_on(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from lambda_local.sources import streams
    from lambda_local.sources.streams import ShardPoller

    real_sleep = asyncio.sleep
    monkeypatch.setattr(streams.asyncio, "sleep", lambda _delay: real_sleep(0))

    class Mapping:
        name = "probe-Orders"
        settings = _settings()
        source = None
        checkpoints = None
        progress: dict = {}
        calls = 0

        async def settle(self, shard: str, batch: list) -> None:
            Mapping.calls += 1
            if Mapping.calls < 3:
                raise OSError("disk full")

    poller = ShardPoller(Mapping(), "shard-1")  # type: ignore[arg-type]
    asyncio.run(poller._settle([]))
    assert Mapping.calls == 3
