"""Rekognition DetectLabels answers shaped into the labels document; which objects it can read."""

from typing import Any

# DetectLabels reads JPEG and PNG only.
SUPPORTED_TYPES = {"image/jpeg", "image/jpg", "image/png"}
SUPPORTED_SUFFIXES = (".jpg", ".jpeg", ".png")
GENERIC_TYPES = {"", "binary/octet-stream", "application/octet-stream"}


def unsupported_reason(key: str, content_type: str) -> str | None:
    """Why Rekognition cannot read this object, or None when it can."""
    content_type = content_type.split(";")[0].strip().lower()
    if content_type in SUPPORTED_TYPES:
        return None
    if content_type in GENERIC_TYPES:
        if key.lower().endswith(SUPPORTED_SUFFIXES):
            return None
        return f"content type {content_type or 'missing'} and no .jpg/.jpeg/.png suffix: not a JPEG or PNG image"
    return f"content type {content_type} is not a JPEG or PNG image (Rekognition reads only those)"


def label_document(bucket: str, key: str, response: dict[str, Any]) -> dict[str, Any]:
    """The JSON written next to the image: every label with confidence, parents and boxes."""
    labels = []
    for label in response.get("Labels", []):
        labels.append(
            {
                "name": label["Name"],
                "confidence": round(float(label.get("Confidence", 0.0)), 3),
                "parents": [parent["Name"] for parent in label.get("Parents", [])],
                "instances": [
                    {
                        "confidence": round(float(instance.get("Confidence", 0.0)), 3),
                        "bounding_box": {k.lower(): float(v) for k, v in instance["BoundingBox"].items()},
                    }
                    for instance in label.get("Instances", [])
                    if instance.get("BoundingBox")
                ],
            }
        )
    document: dict[str, Any] = {"bucket": bucket, "key": key, "labels": labels}
    if response.get("LabelModelVersion"):
        document["label_model_version"] = response["LabelModelVersion"]
    return document
