"""A function URL's event (payload 2.0, `requestContext.domainName` its URL) and a function's answer mapped back."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any

from lambda_local.events.api_gateway import BadResponse, HttpRequest, HttpResponse, http_event, http_response
from lambda_local.providers import LOCAL_ACCOUNT, ApiRoute


def url_id(function: str, region: str, account: str = LOCAL_ACCOUNT) -> str:
    """The URL's id, stable for a function: 32 lower-case letters and digits, as AWS's."""
    digest = hashlib.sha256(f"{account}:{region}:{function}".encode()).digest()
    return base64.b32encode(digest).decode().lower()[:32]


def domain(function: str, region: str) -> str:
    return f"{url_id(function, region)}.lambda-url.{region}.on.aws"


def url_event(function: str, region: str, request: HttpRequest, identity: dict[str, Any] | None) -> dict[str, Any]:
    """The event a function URL sends (payload 2.0): api_gateway.py's HTTP API event with the URL's
    own `requestContext`."""
    identifier = url_id(function, region)
    event = http_event(ApiRoute("http", identifier, "$default", "ANY", function, "2.0", None), request, {}, None)
    context = event["requestContext"]
    context["accountId"] = identity["accountId"] if identity else "anonymous"
    context["apiId"] = identifier
    if identity is not None:
        context["authorizer"] = {"iam": identity}
    context["domainName"] = f"{identifier}.lambda-url.{region}.on.aws"
    context["domainPrefix"] = identifier
    context["requestId"] = str(uuid.uuid4())
    event["requestContext"] = dict(sorted(context.items()))  # AWS's order (alphabetical)
    return event


def url_response(payload: bytes) -> HttpResponse:
    """A function URL's answer: an object with `statusCode` maps as payload 2.0's; any other JSON is a
    200 `application/json` body, exactly as returned (a string keeps its quotes)."""
    try:
        answer = json.loads(payload) if payload.strip() else None
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the parser goes
        raise BadResponse("the answer is not JSON") from exc
    if isinstance(answer, dict) and "statusCode" in answer:
        return http_response(payload)
    return HttpResponse(200, [("content-type", "application/json")], payload.strip())
