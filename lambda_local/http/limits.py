"""A request body read within Lambda's quotas (settings.py holds them): refused as it streams in."""

from __future__ import annotations

from typing import Any


class TooLarge(Exception):
    """A request body over its limit, told while it streams in (before its bytes are all held)."""


async def read_limited(request: Any, limit: int) -> bytes:
    """A Starlette request's body, refused with TooLarge as soon as it passes `limit` bytes: a 4 GB
    upload costs `limit` bytes of memory, not 4 GB, before its 413."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(int(declared))
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(size)
        parts.append(chunk)
    return b"".join(parts)
