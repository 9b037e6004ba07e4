"""Probe handlers for SQS mappings and event filtering (tests/support/probe/mappings.yaml): each counts
what it was given in the seen table, by the id the test put in the record."""

import base64
import json
import os
import time
from typing import Any

import boto3

_table = boto3.resource("dynamodb").Table(os.environ["SEEN_TABLE"])


def _count(identifier: str) -> None:
    _table.update_item(Key={"id": identifier}, UpdateExpression="ADD times :one", ExpressionAttributeValues={":one": 1})


def _identifier(record: dict[str, Any]) -> str:
    if "body" in record:
        body = record["body"]
        try:
            return str(json.loads(body)["id"])
        except (ValueError, KeyError, TypeError):
            return body
    if "kinesis" in record:
        return str(json.loads(base64.b64decode(record["kinesis"]["data"]))["id"])
    return str(record["dynamodb"]["Keys"]["id"]["S"])


def partial(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Counts each message; reports those whose body says poison as failed (ReportBatchItemFailures)."""
    failures = []
    for record in event["Records"]:
        _count(_identifier(record))
        if "poison" in record["body"]:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def whole(event: dict[str, Any], context: Any) -> None:
    """Counts each message, then fails the whole batch when one says poison."""
    for record in event["Records"]:
        _count(_identifier(record))
    if any("poison" in record["body"] for record in event["Records"]):
        raise ValueError("a poison message in the batch")


def count_records(event: dict[str, Any], context: Any) -> None:
    for record in event["Records"]:
        _count(_identifier(record))


def first_seen(event: dict[str, Any], context: Any) -> None:
    """The bench's consumer: a no-op, but for a message whose body carries `sent` (a latency probe): when
    its handler started is written beside it."""
    started = time.time()
    for record in event["Records"]:
        if '"sent"' in record["body"]:
            body = json.loads(record["body"])
            _table.put_item(Item={"id": str(body["id"]), "sent": str(body["sent"]), "started": str(started)})


def answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"answered": event}


def log_lines(event: dict[str, Any], context: Any) -> str:
    """One logging line per level; the function's LoggingConfig decides which are written, and how."""
    import logging

    logger = logging.getLogger()
    logger.debug("a debug line")
    logger.info("an info line")
    logger.warning("a warning line")
    return "logged"


def loop(event: dict[str, Any], context: Any) -> None:
    """Counts each message and sends it back to its queue (the SDK carries this invocation's trace)."""
    sqs = boto3.client("sqs")
    for record in event["Records"]:
        _count(_identifier(record))
        name = record["eventSourceARN"].rsplit(":", 1)[-1]
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"], MessageBody=record["body"])


def invoke_self(event: dict[str, Any], context: Any) -> None:
    """Counts the event and invokes this function again with it, asynchronously (the SDK carries this
    invocation's trace header to the Invoke API)."""
    _count(str(event["id"]))
    boto3.client("lambda").invoke(FunctionName=context.function_name, InvocationType="Event", Payload=json.dumps(event))
