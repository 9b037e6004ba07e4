"""S3 event notifications: the objects a `Records[]` event names, keys URL-decoded.

An event comes straight from S3, or (fan-out: one upload, several functions) as SNS records whose
message is the S3 event; both give the same objects.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event, SNSEvent
from botocore.exceptions import ClientError

from shared.errors import InvalidEventError


@dataclass(frozen=True)
class S3ObjectRef:
    bucket: str
    key: str


MISSING_REASON = "object no longer exists (deleted before processing)"


def is_missing(exc: ClientError) -> bool:
    """Whether an S3 call failed because the object is gone (GetObject says NoSuchKey, HeadObject 404)."""
    return exc.response.get("Error", {}).get("Code", "") in ("404", "NoSuchKey", "NotFound")


def _s3_records(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The S3 records of an S3 event, or of the S3 events inside an SNS event (test events dropped)."""
    if not all(isinstance(record, Mapping) for record in event["Records"]):
        raise InvalidEventError("every entry of Records must be an object")
    if not any(record.get("EventSource") == "aws:sns" for record in event["Records"]):
        return list(event["Records"])
    records: list[dict[str, Any]] = []
    for index, record in enumerate(SNSEvent(dict(event)).records):
        try:
            message = json.loads(record.sns.message)
        except (KeyError, TypeError, json.JSONDecodeError):
            raise InvalidEventError(f"Records[{index}].Sns.Message is not an S3 event notification") from None
        if isinstance(message, Mapping) and message.get("Event") == "s3:TestEvent":
            continue
        if not isinstance(message, Mapping) or not isinstance(message.get("Records"), list):
            raise InvalidEventError(f"Records[{index}].Sns.Message is not an S3 event notification")
        records.extend(message["Records"])
    return records


def object_refs(event: Any) -> list[S3ObjectRef]:
    """Every record's bucket and decoded key (S3 sends keys URL-encoded, spaces as `+`)."""
    if not isinstance(event, Mapping) or not isinstance(event.get("Records"), list) or not event["Records"]:
        raise InvalidEventError("event must be an S3 notification with a non-empty Records list")
    refs = []
    for index, record in enumerate(S3Event({"Records": _s3_records(event)}).records):
        try:
            bucket, raw_key = record.s3.bucket.name, record.s3.get_object.key
        except (KeyError, TypeError, AttributeError):
            raise InvalidEventError(f"Records[{index}] has no s3.bucket.name / s3.object.key") from None
        if not isinstance(bucket, str) or not isinstance(raw_key, str) or not bucket or not raw_key:
            raise InvalidEventError(f"Records[{index}] has an empty bucket name or object key")
        refs.append(S3ObjectRef(bucket, unquote_plus(raw_key)))
    return refs
