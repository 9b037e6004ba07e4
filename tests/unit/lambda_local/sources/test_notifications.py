"""One bad message costs that message, never the trigger: a malformed SNS publish or a `[]` sent to a
trigger's queue goes to the on-failure destination with the reason and is deleted, and the next good
message is delivered (SQS on moto's in-process mock)."""

import asyncio
import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambda_local.events.malformed import MalformedEvent
from lambda_local.events.s3 import complete_s3_event
from lambda_local.events.sns import sns_event
from lambda_local.providers import load
from lambda_local.sources.notifications import QueuePoller

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

            def submit(function: str, payload: bytes, source: str, done: Any, trace: str | None = None) -> str:
                assert trace is not None and ";Parent=" in trace  # the notification's span is its parent
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


def test_a_backlog_waits_in_the_queue_not_in_memory_and_stays_invisible_while_it_waits() -> None:
    async def scenario() -> None:
        with mock_aws():
            sqs = boto3.client("sqs", region_name="us-east-1")
            url = sqs.create_queue(QueueName=TRIGGER.queue_name, Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
            submitted: list[str] = []
            dones: list[Any] = []

            def submit(function: str, payload: bytes, source: str, done: Any, trace: str | None = None) -> str:
                submitted.append(json.loads(payload)["Records"][0]["Sns"]["Message"])
                dones.append(done)
                return "request-id"

            poller = QueuePoller(TRIGGER, sqs, url, "arn:sub", submit, None, "arn:f", visibility_s=2, max_pending=5)
            for i in range(20):
                sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"Message": f"m{i}"}))
            poller.start()
            try:
                await asyncio.sleep(4)  # twice the visibility timeout, the function busy all along
                assert len(submitted) == 5 and poller.most_pending == 5  # the other 15 stay in the queue
                assert len(set(submitted)) == 5  # none received again: their visibility was extended
                deadline = asyncio.get_running_loop().time() + 20
                while len(set(submitted)) < 20 and asyncio.get_running_loop().time() < deadline:
                    for done in list(dones):
                        dones.remove(done)
                        await done("ok")
                    await asyncio.sleep(0.1)
            finally:
                poller.stop()
            assert sorted(submitted) == sorted(f"m{i}" for i in range(20))  # each once
            assert poller.most_pending == 5
            left = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            assert left["Attributes"]["ApproximateNumberOfMessages"] == "0"

    asyncio.run(scenario())
