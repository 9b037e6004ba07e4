"""Read back what the local AWS endpoint (moto server) recorded."""

import json
import urllib.request
from typing import Any

from tools.stack import AWS_ENDPOINT


def state() -> dict[str, Any]:
    """moto's `/moto-api/data.json`: every backend's resources."""
    with urllib.request.urlopen(f"{AWS_ENDPOINT}/moto-api/data.json", timeout=10) as response:
        return json.load(response)


def sns_notifications(topic_arn: str) -> list[dict[str, Any]]:
    """Messages published to `topic_arn`, oldest first: dicts with message_id, message, subject."""
    for topic in state().get("sns", {}).get("Topic", []):
        if topic.get("arn") == topic_arn:
            return [{"message_id": n[0], "message": n[1], "subject": n[2]} for n in topic.get("sent_notifications", [])]
    return []
