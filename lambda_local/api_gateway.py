"""API Gateway, locally: the template's `Api` (REST API, payload 1.0) and `HttpApi` (HTTP API, payload
2.0 by default) events served on one port (3000), each request turned into the event the function
gets and its answer into the HTTP response, as API Gateway does.

Authorizers: a route whose API (or event) names a Cognito user pool authorizer (REST) or a JWT
authorizer (HTTP API) needs `Authorization: Bearer <token>`; locally the token is a JWT signed with
the plane's development key (`make token`), checked for signature, expiry, issuer and audience, and its
claims reach the function in `requestContext.authorizer`. Lambda authorizers are not run locally.

Request bodies: a REST API base64-encodes the body exactly when its Content-Type matches one of the
API's `BinaryMediaTypes` (else it is UTF-8 text, undecodable bytes replaced); an HTTP API, which has no
binary media types, passes text, JSON, XML, form and JavaScript types as text and base64-encodes the rest.

What differs from AWS: REST header names reach the function in canonical case (`Content-Type`) rather
than as the client spelled them (the server lower-cases them first), a REST API is served without its
stage prefix (`/Prod`), and a REST answer with `isBase64Encoded` is always decoded (AWS decodes it only
when the request's first `Accept` type is one of the API's `BinaryMediaTypes`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lambda_local.limits import SYNC_PAYLOAD_LIMIT, TooLarge, read_limited
from lambda_local.plane import ACCOUNT, STATE
from lambda_local.providers import ApiRoute, Authorizer, Template, TemplateError
from lambda_local.runtimes import FunctionRuntime, InvokeResult, Throttled

KEY_FILE = "jwt-dev-key"  # in the plane's state folder: one signing key per local stack, never in git
REST_TIMEOUT_S = 29
HTTP_TIMEOUT_S = 30
REST_STAGE = "Prod"
HTTP_STAGE = "$default"
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "application/x-www-form")
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


# Invocations a gateway timeout answered for, running on to their own end (kept from the collector).
running_on: set[asyncio.Future[InvokeResult]] = set()


def _ran_on(report: Any, source: str, function: str, started: float, invocation: asyncio.Future[InvokeResult]) -> None:
    """The delivery line of an invocation whose client got the gateway's timeout."""
    running_on.discard(invocation)
    if invocation.cancelled() or invocation.exception() is not None:
        return
    result = invocation.result()
    duration = (time.perf_counter() - started) * 1000
    outcome = "error" if result.function_error else "ok"
    report(source, function, result.request_id, 1, duration, f"{outcome} after the gateway timed out")


# ------------------------------------------------------------------ events (pure)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str  # decoded
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]  # lower-case names, in order, repeated names kept
    body: bytes
    source_ip: str
    port: int = 3000  # the port the client connected to (X-Forwarded-Port)


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


# ------------------------------------------------------------------ tokens


def dev_secret() -> str:
    """The key development tokens are signed with: LAMBDA_LOCAL_JWT_SECRET when set, else the stack's own,
    made at random on first use in its state folder (mode 600) and gone with `make down`. Tokens come from
    the running plane (`make token`, POST /_local/token), so Docker mode's key stays in its volume."""
    if given := os.environ.get("LAMBDA_LOCAL_JWT_SECRET"):
        return given
    path = Path(os.environ.get("LAMBDA_LOCAL_STATE") or STATE) / KEY_FILE
    with contextlib.suppress(FileNotFoundError):
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{KEY_FILE}.{os.getpid()}")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(32))
    with contextlib.suppress(FileExistsError):
        os.link(staged, path)  # the first writer wins; a concurrent one reads the winner's key
    staged.unlink()
    return path.read_text().strip()


def dev_token(claims: dict[str, Any], authorizer: Authorizer | None = None, lifetime_s: int = 3600) -> str:
    """A development token the local API accepts for `authorizer` (issuer and audience filled in)."""
    body = {"iat": int(time.time()), "exp": int(time.time()) + lifetime_s, "token_use": "id"} | claims
    if authorizer is not None and authorizer.issuer:
        body.setdefault("iss", authorizer.issuer)
    if authorizer is not None and authorizer.audience:
        body.setdefault("aud", authorizer.audience[0])
    return jwt.encode(body, dev_secret(), algorithm="HS256")


def template_token(template: Template, claims: dict[str, Any], authorizer: str | None = None) -> str:
    """A development token for the template's authorizers: the one named, or every one (they must then
    share an issuer; the token carries all their audiences)."""
    found = {r.authorizer.name: r.authorizer for r in template.routes if r.authorizer is not None}
    if not found:
        raise TemplateError("template.yaml declares no Cognito or JWT authorizer on an API event")
    if authorizer is not None:
        if authorizer not in found:
            raise TemplateError(f"no authorizer {authorizer!r}; the template has {', '.join(sorted(found))}")
        chosen = [found[authorizer]]
    else:
        chosen = list(found.values())
    issuers = {a.issuer for a in chosen}
    if len(issuers) > 1:
        raise TemplateError(f"the authorizers have different issuers: name one of {', '.join(sorted(found))}")
    audience = sorted({aud for a in chosen for aud in a.audience})
    body = dict(claims)
    if audience:
        body.setdefault("aud", audience if len(audience) > 1 else audience[0])
    return dev_token(body, Authorizer("any", issuers.pop(), ()))


def verify(header: str | None, authorizer: Authorizer) -> dict[str, Any]:
    """The claims of a valid `Bearer` token for `authorizer`; jwt.InvalidTokenError otherwise."""
    if not header:
        raise jwt.InvalidTokenError("no Authorization header")
    token = header.removeprefix("Bearer ").strip()
    options = {"require": ["exp"], "verify_aud": bool(authorizer.audience)}
    return dict(
        jwt.decode(
            token,
            dev_secret(),
            algorithms=["HS256"],
            audience=list(authorizer.audience) or None,
            issuer=authorizer.issuer,
            options=options,  # type: ignore[arg-type]
        )
    )


# ------------------------------------------------------------------ the server


def _message(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def _server_port(request: Request) -> int:
    """The port the client connected to: the server's (ASGI `server`), else the Host header's."""
    server = request.scope.get("server")
    if server and server[1] is not None:
        return int(server[1])
    return request.url.port or 80


def app(routes: tuple[ApiRoute, ...], runtimes: dict[str, FunctionRuntime], report: Any) -> Starlette:
    """The ASGI app serving `routes`; each path is one Starlette route, the method is looked up inside."""
    by_path: dict[str, dict[str, ApiRoute]] = {}
    for route in routes:
        by_path.setdefault(route.starlette_path, {})[route.method] = route

    def endpoint(methods: dict[str, ApiRoute]) -> Any:
        async def handle(request: Request) -> Response:
            route = methods.get(request.method) or methods.get("ANY")
            if route is None:
                return not_found(request)
            return await serve(route, request)

        return handle

    async def serve(route: ApiRoute, request: Request) -> Response:
        try:
            body = await read_limited(request, SYNC_PAYLOAD_LIMIT)  # Lambda's, below API Gateway's 10 MB
        except TooLarge:
            return _message(413, "Request Entity Too Large")
        claims = None
        if route.authorizer is not None:
            try:
                claims = verify(request.headers.get("authorization"), route.authorizer)
            except jwt.InvalidTokenError:
                return _message(401, "Unauthorized")
        http_request = HttpRequest(
            method=request.method,
            path=request.url.path,
            raw_path=request.scope.get("raw_path", request.url.path.encode()).decode("latin-1"),
            raw_query=request.scope.get("query_string", b"").decode("latin-1"),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
            body=body,
            source_ip=request.client.host if request.client else "127.0.0.1",
            port=_server_port(request),
        )
        params = {k: str(v) for k, v in request.path_params.items()}
        if route.path == "$default":
            params = {}
        rest = route.payload_version == "1.0"
        event = (rest_event if rest else http_event)(route, http_request, params, claims)
        encoded = json.dumps(event).encode()
        if len(encoded) > SYNC_PAYLOAD_LIMIT:  # the event as the function gets it (a body's escapes grow it)
            return _message(413, "Request Entity Too Large")
        started = time.perf_counter()
        source = f"{route.kind}-api:{route.route_key}"
        # As in AWS, the gateway's timeout ends the client's wait, not the invocation: the function runs on
        # to its own timeout, and its environment takes no other request until it has finished.
        invocation = asyncio.ensure_future(runtimes[route.function].invoke(encoded))
        try:
            result = await asyncio.wait_for(
                asyncio.shield(invocation), REST_TIMEOUT_S if route.kind == "rest" else HTTP_TIMEOUT_S
            )
        except Throttled:
            return _message(429, "Too Many Requests")
        except TimeoutError:
            running_on.add(invocation)
            invocation.add_done_callback(partial(_ran_on, report, source, route.function, started))
            if route.kind == "rest":
                return _message(504, "Endpoint request timed out")
            return _message(503, "Service Unavailable")
        try:
            if result.function_error:
                raise BadResponse(f"function error {result.function_error}")
            answer = (rest_response if rest else http_response)(result.payload)
        except BadResponse as exc:
            duration = (time.perf_counter() - started) * 1000
            report(source, route.function, result.request_id, 1, duration, f"bad gateway: {exc}")
            if route.kind == "rest":
                return _message(502, "Internal server error")
            return _message(500, "Internal Server Error")
        report(
            source,
            route.function,
            result.request_id,
            1,
            result.duration_ms,
            f"ok ({answer.status})",
            cold=result.cold_start,
        )
        response = Response(answer.body, status_code=answer.status)
        id_header = "x-amzn-requestid" if route.kind == "rest" else "apigw-requestid"
        response.raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
        response.raw_headers.append((id_header.encode(), event["requestContext"]["requestId"].encode()))
        return response

    has_rest = any(route.kind == "rest" for route in routes)

    def not_found(request: Request) -> Response:
        if has_rest:  # what a REST API answers for a path or method it does not have
            return _message(403, "Missing Authentication Token")
        return _message(404, "Not Found")

    async def fallback(request: Request) -> Response:
        return not_found(request)

    starlette_routes = [Route(path, endpoint(methods), methods=METHODS) for path, methods in by_path.items()]
    starlette_routes.append(Route("/{anything:path}", fallback, methods=METHODS))
    return Starlette(routes=starlette_routes)
