"""The plane's doors: loopback Host names only, and no cross-site browser requests to control
surfaces (a "simple" text/plain POST from a page needs no preflight)."""

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from lambda_local.http.doors import hostname, locked, own_origins


async def ok(request):  # type: ignore[no-untyped-def]
    return PlainTextResponse("reached")


ROUTES = [Route(path, ok, methods=["POST"]) for path in ("/x", "/_local/functions/f/debug", "/_local/aws/sqs")]


def status(
    control: bool,
    headers: dict[str, str],
    base: str = "http://127.0.0.1:3001",
    path: str = "/x",
    peer: str = "127.0.0.1",
    peers: tuple[str, ...] = ("127.0.0.1", "::1"),
) -> tuple[int, str]:
    app = locked(Starlette(routes=ROUTES), control=control, origins=own_origins([3001]), peers=peers)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            return await client.post(path, content=b"{}", headers=headers)

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
        # another loopback port: the AWS endpoint serves stored objects as pages, API Gateway what functions return
        {"Origin": "http://127.0.0.1:5000"},
        {"Origin": "http://localhost:3000", "Sec-Fetch-Site": "same-site"},
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
        {"Origin": "http://127.0.0.1:3001", "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},  # typed in the address bar
    ],
)
def test_the_planes_own_pages_and_non_browser_clients_reach_control_surfaces(headers: dict[str, str]) -> None:
    assert status(True, headers) == (200, "reached")


def test_allowed_origins_open_a_site_deliberately(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDA_LOCAL_ALLOWED_ORIGINS", "https://tools.example")
    assert status(True, {"Origin": "https://tools.example"}) == (200, "reached")


def test_hostname_drops_the_port() -> None:
    assert [hostname(h) for h in ("[::1]:3001", "localhost:1", "::1", "a.b")] == ["::1", "localhost", "::1", "a.b"]


def test_control_endpoints_refuse_a_function_container_which_may_still_invoke_and_use_its_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAMBDA_LOCAL_ALLOWED_HOSTS", "lambda")
    docker = ("127.0.0.1", "172.18.0.1")  # Docker mode: loopback and the compose network's gateway (the host)
    code, body = status(
        True, {"Host": "lambda:3001"}, path="/_local/functions/f/debug", peer="172.18.0.7", peers=docker
    )
    assert code == 403 and "user's tools only" in body and "reached" not in body
    assert status(True, {}, path="/_local/functions/f/debug", peer="172.18.0.1", peers=docker) == (200, "reached")
    assert status(True, {}, path="/x", peer="172.18.0.7", peers=docker) == (200, "reached")  # Invoke, as in AWS
    assert status(True, {}, path="/_local/aws/sqs", peer="172.18.0.7", peers=docker) == (200, "reached")


def test_control_endpoints_refuse_a_peer_off_this_machine_when_the_plane_listens_wider() -> None:
    code, body = status(True, {}, path="/_local/functions/f/debug", peer="192.168.1.20")
    assert code == 403 and "user's tools only" in body
