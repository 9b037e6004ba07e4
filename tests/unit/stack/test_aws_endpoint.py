"""The local AWS endpoint's guard (stack/aws_endpoint.py): moto behind the plane's doors."""

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from stack.aws_endpoint import guarded


def moto(environ, start_response):  # type: ignore[no-untyped-def]
    return Response("reached")(environ, start_response)


def call(method: str = "GET", headers: dict[str, str] | None = None, host: str = "127.0.0.1:5000") -> Response:
    client = Client(guarded(moto, names=["aws"]), Response)
    return client.open("/photos/page.html", method=method, headers={"Host": host, **(headers or {})})


@pytest.mark.parametrize("host", ["127.0.0.1:5000", "localhost:5000", "[::1]:5000", "aws:5000"])
def test_loopback_names_and_the_compose_name_are_served(host: str) -> None:
    assert call(host=host).get_data(as_text=True) == "reached"


@pytest.mark.parametrize("host", ["evil.example:5000", "127.0.0.1.evil.example", "bucket.evil.example", ""])
def test_other_host_names_are_refused(host: str) -> None:
    answer = call(host=host)
    assert answer.status_code == 403 and "LAMBDA_LOCAL_ALLOWED_HOSTS" in answer.get_data(as_text=True)


def test_a_foreign_pages_preflight_and_simple_post_are_refused_without_cors_headers() -> None:
    preflight = call(
        "OPTIONS",
        {"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"},
    )
    assert preflight.status_code == 403 and "Access-Control-Allow-Origin" not in preflight.headers
    post = call("POST", {"Origin": "https://evil.example", "Content-Type": "text/plain"})
    assert post.status_code == 403 and "reached" not in post.get_data(as_text=True)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://127.0.0.1:3000", "Sec-Fetch-Site": "same-site"},  # a function's answer on API Gateway
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"},
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},
    ],
)
def test_other_origins_are_refused(headers: dict[str, str]) -> None:
    assert call("PUT", headers).status_code == 403


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("GET", {}),  # SDKs and curl
        ("PUT", {"Origin": "http://127.0.0.1:5000", "Sec-Fetch-Site": "same-origin"}),  # a page it serves
        ("GET", {"Sec-Fetch-Site": "same-origin"}),  # the weather page's config.json
        ("GET", {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}),  # a link the user follows
        ("GET", {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"}),  # typed in the address bar
    ],
)
def test_its_own_pages_navigations_and_non_browser_clients_are_served(method: str, headers: dict[str, str]) -> None:
    assert call(method, headers).get_data(as_text=True) == "reached"


def test_allowed_origins_open_a_site_deliberately(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDA_LOCAL_ALLOWED_ORIGINS", "https://tools.example")
    assert call("POST", {"Origin": "https://tools.example"}).get_data(as_text=True) == "reached"
