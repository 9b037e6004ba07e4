"""EventBridge's Scheduled Event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def scheduled_event(rule_arn: str, account: str, region: str, at: datetime) -> dict[str, Any]:
    """EventBridge's "Scheduled Event" for a rule firing at `at`."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }
