"""The samples in events/shapes/ (the event shapes no function of this project receives: an SQS batch,
a function URL request, an on-success destination record) are what the plane's builders produce, so
they cannot drift from what a function would get locally."""

import json
from pathlib import Path
from typing import Any

from lambda_local.environments.instance import InvokeResult
from lambda_local.events.api_gateway import HttpRequest
from lambda_local.events.destinations import async_success_record
from lambda_local.events.function_url import url_event
from lambda_local.events.sqs import sqs_record

SHAPES = Path(__file__).resolve().parents[4] / "events" / "shapes"
VARYING = {"requestId", "time", "timeEpoch", "timestamp"}  # per request or per moment


def sample(name: str) -> Any:
    return json.loads((SHAPES / name).read_text())


def without(value: Any, keys: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [without(v, keys) for v in value]
    return value


def test_every_sample_is_checked_here():
    assert sorted(p.name for p in SHAPES.glob("*.json")) == [
        "function-url-get.json",
        "on-success-record.json",
        "sqs-batch.json",
    ]


def test_the_sqs_batch_is_what_the_mapping_builds_from_received_messages():
    for record in sample("sqs-batch.json")["Records"]:
        received: dict[str, Any] = {
            "MessageId": record["messageId"],
            "ReceiptHandle": record["receiptHandle"],
            "Body": record["body"],
            "Attributes": record["attributes"],
            "MessageAttributes": {
                name: {"DataType": a["dataType"], "StringValue": a["stringValue"]}
                for name, a in record["messageAttributes"].items()
            },
            "MD5OfBody": record["md5OfBody"],
        }
        if record["md5OfMessageAttributes"] is not None:
            received["MD5OfMessageAttributes"] = record["md5OfMessageAttributes"]
        assert sqs_record(received, record["eventSourceARN"], record["awsRegion"]) == record


def test_the_function_url_request_is_what_a_get_to_the_url_builds():
    event = sample("function-url-get.json")
    http = event["requestContext"]["http"]
    request = HttpRequest(
        method=http["method"],
        path=event["rawPath"],
        raw_path=event["rawPath"],
        raw_query=event["rawQueryString"],
        headers=[(k, v) for k, v in event["headers"].items() if not k.startswith("x-forwarded-")],
        body=b"",
        source_ip=http["sourceIp"],
        port=3002,
    )
    built = url_event("probeUrlOpen", "us-east-1", request, None)  # AuthType NONE: no identity
    assert without(built, VARYING) == without(event, VARYING)
    assert set(built["requestContext"]) == set(event["requestContext"])


def test_the_on_success_record_is_what_a_successful_event_invoke_sends():
    record = sample("on-success-record.json")
    context = record["requestContext"]
    result = InvokeResult(json.dumps(record["responsePayload"]).encode(), "", "", "", 1.0)
    built = async_success_record(
        context["functionArn"].removesuffix(":$LATEST"),
        context["requestId"],
        json.dumps(record["requestPayload"]).encode(),
        context["approximateInvokeCount"],
        result,
    )
    assert without(built, {"timestamp"}) == without(record, {"timestamp"})
