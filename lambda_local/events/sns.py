"""SNS's event to Lambda (a notification delivered through its trigger queue)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from lambda_local.events.malformed import json_object
from lambda_local.events.s3 import complete_s3_event, is_s3_event
from lambda_local.events.timestamps import iso_ms


def sns_record(notification: dict[str, Any], subscription_arn: str) -> dict[str, Any]:
    """One `Records[]` entry of the event SNS invokes Lambda with, from the JSON SNS delivers to SQS."""
    attributes = {
        name: {"Type": value.get("Type", "String"), "Value": value.get("Value", "")}
        for name, value in json_object(notification.get("MessageAttributes") or {}, "MessageAttributes").items()
        if isinstance(value, dict)
    }
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": notification.get("Type", "Notification"),
            "MessageId": notification.get("MessageId", str(uuid.uuid4())),
            "TopicArn": notification.get("TopicArn", ""),
            "Subject": notification.get("Subject"),
            "Message": notification.get("Message", ""),
            "Timestamp": notification.get("Timestamp", iso_ms()),
            "SignatureVersion": notification.get("SignatureVersion", "1"),
            "Signature": notification.get("Signature", "EXAMPLE"),
            "SigningCertUrl": notification.get("SigningCertURL", ""),
            "UnsubscribeUrl": notification.get("UnsubscribeURL", ""),
            "MessageAttributes": attributes,
        },
    }


def sns_event(notification: dict[str, Any], subscription_arn: str) -> dict[str, Any] | None:
    """The Lambda event for one SNS notification; S3 notifications inside are completed, and an S3
    test event (sent when a bucket's notifications are set) is dropped, as it never reaches a function
    in the account through S3's own Lambda path either."""
    json_object(notification, "the SNS notification")
    message = notification.get("Message", "")
    try:
        inner = json.loads(message)
    except (TypeError, ValueError, RecursionError):  # a message that is no (readable) JSON is passed on as it is
        inner = None
    if isinstance(inner, dict) and (inner.get("Event") == "s3:TestEvent" or is_s3_event(inner)):
        completed = complete_s3_event(inner)
        if completed is None:
            return None
        notification = notification | {"Message": json.dumps(completed)}
    return {"Records": [sns_record(notification, subscription_arn)]}
