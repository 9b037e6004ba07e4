"""DynamoDB and SNS for tractorPartsOrder: the order's item in PartsOrdersTable, the dealer's notice, the
escalation email. Each call is one step's effect, written so that the step may run again (the SDK runs a
step at least once per attempt: an environment lost mid-step runs it again at the replay):

- the order is put on condition that its id is new; an existing order is read and its status returned;
- the dealer's notice is published, then the item records it (`notified`, the callback id): a step run
  twice publishes twice (at least once), never zero times;
- the outcome is written on condition that the order is still ORDERED, and a write that finds the outcome
  already there (the step's earlier run) is a success.

Item (key `order_id`): tractor_id, part, sensor, incident, detected_at, value, unit, z, status (ORDERED,
CONFIRMED, ESCALATED), execution (the durable execution's ARN), created_at; once told: notified,
notified_at, message_id, callback_id, reply_by; confirmed: delivery_date, supplier_reference,
confirmed_at; escalated: escalation_reason, escalation_detail, escalation_message_id, escalated_at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from parts_order import (
    Confirmation,
    Escalation,
    OrderRequest,
    Settings,
    Status,
    dealer_notice,
    escalation_subject,
    escalation_text,
    order_subject,
    stamp,
)
from shared.clients import client
from shared.dynamo_items import from_item, number, to_item
from shared.failures import error_code

CONDITION_FAILED = "ConditionalCheckFailedException"


class OrderStateConflict(Exception):
    """The order's item is not in the state this step expects (another outcome was recorded); not retried."""


@dataclass(frozen=True)
class Placed:
    status: Status
    new: bool  # False: the order existed (a step run again, or an earlier execution for the same order)


def now() -> datetime:
    return datetime.now(UTC)


class AwsOrderStore:
    """The workflow's effects on PartsOrdersTable, DealerTopic and the escalation topic."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def read(self, order_id: str) -> dict[str, Any] | None:
        """The order's item, strongly consistent (None: no such order)."""
        response = client("dynamodb").get_item(
            TableName=self.settings.orders_table, Key={"order_id": {"S": order_id}}, ConsistentRead=True
        )
        return from_item(response["Item"]) if "Item" in response else None

    def record_order(self, request: OrderRequest, execution_arn: str) -> Placed:
        """The order as ORDERED, once: an existing order's status is returned as it is."""
        values: dict[str, Any] = {
            "order_id": request.order_id,
            "tractor_id": request.tractor_id,
            "part": request.part,
            "sensor": request.sensor,
            "incident": request.incident,
            "detected_at": request.detected_at,
            "value": number(request.value),
            "unit": request.unit,
            "status": "ORDERED",
            "notified": False,
            "execution": execution_arn,
            "created_at": stamp(now()),
        }
        if request.z is not None:
            values["z"] = number(round(request.z, 3))
        try:
            client("dynamodb").put_item(
                TableName=self.settings.orders_table,
                Item=to_item(values),
                ConditionExpression="attribute_not_exists(order_id)",
            )
        except ClientError as exc:
            if error_code(exc) != CONDITION_FAILED:
                raise
            existing = self.read(request.order_id) or {}
            return Placed(existing.get("status", "ORDERED"), new=False)
        return Placed("ORDERED", new=True)

    def notify_supplier(self, request: OrderRequest, callback_id: str, reply_by: datetime) -> str:
        """The dealer's notice with the callback id to answer; the item records it. The notice's message id."""
        message = dealer_notice(request, callback_id, reply_by)
        published = client("sns").publish(
            TopicArn=self.settings.dealer_topic_arn,
            Subject=order_subject(request),
            Message=json.dumps(message, ensure_ascii=False),
        )
        message_id = str(published["MessageId"])
        client("dynamodb").update_item(
            TableName=self.settings.orders_table,
            Key={"order_id": {"S": request.order_id}},
            UpdateExpression=(
                "SET notified = :true, notified_at = :now, message_id = :message_id, callback_id = :callback, "
                "reply_by = :reply_by"
            ),
            ExpressionAttributeValues=to_item(
                {
                    ":true": True,
                    ":now": stamp(now()),
                    ":message_id": message_id,
                    ":callback": callback_id,
                    ":reply_by": stamp(reply_by),
                }
            ),
        )
        return message_id

    def record_confirmed(self, request: OrderRequest, confirmation: Confirmation) -> None:
        values: dict[str, Any] = {
            ":status": "CONFIRMED",
            ":delivery": confirmation.delivery_date.isoformat(),
            ":now": stamp(now()),
        }
        update = "SET #status = :status, delivery_date = :delivery, confirmed_at = :now"
        if confirmation.reference is not None:
            update += ", supplier_reference = :reference"
            values[":reference"] = confirmation.reference
        self._settle(request.order_id, "CONFIRMED", update, values)

    def escalate(self, request: OrderRequest, escalation: Escalation) -> str:
        """The escalation email (SNS, the escalation topic); its message id."""
        published = client("sns").publish(
            TopicArn=self.settings.escalation_topic_arn,
            Subject=escalation_subject(request),
            Message=escalation_text(request, escalation),
        )
        return str(published["MessageId"])

    def record_escalated(self, request: OrderRequest, escalation: Escalation, message_id: str) -> None:
        self._settle(
            request.order_id,
            "ESCALATED",
            "SET #status = :status, escalation_reason = :reason, escalation_detail = :detail, "
            "escalation_message_id = :message_id, escalated_at = :now",
            {
                ":status": "ESCALATED",
                ":reason": escalation.reason,
                ":detail": escalation.detail,
                ":message_id": message_id,
                ":now": stamp(now()),
            },
        )

    def _settle(self, order_id: str, status: Status, update: str, values: dict[str, Any]) -> None:
        """The outcome on condition that the order is still ORDERED; already `status`: done before."""
        try:
            client("dynamodb").update_item(
                TableName=self.settings.orders_table,
                Key={"order_id": {"S": order_id}},
                UpdateExpression=update,
                ConditionExpression="#status = :ordered",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item(values | {":ordered": "ORDERED"}),
            )
        except ClientError as exc:
            if error_code(exc) != CONDITION_FAILED:
                raise
            found = (self.read(order_id) or {}).get("status")
            if found != status:
                raise OrderStateConflict(f"order {order_id} is {found or 'missing'}, not ORDERED") from None
