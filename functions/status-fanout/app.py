"""statusFanout: POST /status (REST API, payload 1.0) -> the status stored -> every friend's devices
notified through SNS mobile push -> 202 {"notified": n, ...}.

400 for a body that is not a status (the message says why), 401 without the authorizer's user claims,
413 above 4 KB. Friends are read page by page; pushes go out in parallel, at most PUSH_CONCURRENCY at a
time; disabled endpoints are skipped and counted.
"""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, ServiceError, UnauthorizedError
from aws_lambda_powertools.utilities.typing import LambdaContext

from fanout import InvalidStatus, StatusTooLarge, parse_status
from push import endpoints_of, friends_of, publish_all
from shared.clients import client
from shared.config import env
from shared.log import get_logger
from shared.metrics import MetricUnit, get_metrics
from shared.tracing import get_tracer

logger = get_logger()
metrics = get_metrics()
tracer = get_tracer()
api = APIGatewayRestResolver()


@api.post("/status")
def post_status() -> Response[dict[str, Any]]:
    authorizer: dict[str, Any] = dict(api.current_event.request_context.authorizer or {})
    claims: dict[str, Any] = authorizer.get("claims") or {}
    user_id = claims.get("sub")
    if not user_id:
        metrics.add_metric(name="StatusesRejected", unit=MetricUnit.Count, value=1)
        raise UnauthorizedError("Unauthorized")
    try:
        status = parse_status(user_id, api.current_event.body)
    except StatusTooLarge as exc:
        metrics.add_metric(name="StatusesRejected", unit=MetricUnit.Count, value=1)
        raise ServiceError(413, str(exc)) from None
    except InvalidStatus as exc:
        metrics.add_metric(name="StatusesRejected", unit=MetricUnit.Count, value=1)
        raise BadRequestError(str(exc)) from None
    client("dynamodb").put_item(TableName=env("STATUSES_TABLE"), Item={k: {"S": v} for k, v in status.item.items()})
    friends = list(friends_of(env("FRIENDS_TABLE"), user_id))
    endpoints = endpoints_of(env("DEVICES_TABLE"), friends)
    result = publish_all(endpoints, status, int(env("PUSH_CONCURRENCY", "32")))
    result.friends = len(friends)
    logger.info("status fanned out", extra=result.body(status))
    metrics.add_metric(name="DevicesNotified", unit=MetricUnit.Count, value=result.notified)
    metrics.add_metric(name="DevicesDisabled", unit=MetricUnit.Count, value=len(result.disabled))
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=result.body(status))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.resolve(event, context)
