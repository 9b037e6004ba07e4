"""imageLabels: S3 ObjectCreated -> Rekognition DetectLabels -> `labels/<key>.json` in the results bucket."""

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from labels import label_document, unsupported_reason
from shared.clients import client
from shared.config import env
from shared.log import get_logger
from shared.s3_events import MISSING_REASON, S3ObjectRef, is_missing, object_refs

logger = get_logger()


def labels_key(key: str) -> str:
    return f"labels/{key}.json"


def detect(ref: S3ObjectRef, results_bucket: str) -> dict[str, Any] | str:
    """The labels document written for `ref`, or the reason it was skipped."""
    head = client("s3").head_object(Bucket=ref.bucket, Key=ref.key)
    reason = unsupported_reason(ref.key, head.get("ContentType", ""))
    if reason:
        return reason
    response = client("rekognition").detect_labels(
        Image={"S3Object": {"Bucket": ref.bucket, "Name": ref.key}},
        MaxLabels=int(env("LABELS_MAX_LABELS", "10")),
        MinConfidence=float(env("LABELS_MIN_CONFIDENCE", "70")),
    )
    document = label_document(ref.bucket, ref.key, response)
    client("s3").put_object(
        Bucket=results_bucket,
        Key=labels_key(ref.key),
        Body=json.dumps(document, indent=2, ensure_ascii=False).encode(),
        ContentType="application/json",
    )
    return document


def _error_reason(exc: ClientError) -> str:
    if is_missing(exc):
        return MISSING_REASON
    error = exc.response.get("Error", {})
    return f"{error.get('Code', 'Error')}: {error.get('Message', str(exc))}"


@logger.inject_lambda_context(log_event=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refs = object_refs(event)
    results_bucket = env("LABELS_RESULTS_BUCKET")
    images, skipped, failed = [], [], []
    for ref in refs:
        source = {"bucket": ref.bucket, "key": ref.key}
        if ref.key.startswith("labels/") and ref.bucket == results_bucket:
            skipped.append(source | {"reason": "key is a labels document"})
            continue
        try:
            outcome = detect(ref, results_bucket)
        except ClientError as exc:
            reason = _error_reason(exc)
            logger.error("labels failed", extra=source | {"reason": reason})
            failed.append(source | {"reason": reason})
            continue
        if isinstance(outcome, str):
            skipped.append(source | {"reason": outcome})
        else:
            images.append(source | {"labels_key": labels_key(ref.key), "labels": outcome["labels"]})
    logger.info("labels done", extra={"images": len(images), "skipped": len(skipped), "failed": len(failed)})
    return {"images": images, "skipped": skipped, "failed": failed}
