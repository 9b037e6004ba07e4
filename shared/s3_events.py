"""S3 event notifications: the objects a `Records[]` event names, keys URL-decoded."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event
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


def object_refs(event: Any) -> list[S3ObjectRef]:
    """Every record's bucket and decoded key (S3 sends keys URL-encoded, spaces as `+`)."""
    if not isinstance(event, Mapping) or not isinstance(event.get("Records"), list) or not event["Records"]:
        raise InvalidEventError("event must be an S3 notification with a non-empty Records list")
    refs = []
    for index, record in enumerate(S3Event(dict(event)).records):
        try:
            bucket, raw_key = record.s3.bucket.name, record.s3.get_object.key
        except (KeyError, TypeError, AttributeError):
            raise InvalidEventError(f"Records[{index}] has no s3.bucket.name / s3.object.key") from None
        if not isinstance(bucket, str) or not isinstance(raw_key, str) or not bucket or not raw_key:
            raise InvalidEventError(f"Records[{index}] has an empty bucket name or object key")
        refs.append(S3ObjectRef(bucket, unquote_plus(raw_key)))
    return refs
