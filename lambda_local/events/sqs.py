"""An SQS message as the record of an SQS mapping's batch."""

from __future__ import annotations

import base64
from typing import Any


def _sqs_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A message attribute as Lambda hands it over (camel-case keys, list fields always present)."""
    binary = value.get("BinaryValue")
    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [base64.b64encode(v).decode() for v in value.get("BinaryListValues", [])],
        "dataType": value.get("DataType", "String"),
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if binary is not None:
        attribute["binaryValue"] = base64.b64encode(binary).decode() if isinstance(binary, bytes) else binary
    return attribute


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of Lambda's SQS event, from a ReceiveMessage entry (asked with every attribute)."""
    attributes = {k: str(v) for k, v in message.get("Attributes", {}).items()}
    message_attributes = {k: _sqs_attribute(v) for k, v in message.get("MessageAttributes", {}).items()}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfMessageAttributes": message.get("MD5OfMessageAttributes"),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
