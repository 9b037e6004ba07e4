"""What goes to an on-failure destination, in the shapes AWS documents, and sized for SQS: the
record of an asynchronous invocation that failed, of a stream batch that failed, and (locally) of a
trigger message that was no event at all."""

from __future__ import annotations

import json
import uuid
from typing import Any, Protocol

from lambda_local.events.timestamps import iso_ms

SQS_MESSAGE_LIMIT = 1024 * 1024  # bytes: SQS's largest message
KEPT_PAYLOAD = 64 * 1024  # characters of a too-large payload kept in its record


class InvokeResult(Protocol):
    """What a record needs of an invocation's result (environments.instance.InvokeResult has it)."""

    @property
    def payload(self) -> bytes: ...

    @property
    def function_error(self) -> str | None: ...


def async_failure_record(
    function_arn: str, request_id: str, payload: bytes, attempts: int, result: InvokeResult | None, condition: str
) -> dict[str, Any]:
    """The record Lambda sends to an asynchronous invocation's on-failure destination (its documented
    shape: the event, and the function's answer when there was one)."""
    try:
        request_payload: Any = json.loads(payload)
    except ValueError:
        request_payload = payload.decode(errors="replace")
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": iso_ms(),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": request_payload,
    }
    if result is not None:
        try:
            response_payload: Any = json.loads(result.payload)
        except ValueError:
            response_payload = result.payload.decode(errors="replace")
        record["responseContext"] = {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": result.function_error,
        }
        record["responsePayload"] = response_payload
    return record


def async_success_record(
    function_arn: str, request_id: str, payload: bytes, attempts: int, result: InvokeResult
) -> dict[str, Any]:
    """The record Lambda sends to an asynchronous invocation's on-success destination."""
    record = async_failure_record(function_arn, request_id, payload, attempts, result, "Success")
    record["responseContext"].pop("functionError", None)
    return record


def stream_failure_record(
    kind: str,
    function_arn: str,
    condition: str,
    attempts: int,
    shard_id: str,
    stream_arn: str,
    batch: list[tuple[str, float]],
    function_error: str | None,
) -> dict[str, Any]:
    """What a stream event source mapping sends to its on-failure destination: where the failed
    records are (shard and sequence range), not the records. `batch`: (sequence number, arrival)."""

    record: dict[str, Any] = {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "version": "1.0",
        "timestamp": iso_ms(),
        "DDBStreamBatchInfo" if kind == "dynamodb" else "KinesisBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": batch[0][0],
            "endSequenceNumber": batch[-1][0],
            "approximateArrivalOfFirstRecord": iso_ms(batch[0][1]),
            "approximateArrivalOfLastRecord": iso_ms(batch[-1][1]),
            "batchSize": len(batch),
            "streamArn": stream_arn,
        },
    }
    if function_error is not None:
        record["responseContext"] = {"statusCode": 200, "executedVersion": "$LATEST", "functionError": function_error}
    return record


def malformed_record(function_arn: str, body: str, reason: str) -> dict[str, Any]:
    """A trigger's message that is not the event its source sends (local: condition `MalformedEvent`,
    the reason in `responseContext.reason`, the message as it came in `requestPayload`)."""
    try:
        payload: Any = json.loads(body)
    except ValueError:
        payload = body
    return {
        "version": "1.0",
        "timestamp": iso_ms(),
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"{function_arn}:$LATEST",
            "condition": "MalformedEvent",
            "approximateInvokeCount": 0,
        },
        "responseContext": {"reason": reason[:1000]},
        "requestPayload": payload,
    }


def fit_to_queue(record: dict[str, Any]) -> dict[str, Any]:
    """`record`, with its request (then response) payload cut down when the whole would not fit in an SQS
    message (it re-serialises the event, so a 0.9 MB event would make a record over SQS's 1 MiB)."""
    for key in ("requestPayload", "responsePayload"):
        if len(json.dumps(record).encode()) <= SQS_MESSAGE_LIMIT:
            break
        if key in record:
            text = json.dumps(record[key])
            record = record | {key: {"truncated": True, "bytes": len(text.encode()), "start": text[:KEPT_PAYLOAD]}}
    return record
