"""One bad message costs that message, never the trigger: a malformed SNS publish or a `[]` sent to a
trigger's queue goes to the on-failure destination with the reason and is deleted, and the next good
message is delivered (SQS on moto's in-process mock)."""

import asyncio
import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambda_local.event_shapes import MalformedEvent, complete_s3_event, sns_event
from lambda_local.providers import load
from lambda_local.queue_sources import QueuePoller

RESIZE = load().function("imageResize")
(TRIGGER,) = [t for t in load().queue_triggers if t.function == RESIZE.lambda_name]
PHOTO = {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {"key": "a.jpg"}}}]}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"Records": [{"eventSource": "aws:s3", "s3": 1}]}, "Records[0].s3 must be a JSON object, got int"),
        ({"Records": [{"eventSource": "aws:s3", "s3": {"object": "k"}}]}, "Records[0].s3.object must be"),
    ],
)
def test_malformed_s3_events_inside_sns_are_named(body: Any, reason: str) -> None:
    with pytest.raises(MalformedEvent, match=reason.replace("[", r"\[").replace("]", r"\]")):
        sns_event({"Message": json.dumps(body)}, "arn:sub")
    with pytest.raises(MalformedEvent):
        complete_s3_event(body)


def test_an_s3_notification_whose_records_are_no_list_is_malformed_but_any_sns_message_is_a_message() -> None:
    with pytest.raises(MalformedEvent, match="Records must be a list"):
        complete_s3_event({"Records": "all"})
    assert sns_event({"Message": json.dumps({"Records": "all"})}, "arn:sub") is not None


def test_not_an_object_is_malformed() -> None:
    for bad in ([], 1, "x", None):
        with pytest.raises(MalformedEvent):
            sns_event(bad, "arn:sub")  # type: ignore[arg-type]


def test_a_malformed_message_goes_to_the_failure_path_and_the_next_good_one_is_delivered() -> None:
    async def scenario() -> None:
        with mock_aws():
            sqs = boto3.client("sqs", region_name="us-east-1")
            url = sqs.create_queue(QueueName=TRIGGER.queue_name)["QueueUrl"]
            submitted: list[tuple[str, dict[str, Any]]] = []
            failed: list[dict[str, Any]] = []

            def submit(function: str, payload: bytes, source: str, done: Any) -> str:
                submitted.append((function, json.loads(payload)))
                return "request-id"

            async def fail(record: dict[str, Any]) -> None:
                failed.append(record)

            poller = QueuePoller(TRIGGER, sqs, url, "arn:sub", submit, fail, "arn:aws:lambda:us-east-1:1:function:f")
            bad_publish = {
                "Type": "Notification",
                "Message": json.dumps({"Records": [{"eventSource": "aws:s3", "s3": 1}]}),
            }
            for body in (json.dumps(bad_publish), "[]", "not json", json.dumps({"Message": json.dumps(PHOTO)})):
                sqs.send_message(QueueUrl=url, MessageBody=body)
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
            for message in messages:
                await poller._handle(message)
            assert [record["requestContext"]["condition"] for record in failed] == ["MalformedEvent"] * 3
            reasons = [record["responseContext"]["reason"] for record in failed]
            assert "Records[0].s3 must be a JSON object" in reasons[0]
            assert "SNS notification must be a JSON object, got list" in reasons[1] and "not JSON" in reasons[2]
            assert failed[1]["requestPayload"] == [] and poller.malformed == 3
            ((function, event),) = submitted  # the good one, delivered
            assert function == RESIZE.lambda_name and event["Records"][0]["EventSource"] == "aws:sns"
            left = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
            assert left["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"  # bad ones deleted

    asyncio.run(scenario())
