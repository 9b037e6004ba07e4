"""Lambda function URLs, locally: every function whose template declares `FunctionUrlConfig` answers on
one port, LAMBDA_LOCAL_URL_PORT (3002), under its name:

    http://127.0.0.1:3002/<FunctionName>/<path>?<query>   ->   rawPath /<path>, rawQueryString <query>

In AWS each URL is a host of its own, `https://<url-id>.lambda-url.<region>.on.aws`. The plane answers
loopback Host names only (doors.py), so locally the path's first segment picks the function, and the
function never sees that segment (`/<FunctionName>` alone is its `/`).

The event is payload format 2.0 as function URLs send it: `routeKey` and `stage` `$default`,
`requestContext.apiId` and `domainPrefix` the URL's id (32 characters, made from the account, region
and function name), `domainName` `<url-id>.lambda-url.<region>.on.aws`, `accountId` `anonymous` (NONE)
or the caller's account (AWS_IAM, with `authorizer.iam`); headers, cookies, query and body as
api_gateway.py's HTTP API builds them. The answer maps back as AWS maps it: `statusCode`, `headers`,
`cookies`, `body`, `isBase64Encoded`; any other JSON is a 200 `application/json` body, as returned. An
unhandled function error, or an answer that is no response, is 502 `{"Message":"Internal Server
Error"}`; a throttle (reserved or account concurrency) 429.

AWS_IAM: a request needs a SigV4 `Authorization` header for service `lambda` and the plane's region,
signed with the local credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of the plane's
environment, else local.env's: the stack's one identity). The plane recomputes the signature with
botocore's SigV4 signer over the method, the path as sent (with the `/<FunctionName>` prefix: sign the
URL you request), the query, the headers the request names in SignedHeaders (`host` and `x-amz-date`
among them) and the body's SHA-256; compares it in constant time; and wants `X-Amz-Date` within 5
minutes of its clock and an `X-Amz-Content-SHA256`, when sent, to be the body's hash. Anything else is
403 `{"Message":"Forbidden"}`; the plane's log says why.

CORS (`FunctionUrlConfig.Cors`): a preflight (OPTIONS with `Origin` and `Access-Control-Request-Method`)
is answered by the URL itself, before any authentication and without invoking the function; every
other response to an allowed `Origin` gets `Access-Control-Allow-Origin`, `-Allow-Credentials` and
`-Expose-Headers`, which replace any the function set (the URL's configuration takes precedence).
Without `Cors`, an OPTIONS request goes to the function like any other.

What differs from AWS: the path prefix (above); the function sees the `Host` the client sent (not the
URL's domain), `X-Forwarded-Proto: http` and the port it connected to; `requestContext.requestId` is the
plane's own id, the response's `x-amzn-RequestId` the invocation's; AWS_IAM knows one identity, the
local credentials (no IAM policies, no STS session tokens, no presigned query strings); and
`InvokeMode: RESPONSE_STREAM` is served buffered (the answer mapped as BUFFERED), with a warning.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lambda_local.environments.pool import FunctionRuntime, Throttled
from lambda_local.environments.variables import LOCAL_ENV, read_env_file
from lambda_local.events.api_gateway import BadResponse, HttpRequest
from lambda_local.events.function_url import url_event, url_response
from lambda_local.http.api_gateway import METHODS
from lambda_local.http.limits import TooLarge, read_limited
from lambda_local.logs import LOG
from lambda_local.providers import LOCAL_ACCOUNT, FunctionSpec, FunctionUrl, UrlCors
from lambda_local.settings import SYNC_PAYLOAD_LIMIT, URL_PORT
from lambda_local.traces import recorder

SERVICE = "lambda"  # what a request to a function URL is signed for
ALGORITHM = "AWS4-HMAC-SHA256"
AMZ_DATE = "%Y%m%dT%H%M%SZ"
CLOCK_SKEW = timedelta(minutes=5)
LOCAL_USER = "local"  # the IAM user the local credentials stand for (requestContext.authorizer.iam.userArn)


def port() -> int:
    """The function URLs' port: LAMBDA_LOCAL_URL_PORT, default 3002."""
    return int(os.environ.get("LAMBDA_LOCAL_URL_PORT", str(URL_PORT)))


def url_functions(functions: tuple[FunctionSpec, ...] | list[FunctionSpec]) -> list[FunctionSpec]:
    return [fn for fn in functions if fn.url is not None]


def warnings(functions: tuple[FunctionSpec, ...] | list[FunctionSpec]) -> list[str]:
    """What the template's function URLs declare that runs otherwise locally."""
    return [
        f"{fn.lambda_name}: FunctionUrlConfig.InvokeMode RESPONSE_STREAM is served buffered locally "
        "(the answer is mapped as BUFFERED: statusCode, headers, body)"
        for fn in url_functions(functions)
        if fn.url is not None and fn.url.invoke_mode == "RESPONSE_STREAM"
    ]


def local_credentials(env: Mapping[str, str] | None = None) -> Credentials | None:
    """The credentials AWS_IAM requests are signed with: the environment's, else local.env's."""
    env = os.environ if env is None else env
    key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if not (key and secret) and LOCAL_ENV.is_file():
        found = read_env_file(LOCAL_ENV)
        key, secret = found.get("AWS_ACCESS_KEY_ID"), found.get("AWS_SECRET_ACCESS_KEY")
    return Credentials(key, secret) if key and secret else None


def caller_identity(access_key: str, account: str = LOCAL_ACCOUNT) -> dict[str, Any]:
    """`requestContext.authorizer.iam` for a request signed with the local credentials."""
    user_id = "AIDA" + base64.b32encode(hashlib.sha256(access_key.encode()).digest()).decode()[:17]
    return {
        "accessKey": access_key,
        "accountId": account,
        "callerId": user_id,
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": f"arn:aws:iam::{account}:user/{LOCAL_USER}",
        "userId": user_id,
    }


# ------------------------------------------------------------------ SigV4 (pure)


class Forbidden(Exception):
    """A request an AWS_IAM function URL refuses (403 Forbidden); the reason is for the plane's log."""


@dataclass(frozen=True)
class SignedRequest:
    method: str
    raw_path: str  # as the client sent it, the function's prefix included: what it signed
    raw_query: str
    headers: list[tuple[str, str]]  # lower-case names, in order, repeated names kept
    body: bytes


class _Signer(SigV4Auth):  # type: ignore[misc]  # botocore has no type information
    """botocore's SigV4 signer over exactly the headers the request says it signed (botocore's own
    choice leaves some out, User-Agent for one, that other clients sign)."""

    def __init__(self, credentials: Credentials, region: str, signed: list[tuple[str, str]]) -> None:
        super().__init__(credentials, SERVICE, region)
        self._signed = signed

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        headers = HTTPHeaders()
        for name, value in self._signed:
            headers[name] = value  # adds: a repeated header keeps every value, in order
        return headers

    def expected(self, request: AWSRequest, amz_date: str) -> str:
        request.context["timestamp"] = amz_date
        return str(self.signature(self.string_to_sign(request, self.canonical_request(request)), request))


def _authorization(value: str) -> tuple[list[str], list[str], str]:
    """(credential scope, signed header names, signature) of an `Authorization: AWS4-HMAC-SHA256 ...`."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise Forbidden(f"Authorization is not {ALGORITHM} (SigV4)")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, found = part.strip().partition("=")
        if sep:
            fields[key.strip()] = found.strip()
    for needed in ("Credential", "SignedHeaders", "Signature"):
        if not fields.get(needed):
            raise Forbidden(f"Authorization has no {needed}")
    names = [n.strip().lower() for n in fields["SignedHeaders"].split(";")]
    return fields["Credential"].split("/"), names, fields["Signature"]


def _canonical_forms(request: SignedRequest) -> Iterator[AWSRequest]:
    """The request as a signer saw it: its query as sent (botocore's AWSRequest with the query in the
    URL), then, when that differs, each name and value URI-encoded as SigV4 says (other signers)."""
    url = f"http://localhost{request.raw_path}"
    query = f"?{request.raw_query}" if request.raw_query else ""
    yield AWSRequest(method=request.method, url=url + query, data=request.body)
    if request.raw_query:
        pairs = parse_qsl(request.raw_query, keep_blank_values=True)
        yield AWSRequest(method=request.method, url=url, data=request.body, params=pairs)


def verify_sigv4(
    request: SignedRequest, credentials: Credentials | None, region: str, now: datetime | None = None
) -> str:
    """The access key of a request signed (SigV4, service `lambda`, `region`) with `credentials`;
    Forbidden, with the reason, for any other."""
    if credentials is None:
        raise Forbidden("the plane has no AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY to check signatures with")
    given = [value for key, value in request.headers if key == "authorization"]
    if not given:
        raise Forbidden("no Authorization header: an AWS_IAM function URL takes SigV4-signed requests only")
    if len(given) > 1:
        raise Forbidden("more than one Authorization header")
    scope, names, signature = _authorization(given[0])
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise Forbidden("the Credential is not <key>/<date>/<region>/<service>/aws4_request")
    key, day, scope_region, service, _ = scope
    if not hmac.compare_digest(key.encode(), credentials.access_key.encode()):
        raise Forbidden(f"access key {key!r} is not the local credentials' (AWS_ACCESS_KEY_ID of local.env)")
    if scope_region != region:
        raise Forbidden(f"signed for region {scope_region!r}; the plane's is {region!r}")
    if service != SERVICE:
        raise Forbidden(f"signed for service {service!r}; function URLs are {SERVICE!r}")
    for needed in ("host", "x-amz-date"):
        if needed not in names:
            raise Forbidden(f"SignedHeaders does not name {needed}")
    sent = {name for name, _ in request.headers}
    if absent := [name for name in names if name not in sent]:
        raise Forbidden(f"the signed header {absent[0]} is not in the request")
    amz_date = next(value for name, value in request.headers if name == "x-amz-date").strip()
    try:
        when = datetime.strptime(amz_date, AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise Forbidden(f"X-Amz-Date {amz_date!r} is not yyyymmddThhmmssZ") from None
    if abs((now or datetime.now(UTC)) - when) > CLOCK_SKEW:
        raise Forbidden(f"X-Amz-Date {amz_date} is more than 5 minutes from the plane's clock")
    if day != amz_date[:8]:
        raise Forbidden(f"the Credential's date {day} is not X-Amz-Date's")
    body_hash = hashlib.sha256(request.body).hexdigest()
    for name, value in request.headers:
        if name == "x-amz-content-sha256" and value.strip() != body_hash:
            raise Forbidden("X-Amz-Content-SHA256 is not the body's SHA-256 (the body was changed, or not signed)")
    signer = _Signer(credentials, region, [(name, value) for name, value in request.headers if name in names])
    for form in _canonical_forms(request):
        if hmac.compare_digest(signer.expected(form, amz_date).encode(), signature.encode()):
            return key
    raise Forbidden("the signature does not match (wrong secret key, or the request changed after signing)")


# ------------------------------------------------------------------ CORS (pure)


def allowed_origin(cors: UrlCors, origin: str) -> str | None:
    """Access-Control-Allow-Origin for a request from `origin`: `*`, the origin itself, or None."""
    if "*" in cors.allow_origins:
        return "*"
    wanted = origin.strip().lower()
    return origin if any(o.lower().rstrip("/") == wanted.rstrip("/") for o in cors.allow_origins) else None


def _vary(allow: str) -> list[tuple[str, str]]:
    return [] if allow == "*" else [("vary", "Origin")]


def preflight_headers(cors: UrlCors, origin: str) -> list[tuple[str, str]]:
    """What the URL answers a preflight from `origin` with: nothing for an origin it does not allow."""
    allow = allowed_origin(cors, origin)
    if allow is None:
        return []
    headers = [("access-control-allow-origin", allow)]
    if cors.allow_methods:
        headers.append(("access-control-allow-methods", ", ".join(cors.allow_methods)))
    if cors.allow_headers:
        headers.append(("access-control-allow-headers", ", ".join(cors.allow_headers)))
    if cors.allow_credentials:
        headers.append(("access-control-allow-credentials", "true"))
    if cors.max_age_s is not None:
        headers.append(("access-control-max-age", str(cors.max_age_s)))
    return headers + _vary(allow)


def response_headers(cors: UrlCors, origin: str) -> list[tuple[str, str]]:
    """The CORS headers the URL adds to a response to a request from `origin`."""
    allow = allowed_origin(cors, origin)
    if allow is None:
        return []
    headers = [("access-control-allow-origin", allow)]
    if cors.allow_credentials:
        headers.append(("access-control-allow-credentials", "true"))
    if cors.expose_headers:
        headers.append(("access-control-expose-headers", ", ".join(cors.expose_headers)))
    return headers + _vary(allow)


def with_cors(function_headers: list[tuple[str, str]], added: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The function's headers with the URL's CORS headers in place of any of the same name."""
    names = {name for name, _ in added if name != "vary"}
    return [(k, v) for k, v in function_headers if k.lower() not in names] + added


# ------------------------------------------------------------------ events and answers (pure)


# ------------------------------------------------------------------ the server


def _message(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"Message": message}, status_code=status, headers=headers or None)


def _encoded(pairs: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in pairs]


def _split(path: str) -> tuple[str, str]:
    """`/<name>/<rest>` -> (`<name>`, `/<rest>`); `/<name>` -> (`<name>`, `/`)."""
    name, _, rest = path[1:].partition("/")
    return name, f"/{rest}"


def app(
    functions: tuple[FunctionSpec, ...] | list[FunctionSpec],
    runtimes: dict[str, FunctionRuntime],
    report: Any,
    region: str,
    credentials: Credentials | None,
) -> Starlette:
    """The ASGI app serving the URL of every function in `functions` that declares one."""
    urls: dict[str, FunctionUrl] = {fn.lambda_name: fn.url for fn in functions if fn.url is not None}
    known = ", ".join(f"/{name}/" for name in urls) or "none"

    async def traced(request: Request) -> Response:
        """`handle` in a span of the request (the caller's trace when it sends X-Amzn-Trace-Id)."""
        trace = request.headers.get("x-amzn-trace-id")
        span = recorder.http_request("Function URL", request.method, request.url.path, trace)
        return await recorder.responded(span, handle(request, span.header))

    async def handle(request: Request, trace: str) -> Response:
        raw_path = (request.scope.get("raw_path") or request.scope["path"].encode()).decode("latin-1")
        raw_name, raw_rest = _split(raw_path)
        _, path = _split(request.scope["path"])
        name = unquote(raw_name)
        url = urls.get(name)
        if url is None:
            return _message(404, f"no function URL at /{name}/ (this template's: {known})")
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in request.scope["headers"]]
        origin = request.headers.get("origin")
        if (
            url.cors is not None
            and request.method == "OPTIONS"
            and origin is not None
            and "access-control-request-method" in request.headers
        ):  # a browser's preflight: the URL answers it, the function is not invoked
            response = Response(status_code=200)
            response.raw_headers += _encoded(preflight_headers(url.cors, origin))
            return response
        try:
            body = await read_limited(request, SYNC_PAYLOAD_LIMIT)
        except TooLarge:
            return _message(413, "Request Entity Too Large")
        raw_query = request.scope.get("query_string", b"").decode("latin-1")
        identity = None
        if url.auth_type == "AWS_IAM":
            signed = SignedRequest(request.method, raw_path, raw_query, headers, body)
            try:
                identity = caller_identity(verify_sigv4(signed, credentials, region))
            except Forbidden as exc:
                LOG.info(f"function URL of {name}: 403 Forbidden: {exc}")
                return _message(403, "Forbidden", **{"x-amzn-ErrorType": "AccessDeniedException"})
        server = request.scope.get("server")
        http_request = HttpRequest(
            method=request.method,
            path=path,
            raw_path=raw_rest,
            raw_query=raw_query,
            headers=headers,
            body=body,
            source_ip=request.client.host if request.client else "127.0.0.1",
            port=int(server[1]) if server and server[1] is not None else port(),
        )
        encoded = json.dumps(url_event(name, region, http_request, identity)).encode()
        if len(encoded) > SYNC_PAYLOAD_LIMIT:  # the event as the function gets it (a body's escapes grow it)
            return _message(413, "Request Entity Too Large")
        started = time.perf_counter()
        try:
            result = await recorder.invocation(
                name,
                recorder.onward(trace, name),
                lambda header: runtimes[name].invoke(encoded, trace_id=header),
                f"function-url:{request.method} {path}",
            )
        except Throttled:
            return _message(429, "Rate Exceeded.", **{"x-amzn-ErrorType": "TooManyRequestsException"})
        source = f"function-url:{request.method} {path}"
        try:
            if result.function_error:
                raise BadResponse(f"function error {result.function_error}")
            answer = url_response(result.payload)
        except BadResponse as exc:
            duration = (time.perf_counter() - started) * 1000
            report(source, name, result.request_id, 1, duration, f"bad gateway: {exc}")
            return _message(502, "Internal Server Error", **{"x-amzn-RequestId": result.request_id})
        report(source, name, result.request_id, 1, result.duration_ms, f"ok ({answer.status})", cold=result.cold_start)
        pairs = answer.headers
        if url.cors is not None and origin is not None:
            pairs = with_cors(pairs, response_headers(url.cors, origin))
        response = Response(answer.body, status_code=answer.status)
        response.raw_headers += _encoded([*pairs, ("x-amzn-requestid", result.request_id)])
        return response

    return Starlette(routes=[Route("/{anything:path}", traced, methods=METHODS)])
