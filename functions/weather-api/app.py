"""weatherApi: HTTP API (payload 2.0) `GET /weather?city=…` or `?lat=…&lon=…` -> the latest observation, JSON.

400 names what is wrong with the query, 404 when no station answers it, 503 when the data set is missing
or unreadable (the cause is logged, not shown). Every answer carries the CORS header of `SITE_ORIGIN`,
the page that calls the API from another origin.
"""

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

import observations
from shared.config import env
from shared.errors import ConfigError
from shared.log import get_logger
from shared.metrics import MetricUnit, get_metrics
from shared.tracing import get_tracer
from weather import BadQuery, answer, not_found_message, parse_query

logger = get_logger()
metrics = get_metrics()
tracer = get_tracer()

CACHE_OK = "public, max-age=300"  # observations are refreshed far less often than this


def response(status: int, body: dict[str, Any], origin: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {
            "content-type": "application/json",
            "cache-control": CACHE_OK if status == 200 else "no-store",
            "access-control-allow-origin": origin,
            "vary": "Origin",
        },
        "body": json.dumps(body, ensure_ascii=False),
    }


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    origin = env("SITE_ORIGIN")
    params = APIGatewayProxyEventV2(event).query_string_parameters
    try:
        query = parse_query(params)
    except BadQuery as exc:
        logger.info("bad query", extra={"reason": str(exc)})
        return response(400, {"message": str(exc)}, origin)
    try:
        stations = observations.load()
    except ConfigError:
        logger.exception("weather data unavailable")
        return response(503, {"message": "weather data is unavailable"}, origin)
    body = answer(stations, query)
    metrics.add_metric(name="PlacesFound" if body else "PlacesNotFound", unit=MetricUnit.Count, value=1)
    if body is None:
        return response(404, {"message": not_found_message(query)}, origin)
    return response(200, body, origin)
