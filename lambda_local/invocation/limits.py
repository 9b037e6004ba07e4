"""Lambda's quotas that the local plane enforces, in one place (AWS: Lambda quotas)."""

from __future__ import annotations

from typing import Any

SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024  # bytes: a synchronous invocation's request and response, a stream batch
ASYNC_PAYLOAD_LIMIT = 1024 * 1024  # bytes: an asynchronous (Event) invocation's payload


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
