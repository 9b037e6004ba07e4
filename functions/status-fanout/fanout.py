"""Status updates: the request body checked, the stored item and the push message shaped (pure)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.errors import preview

MAX_BODY_BYTES = 4096  # above this the request is refused with 413
MAX_TEXT_CHARS = 500


class InvalidStatus(ValueError):
    """The request body is not a status update; the message says what is wrong."""


class StatusTooLarge(ValueError):
    """The request body is larger than MAX_BODY_BYTES."""


@dataclass(frozen=True)
class Status:
    user_id: str
    status_id: str
    text: str
    posted_at: str  # ISO-8601 UTC, millisecond precision

    @property
    def item(self) -> dict[str, Any]:
        """The `statuses` item: newest last within a user (sort key posted_at#id)."""
        return {
            "user_id": self.user_id,
            "posted": f"{self.posted_at}#{self.status_id}",
            "status_id": self.status_id,
            "text": self.text,
            "posted_at": self.posted_at,
        }

    def push_message(self) -> str:
        """The SNS mobile push message: one JSON payload per platform (`MessageStructure: json`)."""
        preview_text = self.text if len(self.text) <= 100 else self.text[:99] + "…"
        notification = {"title": f"{self.user_id} posted", "body": preview_text}
        data = {"status_id": self.status_id, "user_id": self.user_id}
        gcm = json.dumps({"notification": notification, "data": data})
        apns = json.dumps({"aps": {"alert": notification}, **data})
        return json.dumps({"default": preview_text, "GCM": gcm, "APNS": apns, "APNS_SANDBOX": apns})


def parse_status(user_id: str, body: str | None, now: datetime | None = None) -> Status:
    """The status a POST /status body asks for: `{"text": "..."}`."""
    raw = (body or "").encode()
    if len(raw) > MAX_BODY_BYTES:
        raise StatusTooLarge(f"the body is {len(raw):,} bytes; the limit is {MAX_BODY_BYTES:,}")
    if not raw.strip():
        raise InvalidStatus('the body is empty; send {"text": "..."}')
    try:
        document = json.loads(raw)
    except ValueError:
        raise InvalidStatus(f"the body is not JSON: {preview(body)}") from None
    if not isinstance(document, dict):
        raise InvalidStatus(f"the body must be a JSON object, got {type(document).__name__}")
    unknown = sorted(set(document) - {"text"})
    if unknown:
        raise InvalidStatus(f"unknown field(s): {', '.join(preview(u) for u in unknown)}")
    text = document.get("text")
    if not isinstance(text, str):
        raise InvalidStatus(f"text must be a string, got {preview(text)}")
    text = text.strip()
    if not text:
        raise InvalidStatus("text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidStatus(f"text is {len(text):,} characters; the limit is {MAX_TEXT_CHARS}")
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    posted_at = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Status(user_id, uuid.uuid4().hex, text, posted_at)


@dataclass
class FanoutResult:
    friends: int = 0
    notified: int = 0
    disabled: list[str] = field(default_factory=list)  # endpoint ARNs SNS refused as disabled
    failed: int = 0  # endpoints that failed for another reason (logged)

    def body(self, status: Status) -> dict[str, Any]:
        return {
            "status_id": status.status_id,
            "posted_at": status.posted_at,
            "friends": self.friends,
            "notified": self.notified,
            "skipped_disabled": len(self.disabled),
            "failed": self.failed,
        }
