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
import json
import time
from functools import partial
from typing import Any

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lambda_local.environments.instance import InvokeResult
from lambda_local.environments.pool import FunctionRuntime, Throttled
from lambda_local.events.api_gateway import (
    BadResponse,
    HttpRequest,
    http_event,
    http_response,
    rest_event,
    rest_response,
)
from lambda_local.http.limits import TooLarge, read_limited
from lambda_local.http.tokens import verify
from lambda_local.invocation.tenants import tenant_of
from lambda_local.providers import ApiRoute
from lambda_local.settings import SYNC_PAYLOAD_LIMIT
from lambda_local.traces import recorder

REST_TIMEOUT_S = 29
HTTP_TIMEOUT_S = 30
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


# ------------------------------------------------------------------ tokens


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
            trace, path = request.headers.get("x-amzn-trace-id"), request.url.path  # the client's trace, continued
            span = recorder.http_request("API Gateway", request.method, path, trace, {"route": route.route_key})
            return await recorder.responded(span, serve(route, request, span.header))

        return handle

    async def serve(route: ApiRoute, request: Request, trace: str) -> Response:
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
        runtime = runtimes[route.function]
        tenant = None
        if runtime.fn.tenant_isolation:
            # In AWS the integration maps a client request value to X-Amz-Tenant-Id; locally the client's own
            # X-Amz-Tenant-Id header is that value. Lambda refuses an invoke without a valid one: the gateway's 500.
            try:
                tenant = tenant_of(request.headers.get("x-amz-tenant-id"), isolated=True)
            except ValueError:
                return _message(500, "Internal server error")
        invocation = asyncio.ensure_future(
            recorder.invocation(
                route.function,
                recorder.onward(trace, route.function),
                lambda header: runtime.invoke(encoded, tenant=tenant, trace_id=header),
                source,
            )
        )
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
