"""The spare-part order as a durable workflow (AWS's durable execution SDK). Every effect is a step, whose
result is checkpointed: after each suspension Lambda invokes the function again and the SDK replays the
workflow from the top, answering each finished step from its checkpoint instead of running it again.

    order                    the order recorded in PartsOrdersTable as ORDERED (once: a conditional put)
    supplier confirmation    wait_for_callback: its submitter step publishes the dealer's notice with the
                             callback id; the execution suspends until the supplier answers
                             (SendDurableExecutionCallbackSuccess / Failure) or the reply window ends
    record                   confirmed: CONFIRMED with the supplier's delivery date
    escalate, record         no answer in time, a refusal, an answer without a delivery date, or a notice
                             that could not be sent: the escalation email (SNS), then ESCALATED

An order that an earlier execution already settled (CONFIRMED or ESCALATED) ends after the order step.
Steps retry transient AWS errors (throttling, 5xx, timeouts) with back-off; anything else fails the step
at once, and a failed order/record/escalate step fails the execution (its error in the execution's
history, the order left as the failed step found it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aws_durable_execution_sdk_python.config import Duration, StepConfig, WaitForCallbackConfig
from aws_durable_execution_sdk_python.context import DurableContext
from aws_durable_execution_sdk_python.exceptions import (
    CallbackExternalError,
    CallbackSubmitterError,
    CallbackTimeoutError,
)
from aws_durable_execution_sdk_python.retries import RetryDecision, RetryStrategyConfig, create_retry_strategy
from aws_durable_execution_sdk_python.types import StepContext, WaitForCallbackContext

from parts_order import (
    Confirmation,
    Escalation,
    InvalidConfirmation,
    OrderRequest,
    parse_confirmation,
    timed_out,
)
from shared.failures import is_transient

CONFIRMATION = "supplier confirmation"

_backoff = create_retry_strategy(
    RetryStrategyConfig(max_attempts=5, initial_delay=Duration.from_seconds(2), max_delay=Duration.from_minutes(1))
)


def transient_only(error: Exception, attempts_made: int) -> RetryDecision:
    """Back-off retries (5 attempts) for what may go away; an error in the data or the code is final."""
    return _backoff(error, attempts_made) if is_transient(error) else RetryDecision.no_retry()


STEP = StepConfig(retry_strategy=transient_only)


class Placed(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def new(self) -> bool: ...


class OrderStore(Protocol):
    """The workflow's effects, each one step's (parts_order_store.AwsOrderStore)."""

    def record_order(self, request: OrderRequest, execution_arn: str) -> Placed: ...

    def notify_supplier(self, request: OrderRequest, callback_id: str, reply_by: datetime) -> str: ...

    def record_confirmed(self, request: OrderRequest, confirmation: Confirmation) -> None: ...

    def escalate(self, request: OrderRequest, escalation: Escalation) -> str: ...

    def record_escalated(self, request: OrderRequest, escalation: Escalation, message_id: str) -> None: ...


def run(context: DurableContext, request: OrderRequest, store: OrderStore, window_s: int) -> dict[str, Any]:
    """The workflow for one order; its result is the execution's (the order's outcome)."""
    arn = context.execution_context.durable_execution_arn
    about = {"order_id": request.order_id, "tractor_id": request.tractor_id, "part": request.part}

    def order(_: StepContext) -> dict[str, Any]:
        placed = store.record_order(request, arn)
        return {"status": placed.status, "new": placed.new}

    placed = context.step(order, name="order", config=STEP)
    if placed["status"] != "ORDERED":
        context.logger.info("order settled by an earlier execution", extra=about | {"status": placed["status"]})
        return {"order_id": request.order_id, "status": placed["status"], "settled_before": True}

    def notify(callback_id: str, _: WaitForCallbackContext) -> None:
        reply_by = datetime.now(UTC) + timedelta(seconds=window_s)
        store.notify_supplier(request, callback_id, reply_by)

    waiting = WaitForCallbackConfig(timeout=Duration.from_seconds(window_s), retry_strategy=transient_only)
    try:
        confirmation = parse_confirmation(context.wait_for_callback(notify, name=CONFIRMATION, config=waiting))
    except CallbackTimeoutError:
        escalation = timed_out(window_s)
    except CallbackExternalError as exc:
        escalation = Escalation("declined", f"the supplier declined: {exc.message or 'no reason given'}")
    except CallbackSubmitterError as exc:
        escalation = Escalation("not-sent", f"the order could not be sent to the dealer: {exc.message}")
    except InvalidConfirmation as exc:
        escalation = Escalation("invalid-confirmation", f"the supplier's answer is not a confirmation: {exc}")
    else:
        context.step(lambda _: store.record_confirmed(request, confirmation), name="record", config=STEP)
        delivery = confirmation.delivery_date.isoformat()
        result = {"order_id": request.order_id, "status": "CONFIRMED", "delivery_date": delivery}
        if confirmation.reference is not None:
            result["reference"] = confirmation.reference
        context.logger.info("order confirmed", extra=about | {"delivery_date": delivery})
        return result

    message_id = context.step(lambda _: store.escalate(request, escalation), name="escalate", config=STEP)
    context.step(lambda _: store.record_escalated(request, escalation, message_id), name="record", config=STEP)
    context.logger.warning("order escalated", extra=about | {"reason": escalation.reason})
    return {
        "order_id": request.order_id,
        "status": "ESCALATED",
        "reason": escalation.reason,
        "detail": escalation.detail,
    }
