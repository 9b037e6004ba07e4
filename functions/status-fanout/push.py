"""Friends (paginated), their devices and the bounded-parallel SNS mobile push."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from fanout import FanoutResult, Status
from shared.clients import client
from shared.failures import error_code
from shared.log import get_logger

logger = get_logger(child=True)
BATCH_GET_KEYS = 100  # BatchGetItem's limit


def friends_of(table: str, user_id: str) -> Iterator[str]:
    """Every friend of `user_id`, page by page (users may have thousands)."""
    pages = (
        client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName=table,
            KeyConditionExpression="user_id = :user",
            ExpressionAttributeValues={":user": {"S": user_id}},
            ProjectionExpression="friend_id",
        )
    )
    for page in pages:
        for item in page["Items"]:
            yield item["friend_id"]["S"]


def endpoints_of(table: str, users: list[str]) -> list[str]:
    """The push endpoints of `users`' devices (BatchGetItem, 100 keys a call, unprocessed keys retried)."""
    found: list[str] = []
    for start in range(0, len(users), BATCH_GET_KEYS):
        request: dict[str, Any] = {
            table: {
                "Keys": [{"user_id": {"S": u}} for u in users[start : start + BATCH_GET_KEYS]],
                "ProjectionExpression": "endpoints",
            }
        }
        while request:
            answer = client("dynamodb").batch_get_item(RequestItems=request)
            for item in answer["Responses"].get(table, []):
                found += item.get("endpoints", {}).get("SS", [])
            request = answer.get("UnprocessedKeys") or {}
    return found


def publish_all(endpoints: list[str], status: Status, workers: int) -> FanoutResult:
    """Push `status` to every endpoint, at most `workers` at a time; disabled endpoints are skipped and
    counted, other failures logged and counted (the status is stored; the push is best effort)."""
    message = status.push_message()
    sns = client("sns", max_pool_connections=workers)
    result = FanoutResult()

    def push(endpoint: str) -> str:
        try:
            sns.publish(TargetArn=endpoint, Message=message, MessageStructure="json")
            return "ok"
        except ClientError as exc:
            if error_code(exc) == "EndpointDisabled":
                return "disabled"
            logger.warning("push failed", extra={"endpoint": endpoint, "error": error_code(exc)})
            return "failed"

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for endpoint, outcome in zip(endpoints, pool.map(push, endpoints), strict=True):
            if outcome == "ok":
                result.notified += 1
            elif outcome == "disabled":
                result.disabled.append(endpoint)
            else:
                result.failed += 1
    return result
