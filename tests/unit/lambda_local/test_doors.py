"""The plane's doors: loopback Host names only, and no cross-site browser requests to control
surfaces (a "simple" text/plain POST from a page needs no preflight)."""

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from lambda_local.doors import hostname, locked


async def ok(request):  # type: ignore[no-untyped-def]
    return PlainTextResponse("reached")


def status(control: bool, headers: dict[str, str], base: str = "http://127.0.0.1:3001") -> tuple[int, str]:
    app = locked(Starlette(routes=[Route("/x", ok, methods=["POST"])]), control=control)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as client:
            return await client.post("/x", content=b"{}", headers=headers)

    response = asyncio.run(call())
    return response.status_code, response.text


@pytest.mark.parametrize("host", ["localhost:3001", "127.0.0.1:3001", "[::1]:3001", "LOCALHOST", "127.0.0.1"])
def test_loopback_host_names_are_served(host: str) -> None:
    assert status(True, {"Host": host}) == (200, "reached")


@pytest.mark.parametrize("host", ["evil.example", "evil.example:3001", "127.0.0.1.evil.example", "lambda:3001", ""])
def test_other_host_names_are_refused_on_every_surface_naming_the_way_to_open_them(host: str) -> None:
    for control in (True, False):
        code, body = status(control, {"Host": host})
        assert code == 403 and "LAMBDA_LOCAL_ALLOWED_HOSTS" in body and "reached" not in body


def test_allowed_hosts_open_a_name_deliberately(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDA_LOCAL_ALLOWED_HOSTS", "lambda, other")
    assert status(True, {"Host": "lambda:3001"}) == (200, "reached")


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example", "Content-Type": "text/plain"},
        {"Origin": "null"},
        {"Origin": "http://localhost.evil.example:3001"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_cross_site_requests_to_control_surfaces_are_refused_but_reach_api_gateway(headers: dict[str, str]) -> None:
    code, body = status(True, headers)
    assert code == 403 and "cross-site" in body
    assert status(False, headers) == (200, "reached")  # API Gateway: the API's CORS decides, as in AWS


@pytest.mark.parametrize(
    "headers",
    [
        {},  # SDKs and curl
        {"Origin": "http://localhost:3001", "Sec-Fetch-Site": "same-origin"},  # the plane's own page
        {"Origin": "http://127.0.0.1:8080", "Sec-Fetch-Site": "same-site"},  # a page on this machine
        {"Sec-Fetch-Site": "none"},  # typed in the address bar
    ],
)
def test_loopback_origins_and_non_browser_clients_reach_control_surfaces(headers: dict[str, str]) -> None:
    assert status(True, headers) == (200, "reached")


def test_allowed_origins_open_a_site_deliberately(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDA_LOCAL_ALLOWED_ORIGINS", "https://tools.example")
    assert status(True, {"Origin": "https://tools.example"}) == (200, "reached")


def test_hostname_drops_the_port() -> None:
    assert [hostname(h) for h in ("[::1]:3001", "localhost:1", "::1", "a.b")] == ["::1", "localhost", "::1", "a.b"]
