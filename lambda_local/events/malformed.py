"""What a source says of a message that is not the event its source sends."""

from __future__ import annotations

from typing import Any


class MalformedEvent(ValueError):
    """A trigger's message that is not the event its source sends; the message names what is wrong."""


def json_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedEvent(f"{where} must be a JSON object, got {type(value).__name__}")
    return value
