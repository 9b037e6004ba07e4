"""Function URLs: `FunctionUrlConfig` read from the template, SigV4 verification for AWS_IAM, the event
a URL sends, the answer mapping, CORS, and the app that serves them (runtimes faked)."""

import asyncio
import copy
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambda_local.environments import compose
from lambda_local.environments.instance import InvokeResult
from lambda_local.environments.pool import Throttled
from lambda_local.events.api_gateway import HttpRequest
from lambda_local.events.function_url import url_event, url_id, url_response
from lambda_local.http import function_urls
from lambda_local.http.function_urls import Forbidden, SignedRequest, caller_identity, preflight_headers, verify_sigv4
from lambda_local.providers import ROOT, TemplateError, UrlCors, load, load_yaml, parse
from tests.support.probe_plane import TEMPLATE

CREDENTIALS = Credentials("testing", "testing")  # local.env's
REGION = "us-east-1"
BASE = load_yaml()


def parsed_url(config: Any, globals_config: Any = None) -> Any:
    data = copy.deepcopy(BASE)
    data["Resources"]["Probe"] = {
        "Type": "AWS::Serverless::Function",
        "Metadata": {"DockerBuildArgs": {"FUNCTION": "weather-api"}},
        "Properties": {"PackageType": "Image", "FunctionName": "probe"}
        | ({"FunctionUrlConfig": config} if config is not None else {}),
    }
    if globals_config is not None:
        data.setdefault("Globals", {}).setdefault("Function", {})["FunctionUrlConfig"] = globals_config
    return parse(data, ROOT / "functions").function("probe").url


# ------------------------------------------------------------------ the provider


def test_the_probe_templates_urls_are_read_whole() -> None:
    urls = {fn.lambda_name: fn.url for fn in load(TEMPLATE).functions if fn.url is not None}
    assert set(urls) == {"probeUrlIam", "probeUrlOpen"}
    assert urls["probeUrlIam"].auth_type == "AWS_IAM" and urls["probeUrlIam"].cors is None
    assert urls["probeUrlOpen"].auth_type == "NONE" and urls["probeUrlOpen"].invoke_mode == "BUFFERED"
    assert urls["probeUrlOpen"].cors == UrlCors(
        allow_origins=("https://app.example",),
        allow_methods=("GET", "POST"),
        allow_headers=("content-type", "x-probe"),
        expose_headers=("x-probe",),
        allow_credentials=True,
        max_age_s=300,
    )
    assert all(fn.url is None for fn in load().functions)  # the project's template declares none


def test_a_function_without_a_url_config_has_none_and_globals_merge_with_the_functions_own() -> None:
    assert parsed_url(None) is None
    url = parsed_url({"Cors": {"AllowOrigins": ["*"], "AllowMethods": ["get", "*"]}}, {"AuthType": "AWS_IAM"})
    assert url.auth_type == "AWS_IAM" and url.cors.allow_origins == ("*",)
    assert url.cors.allow_methods == ("GET", "*")  # upper case, as CloudFormation's allowed values
    assert parsed_url({"AuthType": "NONE"}, {"AuthType": "AWS_IAM"}).auth_type == "NONE"


def test_response_streaming_is_read_and_served_buffered_with_a_warning() -> None:
    url = parsed_url({"AuthType": "NONE", "InvokeMode": "RESPONSE_STREAM"})
    assert url.invoke_mode == "RESPONSE_STREAM"
    data = copy.deepcopy(BASE)
    data["Resources"]["Probe"] = {
        "Type": "AWS::Serverless::Function",
        "Metadata": {"DockerBuildArgs": {"FUNCTION": "weather-api"}},
        "Properties": {"PackageType": "Image", "FunctionName": "probe", "FunctionUrlConfig": {"AuthType": "NONE"}},
    }
    data["Resources"]["Probe"]["Properties"]["FunctionUrlConfig"]["InvokeMode"] = "RESPONSE_STREAM"
    [warning] = function_urls.warnings(parse(data, ROOT / "functions").functions)
    assert warning.startswith("probe: FunctionUrlConfig.InvokeMode RESPONSE_STREAM is served buffered")


AT = r"template\.yaml: Probe\.Properties\.FunctionUrlConfig"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("AWS_IAM", rf"{AT}: must be a mapping with AuthType \(NONE or AWS_IAM\), got AWS_IAM"),
        ({}, rf"{AT}\.AuthType: required \(NONE or AWS_IAM\)"),
        ({"AuthType": "IAM"}, rf"{AT}\.AuthType: must be NONE or AWS_IAM, got IAM"),
        ({"AuthType": {"Ref": "Auth"}}, rf"{AT}\.AuthType: must be NONE or AWS_IAM, got !Ref Auth"),
        ({"AuthType": "NONE", "Qualifier": "live"}, rf"{AT}: unknown property Qualifier"),
        ({"AuthType": "NONE", "InvokeMode": "STREAM"}, rf"{AT}\.InvokeMode: must be BUFFERED or RESPONSE_STREAM"),
        ({"AuthType": "NONE", "Cors": ["*"]}, rf"{AT}\.Cors: must be a mapping of AllowCredentials"),
        ({"AuthType": "NONE", "Cors": {"AllowOrigin": ["*"]}}, rf"{AT}\.Cors: unknown property AllowOrigin"),
        (
            {"AuthType": "NONE", "Cors": {"AllowOrigins": "https://a.example"}},
            rf"{AT}\.Cors\.AllowOrigins: must be a list of literal strings .*, got https://a\.example",
        ),
        (
            {"AuthType": "NONE", "Cors": {"AllowOrigins": [{"Ref": "Site"}]}},
            rf"{AT}\.Cors\.AllowOrigins: must be a list of literal strings .*, got \[!Ref Site\]",
        ),
        (
            {"AuthType": "NONE", "Cors": {"AllowMethods": ["GET", "TRACE"]}},
            rf"{AT}\.Cors\.AllowMethods: 'TRACE' is not one of GET, PUT, HEAD, POST, PATCH, DELETE, \*",
        ),
        (
            {"AuthType": "NONE", "Cors": {"AllowMethods": ["GET"] * 7}},
            rf"{AT}\.Cors\.AllowMethods: at most 6 values, got 7",
        ),
        (
            {"AuthType": "NONE", "Cors": {"AllowCredentials": "yes"}},
            rf"{AT}\.Cors\.AllowCredentials: must be true or false, got yes",
        ),
        ({"AuthType": "NONE", "Cors": {"MaxAge": 90000}}, rf"{AT}\.Cors\.MaxAge: at most 86400 seconds, got 90000"),
        ({"AuthType": "NONE", "Cors": {"MaxAge": -1}}, rf"{AT}\.Cors\.MaxAge: must be a whole number, got -1"),
    ],
)
def test_a_bad_url_config_is_one_error_naming_the_place(config: Any, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parsed_url(config)


# ------------------------------------------------------------------ SigV4


def signed(
    method: str = "POST",
    path: str = "/probeUrlIam/items/a%20b",
    query: str = "z=1&a=x",
    body: bytes = b'{"x": 1}',
    credentials: Credentials = CREDENTIALS,
    region: str = REGION,
    service: str = "lambda",
    params: list[tuple[str, str]] | None = None,
    content_hash: bool = False,
) -> SignedRequest:
    """A request as a client signs it with botocore's SigV4Auth and sends it (Host added by its HTTP
    client); `content_hash`: with X-Amz-Content-SHA256 signed too, as S3-style signers send it."""
    url = f"http://127.0.0.1:3002{path}" + (f"?{query}" if query and params is None else "")
    given = {"content-type": "application/json"}
    if content_hash:
        given["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    request = AWSRequest(method=method, url=url, data=body, params=params, headers=given)
    SigV4Auth(credentials, service, region).add_auth(request)
    if params is not None:  # what goes on the wire: the params form-encoded into the URL
        query = request.prepare().url.split("?", 1)[1]
    headers = [(k.lower(), v) for k, v in request.headers.items()] + [("host", "127.0.0.1:3002")]
    return SignedRequest(method, path, query, headers, body)


def changed(request: SignedRequest, **fields: Any) -> SignedRequest:
    return SignedRequest(**(request.__dict__ | fields))


def test_a_request_signed_with_the_local_credentials_passes() -> None:
    assert verify_sigv4(signed(), CREDENTIALS, REGION) == "testing"
    assert verify_sigv4(signed(method="GET", query="", body=b""), CREDENTIALS, REGION) == "testing"
    assert verify_sigv4(signed(content_hash=True), CREDENTIALS, REGION) == "testing"


def test_a_changed_body_fails_its_signed_content_hash() -> None:
    request = signed(content_hash=True)
    with pytest.raises(Forbidden, match="X-Amz-Content-SHA256 is not the body's SHA-256"):
        verify_sigv4(changed(request, body=b'{"x": 2}'), CREDENTIALS, REGION)
    unsigned_payload = [(k, "UNSIGNED-PAYLOAD" if k == "x-amz-content-sha256" else v) for k, v in request.headers]
    with pytest.raises(Forbidden, match="X-Amz-Content-SHA256 is not the body's SHA-256"):
        verify_sigv4(changed(request, headers=unsigned_payload), CREDENTIALS, REGION)


def test_a_query_signed_in_sigv4s_encoding_passes_too() -> None:
    # botocore signs request params URI-encoded (`a%20b%2Fc`) and sends them form-encoded (`a+b%2Fc`).
    request = signed(query="", params=[("q", "a b/c"), ("empty", "")])
    assert "q=a+b%2Fc" in request.raw_query
    assert verify_sigv4(request, CREDENTIALS, REGION) == "testing"


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda r: changed(r, body=b'{"x": 2}'), "the signature does not match"),
        (lambda r: changed(r, raw_query="z=1&a=y"), "the signature does not match"),
        (lambda r: changed(r, raw_path="/probeUrlIam/other"), "the signature does not match"),
        (lambda r: changed(r, method="PUT"), "the signature does not match"),
        (
            lambda r: changed(r, headers=[(k, "text/plain" if k == "content-type" else v) for k, v in r.headers]),
            "the signature does not match",
        ),
        (lambda r: changed(r, headers=[h for h in r.headers if h[0] != "authorization"]), "no Authorization header"),
    ],
)
def test_a_request_changed_after_signing_or_unsigned_is_forbidden(tamper: Any, reason: str) -> None:
    with pytest.raises(Forbidden, match=reason):
        verify_sigv4(tamper(signed()), CREDENTIALS, REGION)


@pytest.mark.parametrize(
    ("sign", "reason"),
    [  # signed when the test runs, not when it is collected: a signature older than 5 minutes is refused
        (lambda: signed(credentials=Credentials("testing", "not-the-secret")), "the signature does not match"),
        (lambda: signed(credentials=Credentials("AKIAOTHER", "testing")), "access key 'AKIAOTHER' is not the local"),
        (lambda: signed(region="eu-west-1"), "signed for region 'eu-west-1'"),
        (lambda: signed(service="execute-api"), "signed for service 'execute-api'"),
    ],
)
def test_a_wrong_key_secret_region_or_service_is_forbidden(sign: Any, reason: str) -> None:
    request_: SignedRequest = sign()
    with pytest.raises(Forbidden, match=reason):
        verify_sigv4(request_, CREDENTIALS, REGION)


def test_a_signature_older_or_newer_than_5_minutes_is_forbidden() -> None:
    request = signed()
    now = datetime.now(UTC)
    assert verify_sigv4(request, CREDENTIALS, REGION, now=now + timedelta(minutes=4)) == "testing"
    for skew in (timedelta(minutes=6), -timedelta(minutes=6)):
        with pytest.raises(Forbidden, match="more than 5 minutes from the plane's clock"):
            verify_sigv4(request, CREDENTIALS, REGION, now=now + skew)


def test_malformed_authorization_is_forbidden_with_a_reason() -> None:
    request = signed()

    def with_authorization(value: str) -> SignedRequest:
        return changed(request, headers=[(k, value if k == "authorization" else v) for k, v in request.headers])

    for value, reason in [
        ("Bearer abc", "is not AWS4-HMAC-SHA256"),
        ("AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/lambda/aws4_request", "has no SignedHeaders"),
        ("AWS4-HMAC-SHA256 Credential=testing, SignedHeaders=host;x-amz-date, Signature=00", "the Credential is not"),
    ]:
        with pytest.raises(Forbidden, match=reason):
            verify_sigv4(with_authorization(value), CREDENTIALS, REGION)
    with pytest.raises(Forbidden, match="no AWS_ACCESS_KEY_ID"):
        verify_sigv4(request, None, REGION)


def test_the_local_credentials_come_from_the_environment_else_local_env() -> None:
    found = function_urls.local_credentials({"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"})
    assert found is not None and (found.access_key, found.secret_key) == ("k", "s")
    fallback = function_urls.local_credentials({})
    assert fallback is not None and (fallback.access_key, fallback.secret_key) == ("testing", "testing")


# ------------------------------------------------------------------ the event and the answer


def http_request(**overrides: Any) -> HttpRequest:
    values = {
        "method": "POST",
        "path": "/items/a b",
        "raw_path": "/items/a%20b",
        "raw_query": "x=1&x=2",
        "headers": [("host", "127.0.0.1:3002"), ("user-agent", "curl/8"), ("cookie", "a=1; b=2")],
        "body": b'{"k": "v"}',
        "source_ip": "127.0.0.1",
        "port": 3002,
    }
    return HttpRequest(**(values | overrides))  # type: ignore[arg-type]


def test_the_event_has_the_function_urls_request_context() -> None:
    event = url_event("probeUrlIam", REGION, http_request(headers=[("content-type", "application/json")]), None)
    identifier = url_id("probeUrlIam", REGION)
    assert re.fullmatch(r"[a-z0-9]{32}", identifier) and identifier == url_id("probeUrlIam", REGION)
    assert identifier != url_id("probeUrlOpen", REGION)
    assert (event["version"], event["routeKey"], event["rawPath"], event["rawQueryString"]) == (
        "2.0",
        "$default",
        "/items/a%20b",
        "x=1&x=2",
    )
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert event["body"] == '{"k": "v"}' and event["isBase64Encoded"] is False
    assert "pathParameters" not in event
    context = event["requestContext"]
    assert context["accountId"] == "anonymous" and "authorizer" not in context  # AuthType NONE
    assert context["apiId"] == context["domainPrefix"] == identifier
    assert context["domainName"] == f"{identifier}.lambda-url.us-east-1.on.aws"
    assert context["routeKey"] == context["stage"] == "$default"
    assert context["http"] == {
        "method": "POST",
        "path": "/items/a b",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "",
    }
    assert re.fullmatch(r"[0-9a-f-]{36}", context["requestId"])
    assert list(context) == sorted(context)  # AWS's order


def test_an_aws_iam_event_names_the_caller() -> None:
    event = url_event("probeUrlIam", REGION, http_request(), caller_identity("testing"))
    context = event["requestContext"]
    iam = context["authorizer"]["iam"]
    assert context["accountId"] == iam["accountId"] == "123456789012"
    assert set(iam) == {"accessKey", "accountId", "callerId", "cognitoIdentity", "principalOrgId", "userArn", "userId"}
    assert iam["accessKey"] == "testing" and iam["userArn"] == "arn:aws:iam::123456789012:user/local"
    assert iam["callerId"] == iam["userId"] and re.fullmatch(r"AIDA[A-Z2-7]{17}", iam["userId"])
    assert iam["cognitoIdentity"] is None and iam["principalOrgId"] is None
    assert event["cookies"] == ["a=1", "b=2"] and "cookie" not in event["headers"]
    assert event["headers"]["x-forwarded-port"] == "3002"


def test_answers_map_as_function_urls_map_them() -> None:
    string = url_response(b'"Hello, world!"')  # AWS's example: the JSON string, quotes and all
    assert (string.status, string.headers, string.body) == (
        200,
        [("content-type", "application/json")],
        b'"Hello, world!"',
    )
    assert url_response(b'{"message": "hi"}').body == b'{"message": "hi"}'
    custom = url_response(
        json.dumps(
            {"statusCode": 201, "headers": {"My-Custom-Header": "v"}, "body": "x", "cookies": ["c=1", "d=2"]}
        ).encode()
    )
    assert custom.status == 201 and custom.body == b"x"
    assert custom.headers == [("My-Custom-Header", "v"), ("set-cookie", "c=1"), ("set-cookie", "d=2")]


# ------------------------------------------------------------------ the app (runtimes faked)


class FakeRuntime:
    """Answers every invocation with `answer(event)`; or fails, or is throttled."""

    def __init__(self, error: bool = False, throttled: bool = False) -> None:
        self.events: list[dict[str, Any]] = []
        self.error, self.throttled = error, throttled

    async def invoke(
        self, payload: bytes, tail: bool = False, wait: bool = False, trace_id: str | None = None
    ) -> InvokeResult:
        event = json.loads(payload)
        self.events.append(event)
        if self.throttled:
            raise Throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
        if self.error:
            return InvokeResult(b'{"errorMessage": "boom"}', "Unhandled", "req-1", "", 1.0)
        answer = {
            "statusCode": 200,
            "headers": {"content-type": "application/json", "access-control-allow-origin": "*", "x-probe": "yes"},
            "body": json.dumps(event),
            "cookies": ["session=1"],
        }
        return InvokeResult(json.dumps(answer).encode(), None, "req-1", "", 1.0)


class Client:
    """Requests to the app in process (httpx's ASGI transport), one at a time."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3002") as http:
                return await http.request(method, path, **kwargs)

        return asyncio.run(call())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def options(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("OPTIONS", path, **kwargs)


def client(**runtime: FakeRuntime) -> tuple[Client, dict[str, FakeRuntime]]:
    runtimes = {"probeUrlIam": FakeRuntime(), "probeUrlOpen": FakeRuntime()} | runtime
    functions = load(TEMPLATE).functions
    app = function_urls.app(functions, runtimes, lambda *args, **kwargs: None, REGION, CREDENTIALS)  # type: ignore[arg-type]
    return Client(app), runtimes


ORIGIN = "https://app.example"


def test_a_preflight_is_answered_by_the_url_per_its_cors_and_never_invokes_the_function() -> None:
    http, runtimes = client()
    asked = {"origin": ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "x-probe"}
    response = http.options("/probeUrlOpen/items", headers=asked)
    assert response.status_code == 200 and response.content == b""
    assert {k: v for k, v in response.headers.items() if k.startswith("access-control-")} == {
        "access-control-allow-origin": ORIGIN,
        "access-control-allow-methods": "GET, POST",
        "access-control-allow-headers": "content-type, x-probe",
        "access-control-allow-credentials": "true",
        "access-control-max-age": "300",
    }
    assert response.headers["vary"] == "Origin"
    other = http.options("/probeUrlOpen/items", headers=asked | {"origin": "https://evil.example"})
    assert other.status_code == 200 and not any(k.startswith("access-control-") for k in other.headers)
    assert runtimes["probeUrlOpen"].events == []


def test_cors_headers_replace_the_functions_own_for_an_allowed_origin() -> None:
    http, runtimes = client()
    response = http.get("/probeUrlOpen/a%20b?x=1", headers={"origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN  # not the function's `*`
    assert response.headers["access-control-expose-headers"] == "x-probe"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["x-probe"] == "yes" and response.headers["set-cookie"] == "session=1"
    assert response.headers["x-amzn-requestid"] == "req-1"
    [event] = runtimes["probeUrlOpen"].events
    assert (event["rawPath"], event["requestContext"]["http"]["path"]) == ("/a%20b", "/a b")  # the name is not seen
    assert event["rawQueryString"] == "x=1" and event["requestContext"]["accountId"] == "anonymous"
    plain = http.get("/probeUrlOpen")  # no Origin: no CORS headers added; the function's stay
    assert plain.headers["access-control-allow-origin"] == "*"
    assert runtimes["probeUrlOpen"].events[-1]["rawPath"] == "/"


def test_an_iam_url_invokes_for_a_signed_request_and_forbids_an_unsigned_one() -> None:
    http, runtimes = client()
    unsigned = http.post("/probeUrlIam/items", content=b"{}")
    assert (unsigned.status_code, unsigned.json()) == (403, {"Message": "Forbidden"})
    assert unsigned.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert runtimes["probeUrlIam"].events == []
    url = "http://127.0.0.1:3002/probeUrlIam/items?a=1"
    request = AWSRequest(method="POST", url=url, data=b'{"n": 1}', headers={"content-type": "application/json"})
    SigV4Auth(CREDENTIALS, "lambda", REGION).add_auth(request)
    response = http.post("/probeUrlIam/items?a=1", content=b'{"n": 1}', headers=dict(request.headers.items()))
    assert response.status_code == 200, response.text
    [event] = runtimes["probeUrlIam"].events
    assert event["requestContext"]["authorizer"]["iam"]["accessKey"] == "testing"
    assert event["rawPath"] == "/items" and event["body"] == '{"n": 1}'


def test_errors_throttles_and_unknown_urls() -> None:
    http, _ = client(probeUrlOpen=FakeRuntime(error=True))
    failed = http.get("/probeUrlOpen/")
    assert (failed.status_code, failed.json()) == (502, {"Message": "Internal Server Error"})
    http, _ = client(probeUrlOpen=FakeRuntime(throttled=True))
    assert http.get("/probeUrlOpen/").status_code == 429
    missing = http.get("/probeNoop/")  # a function of the template without a URL
    assert missing.status_code == 404 and "/probeUrlIam/, /probeUrlOpen/" in missing.json()["Message"]


def test_preflight_headers_for_any_origin() -> None:
    cors = UrlCors(allow_origins=("*",), allow_methods=("*",))
    assert preflight_headers(cors, "https://x.example") == [
        ("access-control-allow-origin", "*"),
        ("access-control-allow-methods", "*"),
    ]


def test_compose_publishes_the_url_port_only_when_a_function_has_a_url() -> None:
    assert f'"127.0.0.1:{compose.URL_PORT}:{compose.URL_PORT}"' not in "\n".join(compose.lambda_service(load()))
    assert f'"127.0.0.1:{compose.URL_PORT}:{compose.URL_PORT}"' in "\n".join(compose.lambda_service(load(TEMPLATE)))
