"""API Gateway's pure parts: routes and authorizers from a template, the two payload formats, the
response mapping, and the development tokens."""

import asyncio
import base64
import json
from pathlib import Path
from types import SimpleNamespace

import httpx
import jwt
import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from lambda_local.environments.instance import InvokeResult
from lambda_local.events.api_gateway import (
    BadResponse,
    HttpRequest,
    http_event,
    http_response,
    is_binary,
    rest_event,
    rest_response,
)
from lambda_local.http import api_gateway
from lambda_local.http.tokens import dev_secret, dev_token, template_token, verify
from lambda_local.providers import ApiRoute, Authorizer, TemplateError, load, parse
from tests.support.probe_plane import TEMPLATE

AUTH = Authorizer("Users", "https://issuer.example", ("client-1",))


def request(**overrides: object) -> HttpRequest:
    values = {
        "method": "GET",
        "path": "/items/a b",
        "raw_path": "/items/a%20b",
        "raw_query": "x=1&x=2&flag=",
        "headers": [("host", "localhost:3000"), ("cookie", "a=1; b=2"), ("x-multi", "1"), ("x-multi", "2")],
        "body": b"",
        "source_ip": "127.0.0.1",
    }
    return HttpRequest(**(values | overrides))  # type: ignore[arg-type]


def test_routes_come_from_the_template_with_their_authorizers() -> None:
    routes = {(r.kind, r.method, r.path): r for r in load(TEMPLATE).routes}
    assert set(routes) == {
        ("rest", "ANY", "/rest/{proxy+}"),
        ("rest", "GET", "/open"),
        ("http", "ANY", "/http/{item}"),
        ("http", "GET", "/plain"),
    }
    assert routes[("rest", "ANY", "/rest/{proxy+}")].authorizer.issuer.endswith("/us-east-1_local")  # DefaultAuthorizer
    assert routes[("rest", "GET", "/open")].authorizer is None  # Auth: Authorizer: NONE
    assert routes[("http", "ANY", "/http/{item}")].authorizer.audience == ("probe-client",)
    assert routes[("http", "GET", "/plain")].authorizer is None
    assert routes[("http", "GET", "/plain")].payload_version == "2.0"
    assert routes[("rest", "GET", "/open")].payload_version == "1.0"
    assert routes[("rest", "GET", "/open")].binary_media_types == ("application/octet-stream",)  # application~1...
    assert routes[("http", "GET", "/plain")].binary_media_types == ()


def test_literal_paths_win_over_parameters_and_greedy_paths() -> None:
    def route(path: str) -> ApiRoute:
        return ApiRoute("http", "Api", path, "GET", "f", "2.0", None)

    ordered = sorted([route("/{proxy+}"), route("/items/{id}"), route("/items/new")], key=lambda r: r.precedence)
    assert [r.path for r in ordered] == ["/items/new", "/items/{id}", "/{proxy+}"]
    assert route("/files/{proxy+}").starlette_path == "/files/{proxy:path}"


def test_an_undeclared_authorizer_is_named() -> None:
    data = json.loads(json.dumps(load(TEMPLATE).data))
    data["Resources"]["HttpEcho"]["Properties"]["Events"]["Echo"]["Properties"]["Auth"]["Authorizer"] = "Nope"
    with pytest.raises(TemplateError, match="'Nope' is not declared on ProbeHttpApi"):
        parse(data, TEMPLATE.parent / "functions")


def test_rest_event_keeps_every_value_and_passes_claims_as_strings() -> None:
    route = ApiRoute("rest", "MyApi", "/items/{id}", "GET", "f", "1.0", AUTH)
    event = rest_event(route, request(), {"id": "a b"}, {"sub": "u1", "exp": 123, "groups": ["a", "b"]})
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "flag": [""]}
    assert event["queryStringParameters"] == {"x": "2", "flag": ""}
    assert event["multiValueHeaders"]["X-Multi"] == ["1", "2"] and event["headers"]["X-Multi"] == "2"
    assert event["requestContext"]["authorizer"]["claims"] == {"sub": "u1", "exp": "123", "groups": "[a b]"}
    assert event["body"] is None and event["isBase64Encoded"] is False
    assert event["requestContext"]["path"] == "/Prod/items/a b"


def test_http_event_joins_repeated_values_and_separates_cookies() -> None:
    route = ApiRoute("http", "MyApi", "/items/{id}", "GET", "f", "2.0", None)
    event = http_event(route, request(), {"id": "a b"}, None)
    assert event["headers"]["x-multi"] == "1,2" and "cookie" not in event["headers"]
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["queryStringParameters"] == {"x": "1,2", "flag": ""}
    assert event["rawPath"] == "/items/a%20b" and event["rawQueryString"] == "x=1&x=2&flag="
    assert "body" not in event and "authorizer" not in event["requestContext"]
    assert event["routeKey"] == "GET /items/{id}" == event["requestContext"]["routeKey"]


@pytest.mark.parametrize(
    ("content_type", "body", "encoded"),
    [
        ("application/json", b'{"a": 1}', False),
        ("text/plain; charset=utf-8", "café".encode(), False),
        ("application/vnd.api+json", b"{}", False),
        ("image/png", b"\x89PNG", True),
        ("application/octet-stream", b"abc", True),
        ("text/plain", b"\xff\xfe", True),  # not UTF-8: base64 rather than a broken string
    ],
)
def test_binary_bodies_are_base64(content_type: str, body: bytes, encoded: bool) -> None:
    route = ApiRoute("http", "MyApi", "/x", "POST", "f", "2.0", None)
    event = http_event(route, request(headers=[("content-type", content_type)], body=body), {}, None)
    assert event["isBase64Encoded"] is encoded
    assert (base64.b64decode(event["body"]) if encoded else event["body"].encode()) == body


REST = ApiRoute("rest", "MyApi", "/items/{id}", "GET", "f", "1.0", None)
HTTP = ApiRoute("http", "MyApi", "/items/{id}", "GET", "f", "2.0", None)


def test_rest_header_names_are_canonical_and_http_api_names_lower_case() -> None:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
    headers = [("content-type", "application/json"), ("authorization", "Bearer t"), ("x-amzn-trace-id", "Root=1")]
    rest = rest_event(REST, request(headers=headers), {}, None)
    assert rest["headers"]["Content-Type"] == "application/json" and rest["headers"]["Authorization"] == "Bearer t"
    assert rest["multiValueHeaders"]["X-Amzn-Trace-Id"] == ["Root=1"]
    assert rest["headers"].keys() == rest["multiValueHeaders"].keys()
    assert all(part[:1].isupper() for name in rest["headers"] for part in name.split("-"))
    assert APIGatewayProxyEvent(rest).headers["content-type"] == "application/json"  # Powertools: any case
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
    http = http_event(HTTP, request(headers=headers), {}, None)
    assert {"content-type", "authorization", "x-amzn-trace-id"} <= http["headers"].keys()
    assert all(name == name.lower() for name in http["headers"])


def test_rest_identity_has_every_key_null_when_unused() -> None:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
    identity = rest_event(REST, request(headers=[("user-agent", "curl/8")]), {}, None)["requestContext"]["identity"]
    assert identity == {
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
        "sourceIp": "127.0.0.1",
        "user": None,
        "userAgent": "curl/8",
        "userArn": None,
    }


def test_forwarded_headers_name_the_client_port_and_protocol() -> None:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
    plain = request(headers=[("host", "localhost:3000")], source_ip="10.0.0.7", port=3000)
    rest = rest_event(REST, plain, {}, None)
    assert (rest["headers"]["X-Forwarded-For"], rest["headers"]["X-Forwarded-Port"]) == ("10.0.0.7", "3000")
    assert rest["headers"]["X-Forwarded-Proto"] == "http"
    assert rest["multiValueHeaders"]["X-Forwarded-For"] == ["10.0.0.7"]
    # a client's own X-Forwarded-For gets the client's IP appended; its X-Forwarded-Port/Proto are replaced
    proxied = request(
        headers=[("x-forwarded-for", "203.0.113.9"), ("x-forwarded-proto", "https")], source_ip="10.0.0.7", port=3000
    )
    rest = rest_event(REST, proxied, {}, None)
    assert rest["multiValueHeaders"]["X-Forwarded-For"] == ["203.0.113.9, 10.0.0.7"]
    assert rest["multiValueHeaders"]["X-Forwarded-Proto"] == ["http"]
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
    http = http_event(HTTP, proxied, {}, None)["headers"]
    assert (http["x-forwarded-for"], http["x-forwarded-port"], http["x-forwarded-proto"]) == (
        "203.0.113.9, 10.0.0.7",
        "3000",
        "http",
    )


@pytest.mark.parametrize(
    ("binary_media_types", "content_type", "encoded"),
    [
        ((), "application/octet-stream", False),  # no binary media types: everything is text
        (("image/png",), "image/png", True),
        (("image/png",), "IMAGE/PNG; q=1", True),
        (("image/png",), "image/jpeg", False),
        (("image/*",), "image/jpeg", True),
        (("image/*",), "application/json", False),
        (("*/*",), "application/json", True),
        (("*/*",), "", True),
        (("application/octet-stream",), "", False),
    ],
)
def test_rest_bodies_are_base64_exactly_for_the_apis_binary_media_types(
    binary_media_types: tuple[str, ...], content_type: str, encoded: bool
) -> None:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html
    route = ApiRoute("rest", "MyApi", "/x", "POST", "f", "1.0", None, binary_media_types)
    body = b"\x89PNG\r\n\x1a\n\xff"
    headers = [("content-type", content_type)] if content_type else []
    event = rest_event(route, request(headers=headers, body=body), {}, None)
    assert event["isBase64Encoded"] is encoded
    if encoded:
        assert base64.b64decode(event["body"]) == body
    else:  # UTF-8 text, the bytes that are not UTF-8 replaced as API Gateway does
        assert event["body"] == body.decode("utf-8", errors="replace") and "\ufffd" in event["body"]
    assert is_binary(content_type, binary_media_types) is encoded


def test_rest_text_bodies_stay_text_and_an_empty_body_is_null() -> None:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html
    route = ApiRoute("rest", "MyApi", "/x", "POST", "f", "1.0", None, ("image/*",))
    text = rest_event(
        route, request(headers=[("content-type", "application/json")], body='{"é": 1}'.encode()), {}, None
    )
    assert (text["body"], text["isBase64Encoded"]) == ('{"é": 1}', False)
    empty = rest_event(route, request(headers=[("content-type", "image/png")], body=b""), {}, None)
    assert (empty["body"], empty["isBase64Encoded"]) == (None, False)


def test_empty_parameters_are_null_in_payload_1_and_left_out_in_payload_2() -> None:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
    bare = request(raw_query="", headers=[])
    rest = rest_event(REST, bare, {}, None)
    for key in ("queryStringParameters", "multiValueQueryStringParameters", "pathParameters", "stageVariables"):
        assert key in rest and rest[key] is None, key
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
    http = http_event(HTTP, bare, {}, None)
    for key in ("queryStringParameters", "pathParameters", "stageVariables", "cookies", "body"):
        assert key not in http, key


def test_payload_2_shorthand_and_cookies() -> None:
    assert http_response(b'{"ok": true}').status == 200
    assert json.loads(http_response(b'{"ok": true}').body) == {"ok": True}
    assert http_response(b'"hello"').body == b"hello"
    answer = {"statusCode": 302, "headers": {"Location": "/x"}, "cookies": ["a=1", "b=2"]}
    mapped = http_response(json.dumps(answer).encode())
    assert mapped.status == 302 and ("set-cookie", "b=2") in mapped.headers and ("Location", "/x") in mapped.headers


def test_payload_1_response_mapping() -> None:
    # https://docs.aws.amazon.com/apigateway/latest/developerguide/lambda-proxy-binary-media.html
    answer = {
        "statusCode": 201,
        "headers": {"X-One": "1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": base64.b64encode(b"\x00\x01").decode(),
        "isBase64Encoded": True,
    }
    mapped = rest_response(json.dumps(answer).encode())
    assert (mapped.status, mapped.body) == (201, b"\x00\x01")
    assert mapped.headers == [("X-One", "1"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]


@pytest.mark.parametrize(
    "answer",
    [b'"just a string"', b'{"body": "no status"}', b'{"statusCode": 200, "body": {"not": "a string"}}', b"not json"],
)
def test_bad_rest_answers_are_refused(answer: bytes) -> None:
    with pytest.raises(BadResponse):
        rest_response(answer)


def test_tokens_are_checked_for_signature_issuer_audience_and_expiry() -> None:
    good = dev_token({"sub": "u1"}, AUTH)
    assert verify(f"Bearer {good}", AUTH)["sub"] == "u1"
    for bad in (
        dev_token({"sub": "u1", "aud": "other"}, AUTH),
        dev_token({"sub": "u1", "iss": "https://elsewhere"}, AUTH),
        dev_token({"sub": "u1"}, AUTH, lifetime_s=-10),
        jwt.encode(
            {"sub": "u1", "exp": 9999999999, "iss": AUTH.issuer, "aud": "client-1"},
            "another-development-key-of-32-bytes!",
        ),
    ):
        with pytest.raises(jwt.InvalidTokenError):
            verify(f"Bearer {bad}", AUTH)
    with pytest.raises(jwt.InvalidTokenError):
        verify(None, AUTH)


def test_one_template_token_passes_every_authorizer_sharing_an_issuer() -> None:
    template = load(TEMPLATE)
    token = template_token(template, {"sub": "alice"})
    for route in template.routes:
        if route.authorizer is not None:
            assert verify(f"Bearer {token}", route.authorizer)["sub"] == "alice"
    with pytest.raises(TemplateError, match="no authorizer 'Nope'"):
        template_token(template, {"sub": "alice"}, "Nope")
    project = template_token(load(), {"sub": "alice"})  # the status API's user pool, by its local name
    [status] = [r for r in load().routes if r.authorizer is not None]
    assert status.authorizer.issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_localusers"
    assert verify(f"Bearer {project}", status.authorizer)["sub"] == "alice"


def test_each_stack_signs_with_a_key_of_its_own_kept_private_in_its_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAMBDA_LOCAL_JWT_SECRET", raising=False)
    monkeypatch.setenv("LAMBDA_LOCAL_STATE", str(tmp_path / "one"))
    first = dev_secret()
    assert first == dev_secret() and len(first) >= 40  # made once, then read
    key = tmp_path / "one" / "jwt-dev-key"
    assert key.stat().st_mode & 0o777 == 0o600
    token = dev_token({"sub": "u1"}, AUTH)
    monkeypatch.setenv("LAMBDA_LOCAL_STATE", str(tmp_path / "two"))
    assert dev_secret() != first
    with pytest.raises(jwt.InvalidSignatureError):  # another stack's token
        verify(f"Bearer {token}", AUTH)
    monkeypatch.setenv("LAMBDA_LOCAL_JWT_SECRET", "given")
    assert dev_secret() == "given"


class SlowRuntime:
    """A function that runs past the gateway's timeout, as a fake of FunctionRuntime.invoke."""

    fn = SimpleNamespace(tenant_isolation=False)

    def __init__(self, seconds: float) -> None:
        self.seconds, self.finished, self.cancelled = seconds, False, False

    async def invoke(self, payload: bytes, tenant: str | None = None, trace_id: str | None = None) -> InvokeResult:
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        self.finished = True
        return InvokeResult(b'{"statusCode": 200, "body": "late"}', None, "late-request", "", self.seconds * 1000)


@pytest.mark.parametrize(("path", "status"), [("/open", 504), ("/plain", 503)])
def test_the_gateway_timeout_answers_the_client_and_lets_the_function_run_to_its_end(
    monkeypatch: pytest.MonkeyPatch, path: str, status: int
) -> None:
    monkeypatch.setattr(api_gateway, "REST_TIMEOUT_S", 0.05)
    monkeypatch.setattr(api_gateway, "HTTP_TIMEOUT_S", 0.05)
    routes = load(TEMPLATE).routes
    runtime = SlowRuntime(0.3)
    lines: list[str] = []
    runtimes = {route.function: runtime for route in routes}
    app = api_gateway.app(routes, runtimes, lambda *args, **kwargs: lines.append(str(args[5])))  # type: ignore[arg-type]

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:3000"
        ) as client:
            answer = await client.get(path)
            assert not runtime.finished and not runtime.cancelled  # answered while the function still runs
            await asyncio.sleep(0.5)
            return answer

    assert asyncio.run(call()).status_code == status
    assert runtime.finished and not runtime.cancelled
    assert lines == ["ok after the gateway timed out"]
