"""The one timestamp format AWS's event and record documents use: ISO 8601, UTC, milliseconds, `Z`."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def iso_ms(epoch: float | None = None) -> str:
    """`2026-12-03T09:41:07.123Z` for `epoch` (default: now)."""
    moment = datetime.fromtimestamp(time.time() if epoch is None else epoch, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
