"""tractorPartsOrder: one spare-part order as a durable workflow (DurableConfig in template.yaml). Started by
tractorSensorAnomaly for an incident (an asynchronous Invoke named after the incident, so a re-delivered
batch starts nothing new): the order is recorded, the dealer is told with a callback id, and the execution
waits for the supplier's confirmation (SUPPLIER_TIMEOUT_SECONDS, 48 h); the order ends CONFIRMED with a
delivery date, or ESCALATED with an email to the escalation topic. The workflow: parts_order_flow.py.

An invalid request fails the execution at once (InvalidEventError, nothing recorded); a missing setting
too (ConfigError).
"""

from functools import cache
from typing import Any

from aws_durable_execution_sdk_python.context import DurableContext
from aws_durable_execution_sdk_python.execution import durable_execution

from parts_order import DEFAULT_SUPPLIER_TIMEOUT_S, OrderRequest, Settings, reply_window, supplier_timeout
from parts_order_flow import run
from parts_order_store import AwsOrderStore
from shared.config import env
from shared.log import get_logger
from shared.tracing import get_tracer

logger = get_logger()
tracer = get_tracer()


@cache
def settings() -> Settings:
    return Settings(
        orders_table=env("ORDERS_TABLE"),
        dealer_topic_arn=env("DEALER_TOPIC_ARN"),
        escalation_topic_arn=env("ESCALATION_TOPIC_ARN"),
        supplier_timeout_s=supplier_timeout(env("SUPPLIER_TIMEOUT_SECONDS", str(DEFAULT_SUPPLIER_TIMEOUT_S))),
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@durable_execution
def handler(event: dict[str, Any], context: DurableContext) -> dict[str, Any]:
    context.set_logger(logger)  # the function's JSON logs, not repeated when a step is replayed
    request = OrderRequest.from_event(event)
    config = settings()
    return run(context, request, AwsOrderStore(config), reply_window(request, config))
