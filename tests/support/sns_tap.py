"""What a topic published, read the AWS way: an SQS queue subscribed to the topic for the test."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from stack import moto


class TopicTap:
    """An SQS queue subscribed to `topic_arn`; `messages()` returns what arrived since the last call."""

    def __init__(self, topic_arn: str) -> None:
        self.topic_arn = topic_arn
        self.sqs = moto.client("sqs")
        self.sns = moto.client("sns")
        self.url = self.sqs.create_queue(QueueName=f"tap-{uuid.uuid4().hex[:12]}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.subscription = self.sns.subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True
        )["SubscriptionArn"]

    def messages(self, wait: float = 2.0, expect: int | None = None) -> list[dict[str, Any]]:
        """The notifications (message_id, subject, message, attributes) delivered within `wait` seconds, or
        as soon as `expect` of them arrived."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and (expect is None or len(found) < expect):
            answer = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in answer.get("Messages", []):
                envelope = json.loads(message["Body"])
                found.append(
                    {
                        "message_id": envelope["MessageId"],
                        "subject": envelope.get("Subject"),
                        "message": envelope["Message"],
                        "attributes": envelope.get("MessageAttributes", {}),
                    }
                )
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return found

    def close(self) -> None:
        self.sns.unsubscribe(SubscriptionArn=self.subscription)
        self.sqs.delete_queue(QueueUrl=self.url)


@contextmanager
def tap(topic_arn: str) -> Iterator[TopicTap]:
    subscription = TopicTap(topic_arn)
    try:
        yield subscription
    finally:
        subscription.close()
