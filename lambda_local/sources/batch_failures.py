"""A function's `ReportBatchItemFailures` answer, as Lambda reads it for every event source mapping
(SQS, DynamoDB and Kinesis streams): which item identifiers it names as failed."""

from __future__ import annotations

import json


def reported_failures(payload: bytes, identifiers: list[str]) -> list[str] | None:
    """The identifiers the answer names as failed: [] when the whole batch succeeded (an answer that is
    not JSON, not an object, or has no failures), None when the answer fails the whole batch (failures
    that are not a list, or an identifier that is empty, missing or not in the batch)."""
    try:
        answer = json.loads(payload) if payload.strip() else None
    except ValueError:
        return []
    failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
    if not failures:
        return []
    if not isinstance(failures, list):
        return None
    known = set(identifiers)
    named = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in known:
            return None
        named.append(identifier)
    return named
