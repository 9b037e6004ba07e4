"""imageResize: S3 ObjectCreated -> web/tablet/mobile renditions in the destination bucket.

A permanent failure of one object (missing, not an image, too large, key too long) is reported
with its key and reason, leaves no rendition of it behind, and the other records go on. A transient
one (throttling, 5xx, timeout, unreachable endpoint) removes that object's renditions and fails the
invocation, so Lambda retries the event and then hands it to the on-failure destination.
"""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from renditions import ImageRejected, Rendition, Settings, make_renditions, parse_renditions
from shared.clients import client
from shared.config import env
from shared.errors import ConfigError
from shared.failures import error_code
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


@cache
def settings() -> Settings:
    try:
        specs = parse_renditions(env("RENDITIONS", "web=1280,tablet=1024,mobile=640"))
        max_pixels = int(env("MAX_IMAGE_PIXELS", "50000000"))
        quality = int(env("JPEG_QUALITY", "85"))
    except ValueError as exc:
        raise ConfigError(f"image-resize settings: {exc}") from None
    alpha_format = env("ALPHA_OUTPUT_FORMAT", "PNG").upper()
    if alpha_format not in ("PNG", "WEBP"):
        raise ConfigError(f"ALPHA_OUTPUT_FORMAT must be PNG or WEBP, got {alpha_format!r}")
    return Settings(specs, max_pixels, alpha_format, quality)


def rendition_key(name: str, key: str) -> str:
    return f"{name}/{key}"


def fetch(ref: S3ObjectRef, max_bytes: int) -> tuple[bytes, str]:
    """The object's bytes and ETag, refusing objects over `max_bytes` before downloading them."""
    s3 = client("s3")
    with reading(ref):
        head = s3.head_object(Bucket=ref.bucket, Key=ref.key)
        if head["ContentLength"] > max_bytes:
            raise ObjectFailed(f"object is {head['ContentLength']:,} bytes, over the limit of {max_bytes:,}")
        try:
            body = s3.get_object(Bucket=ref.bucket, Key=ref.key, IfMatch=head["ETag"])
        except ClientError as exc:
            if error_code(exc) in ("412", "PreconditionFailed"):
                raise ObjectFailed("object changed while being read; its newer version has its own event") from None
            raise
        return body["Body"].read(), head["ETag"].strip('"')


def store(destination: str, key: str, renditions: list[Rendition], etag: str) -> list[dict[str, Any]]:
    s3 = client("s3")
    stored = []
    for rendition in renditions:
        target = rendition_key(rendition.name, key)
        with writing_to(destination, "IMAGE_DESTINATION_BUCKET"):
            s3.put_object(
                Bucket=destination,
                Key=target,
                Body=rendition.data,
                ContentType=rendition.content_type,
                CacheControl=env("RENDITION_CACHE_CONTROL", "public, max-age=86400"),
                Metadata={"rendition": rendition.name, "source-etag": etag},
            )
        stored.append(
            {
                "name": rendition.name,
                "key": target,
                "width": rendition.width,
                "height": rendition.height,
                "bytes": len(rendition.data),
                "content_type": rendition.content_type,
            }
        )
    return stored


def remove_renditions(destination: str, key: str) -> None:
    """Delete every rendition of `key` (what a failed attempt may have written); a failure is logged, not raised,
    so it never hides the error that caused the clean-up."""
    objects = [{"Key": rendition_key(spec.name, key)} for spec in settings().renditions]
    try:
        client("s3").delete_objects(Bucket=destination, Delete={"Objects": objects, "Quiet": True})
    except Exception:
        logger.exception("could not remove the renditions of a failed object", extra={"key": key})


def refusal(ref: S3ObjectRef, destination: str, prefixes: tuple[str, ...]) -> tuple[str, str] | None:
    """("skipped" | "failed", reason) for a record that must not be processed, else None."""
    if ref.bucket == destination:
        return "failed", f"refusing to write renditions into the source bucket {destination}"
    if ref.key.startswith(prefixes):
        return "skipped", "key is under a rendition prefix (already a rendition)"
    longest = max(prefixes, key=lambda prefix: len(prefix.encode()))
    problem = derived_key_problem(ref.key, longest + ref.key)
    return ("failed", problem) if problem else None


def process(ref: S3ObjectRef, destination: str) -> list[dict[str, Any]]:
    data, etag = fetch(ref, int(env("MAX_OBJECT_BYTES", str(50 * 1024 * 1024))))
    try:
        renditions = make_renditions(data, settings())
    except ImageRejected as exc:
        raise ObjectFailed(str(exc)) from None
    return store(destination, ref.key, renditions, etag)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refs = object_refs(event)
    destination = env("IMAGE_DESTINATION_BUCKET")
    prefixes = tuple(f"{spec.name}/" for spec in settings().renditions)
    outcomes = for_each_object(
        refs,
        work=lambda ref: {"renditions": process(ref, destination)},
        refuse=lambda ref: refusal(ref, destination, prefixes),
        what="rendition",
        undo=lambda ref: remove_renditions(destination, ref.key),
    )
    outcome = {"processed": outcomes.done, "skipped": outcomes.skipped, "failed": outcomes.failed}
    logger.info("renditions done", extra={name: len(items) for name, items in outcome.items()})
    written = sum(len(processed["renditions"]) for processed in outcome["processed"])
    metrics.add_metric(name="RenditionsWritten", unit=MetricUnit.Count, value=written)
    metrics.add_metric(name="ObjectsFailed", unit=MetricUnit.Count, value=len(outcome["failed"]))
    return outcome
