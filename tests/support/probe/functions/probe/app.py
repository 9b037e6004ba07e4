"""Probe handlers for the local plane's tests and benches (tests/support/probe/template.yaml)."""

import base64
import json
import os
import time
from typing import Any

import boto3
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

_table = boto3.resource("dynamodb").Table(os.environ["SEEN_TABLE"])


def _payload(record: dict[str, Any]) -> dict[str, Any]:
    if "kinesis" in record:
        return json.loads(base64.b64decode(record["kinesis"]["data"]))
    image = record["dynamodb"].get("NewImage") or record["dynamodb"]["Keys"]
    return {"id": image["id"]["S"], "poison": image.get("poison", {}).get("BOOL", False)}


def _identifier(record: dict[str, Any]) -> str:
    return record["kinesis"]["sequenceNumber"] if "kinesis" in record else record["dynamodb"]["SequenceNumber"]


def _seen(record: dict[str, Any], payload: dict[str, Any]) -> None:
    """Append the record to its shard's order of arrival and count its processing."""
    # Per stream and shard: two streams both have a shardId-000000000000.
    stream = record["eventSourceARN"].rsplit("/", 1)[-1] if "kinesis" in record else "dynamodb"
    shard = f"{stream}/{record['eventID'].split(':')[0]}" if "kinesis" in record else "dynamodb"
    _table.update_item(
        Key={"id": f"order#{shard}"},
        UpdateExpression="SET ids = list_append(if_not_exists(ids, :empty), :id)",
        ExpressionAttributeValues={":empty": [], ":id": [str(payload["id"])]},
    )
    # Counted last: a record counted is also in its shard's order.
    _table.update_item(
        Key={"id": str(payload["id"])}, UpdateExpression="ADD times :one", ExpressionAttributeValues={":one": 1}
    )


def in_order(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """An in-order consumer: stops at the first record it cannot process and reports it and the rest."""
    records = event["Records"]
    for index, record in enumerate(records):
        payload = _payload(record)
        if payload.get("poison"):
            return {"batchItemFailures": [{"itemIdentifier": _identifier(r)} for r in records[index:]]}
        _seen(record, payload)
    return {"batchItemFailures": []}


def _each(record: Any) -> None:
    payload = _payload(record.raw_event)
    if payload.get("poison"):
        raise ValueError(f"poison record {payload['id']}")
    _seen(record.raw_event, payload)


def each_record(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Processes every record it can and reports the others (Powertools' batch processor)."""
    time.sleep(float(os.environ.get("BATCH_DELAY_S", "0")))
    kind = EventType.KinesisDataStreams if "kinesis" in event["Records"][0] else EventType.DynamoDBStreams
    return process_partial_response(event=event, record_handler=_each, processor=BatchProcessor(kind), context=context)


def noop(event: dict[str, Any], context: Any) -> None:
    return None


def echo(event: dict[str, Any], context: Any) -> Any:
    """The event back as JSON with the status the query asks for; a binary body back as binary;
    `?fail=1`: an unhandled error."""
    query = event.get("queryStringParameters") or {}
    if query.get("fail"):
        raise RuntimeError("the request asked the echo to fail")
    version = event.get("version", "1.0")
    if event.get("rawPath") == "/plain":
        return {"shorthand": True, "routeKey": event["routeKey"]}  # payload 2.0: a plain value is the body
    response: dict[str, Any] = {"statusCode": int(query.get("status", "200"))}
    if event.get("isBase64Encoded"):
        response |= {"body": event["body"], "isBase64Encoded": True, "headers": {"content-type": "image/png"}}
    else:
        response |= {"body": json.dumps(event), "headers": {"content-type": "application/json", "x-probe": "yes"}}
    if version == "2.0":
        response["cookies"] = ["session=abc123; Path=/; HttpOnly", "theme=dark"]
    else:
        response["multiValueHeaders"] = {"Set-Cookie": ["session=abc123; Path=/; HttpOnly", "theme=dark"]}
    return response


def count_event(event: dict[str, Any], context: Any) -> None:
    """Counts each S3 object key, or scheduled event time, it is given: what at-least-once delivery ran."""
    time.sleep(float(os.environ.get("EVENT_DELAY_S", "0")))
    if event.get("source") == "aws.events":
        ids = [f"schedule#{event['time']}"]
    else:
        ids = [f"s3#{record['s3']['object']['key']}" for record in event["Records"]]
    for identifier in ids:
        _table.update_item(
            Key={"id": identifier}, UpdateExpression="ADD times :one", ExpressionAttributeValues={":one": 1}
        )
