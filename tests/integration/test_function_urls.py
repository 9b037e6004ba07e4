"""Function URLs through a second local plane serving the probe template (tests/support/probe): an
AWS_IAM URL that answers SigV4-signed requests only, and an open one (AuthType NONE) with CORS."""

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambda_local.environments.variables import LOCAL_ENV, read_env_file
from tests.support.probe_plane import ProbePlane, wait_for

pytestmark = pytest.mark.integration

URL_PORT = 3102  # the probe plane's, beside its 3100 (API Gateway) and 3101 (Invoke API)
BASE = f"http://127.0.0.1:{URL_PORT}"
LOCAL = read_env_file(LOCAL_ENV)  # the stack's credentials and region
CREDENTIALS = Credentials(LOCAL["AWS_ACCESS_KEY_ID"], LOCAL["AWS_SECRET_ACCESS_KEY"])
ORIGIN = "https://app.example"  # the open URL's AllowOrigins


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbePlane]:
    plane = ProbePlane(tmp_path_factory.mktemp("url-plane"), env={"LAMBDA_LOCAL_URL_PORT": str(URL_PORT)})
    plane.create_resources()
    plane.start()
    yield plane
    plane.stop()


class Answer:
    def __init__(self, response: Any) -> None:
        with response:
            self.status: int = response.status
            self.headers = response.headers
            self.body: bytes = response.read()

    def json(self) -> Any:
        return json.loads(self.body)


def call(method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
    """A plain HTTP request (urllib: Host, User-Agent and Content-Length added by the client)."""
    request = urllib.request.Request(f"{BASE}{path}", data=body, method=method, headers=headers or {})
    try:
        return Answer(urllib.request.urlopen(request, timeout=60))
    except urllib.error.HTTPError as error:
        return Answer(error)


def signature(method: str, path: str, body: bytes, credentials: Credentials = CREDENTIALS) -> dict[str, str]:
    """The headers botocore's SigV4Auth adds to a request to the function URL (service `lambda`)."""
    request = AWSRequest(method=method, url=f"{BASE}{path}", data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(credentials, "lambda", LOCAL["AWS_REGION"]).add_auth(request)
    return dict(request.headers.items())


def test_a_signed_request_gets_the_functions_answer(probe: ProbePlane) -> None:
    path, body = "/probeUrlIam/orders/7?x=1&x=2", b'{"amount": 3}'
    answer = call("POST", path, body, signature("POST", path, body))
    assert answer.status == 200, answer.body
    assert answer.headers["x-probe"] == "yes" and answer.headers["x-amzn-RequestId"]
    assert answer.headers.get_all("set-cookie") == ["session=abc123; Path=/; HttpOnly", "theme=dark"]
    event = answer.json()  # the probe echoes the event it got
    assert (event["version"], event["routeKey"], event["rawPath"], event["rawQueryString"]) == (
        "2.0",
        "$default",
        "/orders/7",
        "x=1&x=2",
    )
    assert event["queryStringParameters"] == {"x": "1,2"} and event["body"] == '{"amount": 3}'
    context = event["requestContext"]
    assert re.fullmatch(r"[a-z0-9]{32}\.lambda-url\.us-east-1\.on\.aws", context["domainName"])
    assert context["domainPrefix"] == context["apiId"] == context["domainName"].split(".")[0]
    assert context["routeKey"] == context["stage"] == "$default"
    assert context["http"]["method"] == "POST" and context["http"]["path"] == "/orders/7"
    iam = context["authorizer"]["iam"]
    assert iam["accessKey"] == CREDENTIALS.access_key and iam["accountId"] == context["accountId"] == "123456789012"
    assert iam["userArn"] == "arn:aws:iam::123456789012:user/local"
    [line] = wait_for(lambda: probe.deliveries("probeUrlIam"), 10, "the invocation's delivery line")
    assert line["source"] == "function-url:POST /orders/7" and line["outcome"] == "ok (200)"


def test_an_unsigned_or_badly_signed_request_is_forbidden(probe: ProbePlane) -> None:
    path, body = "/probeUrlIam/orders", b'{"amount": 3}'
    unsigned = call("POST", path, body, {"Content-Type": "application/json"})
    assert (unsigned.status, unsigned.json()) == (403, {"Message": "Forbidden"})
    changed = call("POST", path, b'{"amount": 300}', signature("POST", path, body))
    assert (changed.status, changed.json()) == (403, {"Message": "Forbidden"})
    wrong_secret = call("POST", path, body, signature("POST", path, body, Credentials(CREDENTIALS.access_key, "x")))
    assert wrong_secret.status == 403
    other_url = call("POST", "/probeUrlOpen/orders", body, signature("POST", path, body))  # signed for another path
    assert other_url.status == 200  # the open URL does not look at signatures
    log = probe.log()
    assert "function URL of probeUrlIam: 403 Forbidden: no Authorization header" in log
    assert "function URL of probeUrlIam: 403 Forbidden: the signature does not match" in log


def test_the_open_url_answers_plain_requests(probe: ProbePlane) -> None:
    answer = call("GET", "/probeUrlOpen/hello%20world?name=ada")
    assert answer.status == 200, answer.body
    event = answer.json()
    assert event["rawPath"] == "/hello%20world" and event["requestContext"]["http"]["path"] == "/hello world"
    assert event["queryStringParameters"] == {"name": "ada"}
    assert event["requestContext"]["accountId"] == "anonymous" and "authorizer" not in event["requestContext"]
    assert "access-control-allow-origin" not in answer.headers  # no Origin, no CORS headers
    root = call("GET", "/probeUrlOpen")
    assert root.status == 200 and root.json()["rawPath"] == "/"
    shorthand = call("GET", "/probeUrlOpen/plain")  # the probe answers a plain object: a 200 JSON body
    assert (shorthand.status, shorthand.headers["content-type"]) == (200, "application/json")
    assert shorthand.json() == {"shorthand": True, "routeKey": "$default"}
    assert call("GET", "/probeUrlOpen/x?status=418").status == 418
    failed = call("GET", "/probeUrlOpen/x?fail=1")
    assert (failed.status, failed.json()) == (502, {"Message": "Internal Server Error"})
    unknown = call("GET", "/probeNoop/")
    assert unknown.status == 404 and "/probeUrlIam/, /probeUrlOpen/" in unknown.json()["Message"]


def test_cors_preflight_is_answered_by_the_url_and_responses_carry_its_headers(probe: ProbePlane) -> None:
    asked = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-probe"}
    before = len(probe.deliveries("probeUrlOpen"))
    preflight = call("OPTIONS", "/probeUrlOpen/orders", headers=asked)
    assert (preflight.status, preflight.body) == (200, b"")
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert preflight.headers["access-control-allow-methods"] == "GET, POST"
    assert preflight.headers["access-control-allow-headers"] == "content-type, x-probe"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert preflight.headers["access-control-max-age"] == "300"
    elsewhere = call("OPTIONS", "/probeUrlOpen/orders", headers=asked | {"Origin": "https://evil.example"})
    assert elsewhere.status == 200 and "access-control-allow-origin" not in elsewhere.headers
    assert len(probe.deliveries("probeUrlOpen")) == before  # the function never saw a preflight
    answer = call("POST", "/probeUrlOpen/orders", b"{}", {"Origin": ORIGIN, "Content-Type": "application/json"})
    assert answer.status == 200
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert answer.headers["access-control-expose-headers"] == "x-probe"
    assert call("OPTIONS", "/probeUrlIam/orders", headers=asked).status == 403  # no Cors: a request like any other


def test_the_url_port_answers_loopback_host_names_only(probe: ProbePlane) -> None:
    refused = call("GET", "/probeUrlOpen/", headers={"Host": "evil.example"})
    assert refused.status == 403 and "LAMBDA_LOCAL_ALLOWED_HOSTS" in refused.json()["message"]
    assert f"function URL of probeUrlOpen at http://127.0.0.1:{URL_PORT}/probeUrlOpen/ (NONE)" in probe.log()
