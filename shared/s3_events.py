"""S3 event notifications: the objects a `Records[]` event names, keys URL-decoded.

An event comes straight from S3, or (fan-out: one upload, several functions) as SNS records whose
message is the S3 event; both give the same objects.
"""

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event, SNSEvent
from botocore.exceptions import ClientError, ParamValidationError

from shared.clients import client
from shared.errors import ConfigError, InvalidEventError, preview
from shared.failures import error_code, is_transient
from shared.log import get_logger


@dataclass(frozen=True)
class S3ObjectRef:
    bucket: str
    key: str


MISSING_REASON = "object no longer exists (deleted before processing)"
S3_KEY_LIMIT = 1024  # bytes of UTF-8


class ObjectFailed(Exception):
    """A permanent failure of one object (retrying cannot help); the message is the reason."""


def bucket_exists(bucket: str) -> bool:
    """Whether `bucket` exists (HeadObject answers a bare 404 for a missing key and a missing bucket alike)."""
    try:
        client("s3").head_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            return False
        if is_transient(exc):
            raise
    return True


def read_failure(exc: Exception, ref: S3ObjectRef) -> ObjectFailed | None:
    """The permanent failure that `exc`, raised reading `ref`, stands for; None when a retry may help."""
    if isinstance(exc, ParamValidationError):
        return ObjectFailed(f"invalid bucket name or key: {preview(str(exc).splitlines()[-1], 160)}")
    if not isinstance(exc, ClientError) or is_transient(exc):
        return None
    code = error_code(exc)
    if code == "NoSuchBucket" or (code in ("404", "NotFound") and not bucket_exists(ref.bucket)):
        return ObjectFailed(f"bucket {ref.bucket} does not exist")
    if code in ("404", "NoSuchKey", "NotFound"):
        return ObjectFailed(MISSING_REASON)
    return ObjectFailed(f"cannot read object: {code} {exc.response.get('Error', {}).get('Message', '')}".rstrip())


@contextmanager
def reading(ref: S3ObjectRef) -> Iterator[None]:
    """Around S3 reads of `ref`: a permanent failure becomes ObjectFailed; a transient one propagates."""
    try:
        yield
    except (ClientError, ParamValidationError) as exc:
        failure = read_failure(exc, ref)
        if failure is None:
            raise
        raise failure from None


@contextmanager
def writing_to(bucket: str, setting: str) -> Iterator[None]:
    """Around writes of outputs: a missing output bucket is a ConfigError naming its setting."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) == "NoSuchBucket":
            raise ConfigError(f"{setting} {bucket} does not exist") from None
        raise


def derived_key_problem(key: str, derived: str) -> str | None:
    """Why `derived` (an output key made from source `key`) cannot be an S3 key, or None."""
    size = len(derived.encode())
    if size <= S3_KEY_LIMIT:
        return None
    return (
        f"key is {len(key.encode()):,} bytes: its output key would be {size:,} bytes, "
        f"over S3's {S3_KEY_LIMIT}-byte key limit"
    )


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


@dataclass
class ObjectOutcomes:
    """What became of each object of an event: its result, or why it was skipped or failed."""

    done: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)


def for_each_object(
    refs: list[S3ObjectRef],
    work: Callable[[S3ObjectRef], dict[str, Any] | str],
    refuse: Callable[[S3ObjectRef], tuple[str, str] | None],
    what: str,
    undo: Callable[[S3ObjectRef], None] | None = None,
) -> ObjectOutcomes:
    """The per-record loop of an S3-triggered function, as Lambda expects failures to be reported.

    `refuse` gives ("skipped" | "failed", reason) for a record not to touch. `work` returns the
    record's result, or a string: the reason it was skipped. ObjectFailed fails that record only,
    with its reason, and the others go on; any other exception is transient (throttling, 5xx,
    timeout) or unforeseen: logged with its stack trace and raised, so Lambda retries the event.
    Either way `undo` first removes what the record had written, so nothing partial stays.
    """
    logger = get_logger()
    outcomes = ObjectOutcomes()
    for ref in refs:
        source = {"bucket": ref.bucket, "key": ref.key}
        refused = refuse(ref)
        if refused:
            (outcomes.skipped if refused[0] == "skipped" else outcomes.failed).append(source | {"reason": refused[1]})
            continue
        try:
            result = work(ref)
        except ObjectFailed as exc:
            logger.warning(f"{what} failed", extra=source | {"reason": str(exc)})
            if undo:
                undo(ref)
            outcomes.failed.append(source | {"reason": str(exc)})
            continue
        except Exception:
            logger.exception(f"{what} attempt failed; failing the invocation for a retry", extra=source)
            if undo:
                undo(ref)
            raise
        if isinstance(result, str):
            outcomes.skipped.append(source | {"reason": result})
        else:
            outcomes.done.append(source | result)
    return outcomes
