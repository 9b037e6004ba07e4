"""A plain function a durable workflow invokes (context.invoke): doubles its event's value."""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"doubled": int(event.get("value", 0)) * 2}
