"""The events AWS services hand to Lambda, built from what the local stack (moto) produces.

Pure functions: given moto's message, the event a function in the account would receive.
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from lambda_local.events.malformed import MalformedEvent, json_object

LOCAL_PRINCIPAL = "AWS:AIDALOCALSTACKUSER"


def _sequencer() -> str:
    """S3's `sequencer`: a hex string that orders events for the same key (later sorts higher)."""
    return f"{time.time_ns():016X}"


def complete_s3_event(event: dict[str, Any]) -> dict[str, Any] | None:
    """moto's S3 notification with the fields AWS documents and moto leaves out, keys encoded as S3
    encodes them (form-encoded, `/` kept); None for `s3:TestEvent`, which Lambda never sees.
    MalformedEvent for what S3 would never send."""
    json_object(event, "the S3 notification")
    if event.get("Event") == "s3:TestEvent":
        return None
    records = event.get("Records", [])
    if not isinstance(records, list):
        raise MalformedEvent("the S3 notification's Records must be a list")
    for index, record in enumerate(records):
        json_object(record, f"Records[{index}]")
        for part in ("s3", "userIdentity", "requestParameters", "responseElements"):
            if part in record:
                json_object(record[part], f"Records[{index}].{part}")
        for part in ("bucket", "object"):
            if part in record.get("s3", {}):
                json_object(record["s3"][part], f"Records[{index}].s3.{part}")
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


def is_s3_event(event: dict[str, Any]) -> bool:
    records = event.get("Records")
    return isinstance(records, list) and any(isinstance(r, dict) and r.get("eventSource") == "aws:s3" for r in records)
