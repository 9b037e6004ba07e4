"""imageLabels: S3 ObjectCreated -> Rekognition DetectLabels -> `labels/<key>.json` in the results bucket.

A permanent failure of one object (missing, not JPEG/PNG, rejected by Rekognition, key too long) is
reported with its key and reason and the other records go on; a transient one (throttling, 5xx,
timeout, unreachable endpoint) fails the invocation so Lambda retries the event.
"""

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from labels import label_document, unsupported_reason
from shared.clients import client
from shared.config import env
from shared.failures import error_code, is_transient
from shared.log import get_logger
from shared.metrics import MetricUnit, get_metrics
from shared.s3_events import (
    ObjectFailed,
    S3ObjectRef,
    derived_key_problem,
    for_each_object,
    object_refs,
    reading,
    writing_to,
)
from shared.tracing import get_tracer

logger = get_logger()
metrics = get_metrics()
tracer = get_tracer()


def labels_key(key: str) -> str:
    return f"labels/{key}.json"


def detect(ref: S3ObjectRef, results_bucket: str) -> dict[str, Any] | str:
    """The labels document written for `ref`, or the reason it was skipped."""
    with reading(ref):
        head = client("s3").head_object(Bucket=ref.bucket, Key=ref.key)
    reason = unsupported_reason(ref.key, head.get("ContentType", ""))
    if reason:
        return reason
    try:
        response = client("rekognition").detect_labels(
            Image={"S3Object": {"Bucket": ref.bucket, "Name": ref.key}},
            MaxLabels=int(env("LABELS_MAX_LABELS", "10")),
            MinConfidence=float(env("LABELS_MIN_CONFIDENCE", "70")),
        )
    except ClientError as exc:  # InvalidImageFormat, ImageTooLarge, InvalidS3Object...: this image, not the call
        if is_transient(exc):
            raise
        raise ObjectFailed(
            f"Rekognition: {error_code(exc)}: {exc.response.get('Error', {}).get('Message', '')}"
        ) from None
    document = label_document(ref.bucket, ref.key, response)
    with writing_to(results_bucket, "LABELS_RESULTS_BUCKET"):
        client("s3").put_object(
            Bucket=results_bucket,
            Key=labels_key(ref.key),
            Body=json.dumps(document, indent=2, ensure_ascii=False).encode(),
            ContentType="application/json",
        )
    return document


def refusal(ref: S3ObjectRef, results_bucket: str) -> tuple[str, str] | None:
    """("skipped" | "failed", reason) for a record that must not be processed, else None."""
    if ref.key.startswith("labels/") and ref.bucket == results_bucket:
        return "skipped", "key is a labels document"
    problem = derived_key_problem(ref.key, labels_key(ref.key))
    return ("failed", problem) if problem else None


def labelled(ref: S3ObjectRef, results_bucket: str) -> dict[str, Any] | str:
    """The record's entry in the response, or the reason it was skipped."""
    outcome = detect(ref, results_bucket)
    if isinstance(outcome, str):
        return outcome
    return {"labels_key": labels_key(ref.key), "labels": outcome["labels"]}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refs = object_refs(event)
    results_bucket = env("LABELS_RESULTS_BUCKET")
    outcomes = for_each_object(
        refs,
        work=lambda ref: labelled(ref, results_bucket),
        refuse=lambda ref: refusal(ref, results_bucket),
        what="labels",
    )
    images, skipped, failed = outcomes.done, outcomes.skipped, outcomes.failed
    logger.info("labels done", extra={"images": len(images), "skipped": len(skipped), "failed": len(failed)})
    metrics.add_metric(name="ImagesLabelled", unit=MetricUnit.Count, value=len(images))
    metrics.add_metric(name="ObjectsFailed", unit=MetricUnit.Count, value=len(failed))
    return {"images": images, "skipped": skipped, "failed": failed}
