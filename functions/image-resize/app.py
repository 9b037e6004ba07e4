"""imageResize: S3 ObjectCreated -> web/tablet/mobile renditions in the destination bucket.

Each record is handled on its own: a failure names the key and the reason, leaves no rendition
of that object behind, and does not stop the other records.
"""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from renditions import ImageRejected, Rendition, Settings, make_renditions, parse_renditions
from shared.clients import client
from shared.config import env
from shared.errors import ConfigError
from shared.log import get_logger
from shared.s3_events import MISSING_REASON, S3ObjectRef, is_missing, object_refs

logger = get_logger()


class ObjectFailed(Exception):
    """One object could not be processed: `reason` says why."""


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
    try:
        head = s3.head_object(Bucket=ref.bucket, Key=ref.key)
        if head["ContentLength"] > max_bytes:
            raise ObjectFailed(f"object is {head['ContentLength']:,} bytes, over the limit of {max_bytes:,}")
        body = s3.get_object(Bucket=ref.bucket, Key=ref.key, IfMatch=head["ETag"])
        return body["Body"].read(), head["ETag"].strip('"')
    except ClientError as exc:
        if is_missing(exc):
            raise ObjectFailed(MISSING_REASON) from None
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("412", "PreconditionFailed"):
            raise ObjectFailed("object changed while being read; its newer version has its own event") from None
        raise ObjectFailed(f"cannot read object: {code} {exc.response.get('Error', {}).get('Message', '')}") from None


def store(destination: str, key: str, renditions: list[Rendition], etag: str) -> list[dict[str, Any]]:
    s3 = client("s3")
    stored = []
    for rendition in renditions:
        target = rendition_key(rendition.name, key)
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
    """Delete every rendition of `key` (what a failed attempt may have written)."""
    objects = [{"Key": rendition_key(spec.name, key)} for spec in settings().renditions]
    client("s3").delete_objects(Bucket=destination, Delete={"Objects": objects, "Quiet": True})


def process(ref: S3ObjectRef, destination: str) -> list[dict[str, Any]]:
    data, etag = fetch(ref, int(env("MAX_OBJECT_BYTES", str(50 * 1024 * 1024))))
    try:
        renditions = make_renditions(data, settings())
    except ImageRejected as exc:
        raise ObjectFailed(str(exc)) from None
    return store(destination, ref.key, renditions, etag)


@logger.inject_lambda_context(log_event=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refs = object_refs(event)
    destination = env("IMAGE_DESTINATION_BUCKET")
    prefixes = tuple(f"{spec.name}/" for spec in settings().renditions)
    processed, skipped, failed = [], [], []
    for ref in refs:
        source = {"bucket": ref.bucket, "key": ref.key}
        if ref.bucket == destination:
            failed.append(source | {"reason": f"refusing to write renditions into the source bucket {destination}"})
            continue
        if ref.key.startswith(prefixes):
            skipped.append(source | {"reason": "key is under a rendition prefix (already a rendition)"})
            continue
        try:
            processed.append(source | {"renditions": process(ref, destination)})
        except Exception as exc:  # any failure: leave nothing partial, report it, go on with the next record
            reason = str(exc) if isinstance(exc, ObjectFailed) else f"{type(exc).__name__}: {exc}"
            logger.error("rendition failed", extra=source | {"reason": reason})
            try:
                remove_renditions(destination, ref.key)
            except ClientError as cleanup_error:
                reason += f"; removing its renditions also failed: {cleanup_error}"
            failed.append(source | {"reason": reason})
    logger.info("renditions done", extra={"processed": len(processed), "skipped": len(skipped), "failed": len(failed)})
    return {"processed": processed, "skipped": skipped, "failed": failed}
