"""The events AWS services hand to Lambda, built from what the local stack (moto) produces.

Pure functions: given moto's message, the event a function in the account would receive.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from lambda_local.timestamps import iso_ms

LOCAL_PRINCIPAL = "AWS:AIDALOCALSTACKUSER"


def _sequencer() -> str:
    """S3's `sequencer`: a hex string that orders events for the same key (later sorts higher)."""
    return f"{time.time_ns():016X}"


class MalformedEvent(ValueError):
    """A trigger's message that is not the event its source sends; the message names what is wrong."""


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedEvent(f"{where} must be a JSON object, got {type(value).__name__}")
    return value


def complete_s3_event(event: dict[str, Any]) -> dict[str, Any] | None:
    """moto's S3 notification with the fields AWS documents and moto leaves out, keys encoded as S3
    encodes them (form-encoded, `/` kept); None for `s3:TestEvent`, which Lambda never sees.
    MalformedEvent for what S3 would never send."""
    _object(event, "the S3 notification")
    if event.get("Event") == "s3:TestEvent":
        return None
    records = event.get("Records", [])
    if not isinstance(records, list):
        raise MalformedEvent("the S3 notification's Records must be a list")
    for index, record in enumerate(records):
        _object(record, f"Records[{index}]")
        for part in ("s3", "userIdentity", "requestParameters", "responseElements"):
            if part in record:
                _object(record[part], f"Records[{index}].{part}")
        for part in ("bucket", "object"):
            if part in record.get("s3", {}):
                _object(record["s3"][part], f"Records[{index}].s3.{part}")
        record.setdefault("userIdentity", {"principalId": LOCAL_PRINCIPAL})
        record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
        record.setdefault(
            "responseElements",
            {
                "x-amz-request-id": secrets.token_hex(8).upper(),
                "x-amz-id-2": base64.b64encode(secrets.token_bytes(48)).decode(),
            },
        )
        s3 = record.setdefault("s3", {})
        s3.setdefault("s3SchemaVersion", "1.0")
        bucket = s3.setdefault("bucket", {})
        bucket.setdefault("ownerIdentity", {"principalId": LOCAL_PRINCIPAL.removeprefix("AWS:")})
        obj = s3.setdefault("object", {})
        if "key" in obj and not isinstance(obj["key"], str):
            raise MalformedEvent(f"Records[{index}].s3.object.key must be a string, got {type(obj['key']).__name__}")
        if "key" in obj:
            obj["key"] = quote_plus(unquote_plus(obj["key"]), safe="/")
        obj.setdefault("sequencer", _sequencer())
    return event


def sns_record(notification: dict[str, Any], subscription_arn: str) -> dict[str, Any]:
    """One `Records[]` entry of the event SNS invokes Lambda with, from the JSON SNS delivers to SQS."""
    attributes = {
        name: {"Type": value.get("Type", "String"), "Value": value.get("Value", "")}
        for name, value in _object(notification.get("MessageAttributes") or {}, "MessageAttributes").items()
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
    _object(notification, "the SNS notification")
    message = notification.get("Message", "")
    try:
        inner = json.loads(message)
    except (TypeError, ValueError, RecursionError):  # a message that is no (readable) JSON is passed on as it is
        inner = None
    if isinstance(inner, dict) and (inner.get("Event") == "s3:TestEvent" or _is_s3_event(inner)):
        completed = complete_s3_event(inner)
        if completed is None:
            return None
        notification = notification | {"Message": json.dumps(completed)}
    return {"Records": [sns_record(notification, subscription_arn)]}


def _is_s3_event(event: dict[str, Any]) -> bool:
    records = event.get("Records")
    return isinstance(records, list) and any(isinstance(r, dict) and r.get("eventSource") == "aws:s3" for r in records)


def scheduled_event(rule_arn: str, account: str, region: str, at: datetime) -> dict[str, Any]:
    """EventBridge's "Scheduled Event" for a rule firing at `at`."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def _json_safe(value: Any) -> Any:
    """A DynamoDB attribute value as JSON: binary (`B`, `BS`) base64-encoded, as the stream event has it."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def dynamodb_record(raw: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """One `Records[]` entry of a DynamoDB stream event, from a `GetRecords` record (boto3's form)."""
    change = dict(raw["dynamodb"])
    change["ApproximateCreationDateTime"] = int(_epoch(change["ApproximateCreationDateTime"]))
    return {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": raw.get("awsRegion", region),
        "dynamodb": _json_safe(change),
        "eventSourceARN": stream_arn,
    }


def kinesis_record(raw: dict[str, Any], shard_id: str, stream_arn: str, region: str, role_arn: str) -> dict[str, Any]:
    """One `Records[]` entry of a Kinesis event, from a `GetRecords` record (boto3's form: `Data` as bytes)."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": raw["PartitionKey"],
            "sequenceNumber": raw["SequenceNumber"],
            "data": base64.b64encode(raw["Data"]).decode(),
            "approximateArrivalTimestamp": round(_epoch(raw["ApproximateArrivalTimestamp"]), 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{raw['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role_arn,
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


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
