"""The events the plane builds (S3 via SNS, schedules) and when schedules fire."""

import json
from datetime import UTC, datetime

import pytest

from lambda_local.events.s3 import complete_s3_event
from lambda_local.events.scheduled import scheduled_event
from lambda_local.events.sns import sns_event
from lambda_local.providers import Schedule, ScheduleError, load
from shared.s3_events import object_refs

MOTO_S3_EVENT = {
    "Records": [
        {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": "2026-11-24T10:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "c1",
                "bucket": {"name": "photo-uploads", "arn": "arn:aws:s3:::photo-uploads"},
                "object": {"key": "a%2Fmy+photo+%C3%A9.jpg", "size": 5, "eTag": "e"},
            },
        }
    ]
}
SNS_TO_SQS = {
    "Type": "Notification",
    "MessageId": "m-1",
    "TopicArn": "arn:aws:sns:us-east-1:123456789012:photo-uploads-events",
    "Message": json.dumps(MOTO_S3_EVENT),
    "Timestamp": "2026-11-24T10:00:00.100Z",
    "SignatureVersion": "1",
    "Signature": "sig",
    "SigningCertURL": "https://sns/cert.pem",
    "UnsubscribeURL": "https://sns/unsub",
}


def test_an_sns_delivered_s3_upload_becomes_the_lambda_sns_event_with_a_complete_s3_record():
    event = sns_event(json.loads(json.dumps(SNS_TO_SQS)), "arn:aws:sns:us-east-1:123456789012:photo-uploads-events:s1")
    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
    sns = record["Sns"]
    assert sns["SigningCertUrl"] == "https://sns/cert.pem" and sns["UnsubscribeUrl"] == "https://sns/unsub"
    assert sns["MessageId"] == "m-1" and sns["Subject"] is None and sns["MessageAttributes"] == {}
    s3_record = json.loads(sns["Message"])["Records"][0]
    assert s3_record["userIdentity"]["principalId"] and s3_record["requestParameters"]["sourceIPAddress"]
    assert set(s3_record["responseElements"]) == {"x-amz-request-id", "x-amz-id-2"}
    assert s3_record["s3"]["object"]["key"] == "a/my+photo+%C3%A9.jpg"  # moto encodes `/`, S3 does not
    assert len(s3_record["s3"]["object"]["sequencer"]) >= 16
    assert [(r.bucket, r.key) for r in object_refs(event)] == [("photo-uploads", "a/my photo é.jpg")]


def test_sequencers_grow_and_the_s3_test_event_is_never_delivered():
    first = complete_s3_event(json.loads(json.dumps(MOTO_S3_EVENT)))
    second = complete_s3_event(json.loads(json.dumps(MOTO_S3_EVENT)))
    assert first["Records"][0]["s3"]["object"]["sequencer"] < second["Records"][0]["s3"]["object"]["sequencer"]
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "photo-uploads"}
    assert complete_s3_event(dict(test_event)) is None
    assert sns_event(SNS_TO_SQS | {"Message": json.dumps(test_event)}, "arn") is None
    plain = sns_event(SNS_TO_SQS | {"Message": "hello", "Subject": "s"}, "arn")
    assert plain["Records"][0]["Sns"]["Message"] == "hello" and plain["Records"][0]["Sns"]["Subject"] == "s"


def test_the_scheduled_event_shape():
    event = scheduled_event(
        "arn:aws:events:us-east-1:1:rule/r", "1", "us-east-1", datetime(2026, 11, 20, 20, tzinfo=UTC)
    )
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["time"] == "2026-11-20T20:00:00Z" and event["resources"] == ["arn:aws:events:us-east-1:1:rule/r"]
    assert event["detail"] == {} and event["version"] == "0" and len(event["id"]) == 36


def test_the_daily_report_fires_at_20_utc_monday_to_saturday():
    (schedule,) = [s for s in load().schedules if s.function == load().function("sales-report").lambda_name]
    assert schedule.rule == "salesAnalysisReportDailySchedule" and schedule.function == "salesAnalysisReport"
    start = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)  # Friday 20:00
    saturday = schedule.next_after(start, start)
    monday = schedule.next_after(saturday, start)  # Sunday is skipped
    assert saturday == datetime(2026, 11, 21, 20, 0, tzinfo=UTC)
    assert monday == datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
    assert schedule.next_after(datetime(2026, 11, 23, 19, 59, 59, tzinfo=UTC), start) == monday


def test_rates_count_from_the_start_and_bad_expressions_are_refused():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    every5 = Schedule("r", "rate(5 minutes)", "f")
    assert every5.next_after(datetime(2026, 1, 1, 0, 7, tzinfo=UTC), start) == datetime(2026, 1, 1, 0, 10, tzinfo=UTC)
    assert Schedule("r", "rate(1 day)", "f").next_after(start, start) == datetime(2026, 1, 2, tzinfo=UTC)
    for bad in ("rate(1 minutes)", "rate(5 minute)", "every day", "cron(0 20 * * MON-SAT *)"):
        with pytest.raises((ScheduleError, ValueError)):
            Schedule("r", bad, "f").next_after(start, start)
