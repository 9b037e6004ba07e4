"""API Gateway's events (REST payload 1.0, HTTP API payload 2.0) from an HTTP request, and a function's
answer mapped back to the HTTP response.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from lambda_local.providers import LOCAL_ACCOUNT as ACCOUNT
from lambda_local.providers import ApiRoute
from lambda_local.settings import API_PORT

REST_STAGE = "Prod"


HTTP_STAGE = "$default"


TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "application/x-www-form")


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str  # decoded
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]  # lower-case names, in order, repeated names kept
    body: bytes
    source_ip: str
    port: int = API_PORT  # the port the client connected to (X-Forwarded-Port)


def is_text(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith(TEXT_TYPES) or kind.endswith(("+json", "+xml"))


def _content_type(request: HttpRequest) -> str:
    return next((v for k, v in request.headers if k == "content-type"), "")


def _http_body(request: HttpRequest) -> tuple[str | None, bool]:
    """An HTTP API's body: text types as text, anything else (or text that is not UTF-8) base64."""
    if not request.body:
        return None, False
    if is_text(_content_type(request)):
        try:
            return request.body.decode(), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode(), True


def is_binary(content_type: str, binary_media_types: tuple[str, ...]) -> bool:
    """Whether a REST API treats `content_type` as binary: it matches one of the API's binary media
    types, where `*` matches any run of characters (`image/*`, `*/*`); `*/*` matches every request."""
    kind = content_type.split(";", 1)[0].strip().lower()
    for pattern in binary_media_types:
        if pattern == "*/*":
            return True
        if re.fullmatch(re.escape(pattern.lower()).replace(r"\*", ".*"), kind):
            return True
    return False


def _rest_body(request: HttpRequest, binary_media_types: tuple[str, ...]) -> tuple[str | None, bool]:
    """A REST API's body: base64 exactly when its Content-Type is a binary media type of the API, else
    UTF-8 text (bytes that are not UTF-8 replaced by U+FFFD, as API Gateway does)."""
    if not request.body:
        return None, False
    if is_binary(_content_type(request), binary_media_types):
        return base64.b64encode(request.body).decode(), True
    return request.body.decode("utf-8", errors="replace"), False


def _header(request: HttpRequest, name: str) -> str | None:
    return next((value for key, value in request.headers if key == name), None)


def _forwarded(request: HttpRequest) -> list[tuple[str, str]]:
    """The request's headers with API Gateway's `x-forwarded-*`: the client's IP appended to an
    `X-Forwarded-For` it sent (`given, client-ip`), the port it connected to, and the protocol."""
    given = [value for key, value in request.headers if key == "x-forwarded-for"]
    added = {
        "x-forwarded-for": ", ".join([*given, request.source_ip]),
        "x-forwarded-port": str(request.port),
        "x-forwarded-proto": "http",
    }
    headers = [(key, value) for key, value in request.headers if key not in added]
    return headers + list(added.items())


def canonical(name: str) -> str:
    """`content-type` -> `Content-Type`: each dash-separated part capitalised."""
    return "-".join(part.capitalize() for part in name.split("-"))


def _string_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway passes them: every value a string (lists space-separated in brackets)."""
    return {
        k: v if isinstance(v, str) else (f"[{' '.join(map(str, v))}]" if isinstance(v, list) else str(v))
        for k, v in claims.items()
    }


def rest_event(
    route: ApiRoute, request: HttpRequest, path_parameters: dict[str, str], claims: dict[str, Any] | None
) -> dict[str, Any]:
    """The REST API proxy event (payload format 1.0)."""
    now = datetime.now(UTC)
    # API Gateway passes header names as the client sent them. The ASGI server has lower-cased them before
    # this code runs, so the client's spelling is lost: canonical case is what curl, requests and browsers
    # send over HTTP/1.1, and what a function written against AWS (`headers["Content-Type"]`) expects.
    multi_headers: dict[str, list[str]] = {}
    for key, value in _forwarded(request):
        multi_headers.setdefault(canonical(key), []).append(value)
    multi_query: dict[str, list[str]] = {}
    for key, value in parse_qsl(request.raw_query, keep_blank_values=True):
        multi_query.setdefault(key, []).append(value)
    body, encoded = _rest_body(request, route.binary_media_types)
    request_id = str(uuid.uuid4())
    context: dict[str, Any] = {
        "accountId": ACCOUNT,
        "apiId": route.api_id.lower()[:10],
        "domainName": _header(request, "host") or "localhost",
        "domainPrefix": (_header(request, "host") or "localhost").split(".", 1)[0],
        "extendedRequestId": request_id,
        "httpMethod": request.method,
        "identity": {
            "accessKey": None,
            "accountId": None,
            "apiKey": None,
            "apiKeyId": None,
            "caller": None,
            "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "principalOrgId": None,
            "sourceIp": request.source_ip,
            "user": None,
            "userAgent": _header(request, "user-agent"),
            "userArn": None,
        },
        "path": f"/{REST_STAGE}{request.path}",
        "protocol": "HTTP/1.1",
        "requestId": request_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, route.route_key).hex[:6],
        "resourcePath": route.path,
        "stage": REST_STAGE,
    }
    if claims is not None:
        context["authorizer"] = {"claims": _string_claims(claims)}
    return {
        "resource": route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": encoded,
    }


def http_event(
    route: ApiRoute, request: HttpRequest, path_parameters: dict[str, str], claims: dict[str, Any] | None
) -> dict[str, Any]:
    """The HTTP API event (payload format 2.0): lower-case header names, repeated values joined with
    commas, cookies apart; empty parameters are left out."""
    now = datetime.now(UTC)
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for key, value in _forwarded(request):
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    request_id = base64.b32encode(uuid.uuid4().bytes).decode()[:16]
    host = headers.get("host", "localhost")
    context: dict[str, Any] = {
        "accountId": ACCOUNT,
        "apiId": route.api_id.lower()[:10],
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route.route_key,
        "stage": HTTP_STAGE,
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if claims is not None:
        scopes = claims.get("scope")
        context["authorizer"] = {
            "jwt": {"claims": _string_claims(claims), "scopes": scopes.split() if isinstance(scopes, str) else None}
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": headers,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = context
    body, encoded = _http_body(request)
    if body is not None:
        event["body"] = body
    if path_parameters:
        event["pathParameters"] = path_parameters
    event["isBase64Encoded"] = encoded
    return event


class BadResponse(ValueError):
    """The function's answer is not a response API Gateway can map."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _response_body(answer: dict[str, Any]) -> bytes:
    body = answer.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise BadResponse(f"body must be a string, got {type(body).__name__}")
    if answer.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(body, validate=True)
        except ValueError as exc:
            raise BadResponse("isBase64Encoded but the body is not base64") from exc
    return body.encode()


def _headers(answer: dict[str, Any]) -> list[tuple[str, str]]:
    headers = answer.get("headers") or {}
    multi = answer.get("multiValueHeaders") or {}
    if not isinstance(headers, dict) or not isinstance(multi, dict):
        raise BadResponse("headers and multiValueHeaders must be objects")
    pairs = [(str(k), str(v)) for k, v in headers.items() if k not in multi]
    for key, values in multi.items():
        if not isinstance(values, list):
            raise BadResponse(f"multiValueHeaders.{key} must be a list")
        pairs += [(str(key), str(v)) for v in values]
    return pairs


def _status(answer: dict[str, Any]) -> int:
    status = answer.get("statusCode")
    if isinstance(status, str) and status.isascii() and status.isdigit() and len(status) <= 3:
        status = int(status)
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise BadResponse(f"statusCode must be an HTTP status, got {status!r}")
    return status


def rest_response(payload: bytes) -> HttpResponse:
    """A payload 1.0 answer: `statusCode`, `headers`, `multiValueHeaders`, `body`, `isBase64Encoded`."""
    try:
        answer = json.loads(payload)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the parser goes
        raise BadResponse("the answer is not JSON") from exc
    if not isinstance(answer, dict):
        raise BadResponse("the answer must be an object with statusCode")
    return HttpResponse(_status(answer), _headers(answer), _response_body(answer))


def http_response(payload: bytes) -> HttpResponse:
    """A payload 2.0 answer: like 1.0 plus `cookies`; any JSON without `statusCode` is a 200 JSON body."""
    try:
        answer = json.loads(payload) if payload.strip() else None
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the parser goes
        raise BadResponse("the answer is not JSON") from exc
    if not isinstance(answer, dict) or "statusCode" not in answer:
        body = answer if isinstance(answer, str) else json.dumps(answer)
        return HttpResponse(200, [("content-type", "application/json")], body.encode())
    cookies = answer.get("cookies") or []
    if not isinstance(cookies, list):
        raise BadResponse("cookies must be a list")
    headers = _headers(answer) + [("set-cookie", str(c)) for c in cookies]
    return HttpResponse(_status(answer), headers, _response_body(answer))
