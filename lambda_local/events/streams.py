"""Kinesis and DynamoDB stream records as Lambda hands them over."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any


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
