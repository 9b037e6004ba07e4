"""Every listener the stack opens is locked to this machine and, for control, to this user's tools:
the local AWS endpoint, the runtimes and the debugger included (docs/security.md: "What each listener accepts")."""

import urllib.error
import urllib.request

import psutil
import pytest

import stack
from stack import moto
from stack.functions import by_name
from tests.support.runtimes import plane_state


def answer(url: str, method: str = "GET", headers: dict[str, str] | None = None, data: bytes | None = None) -> int:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as refused:
        assert "Access-Control-Allow-Origin" not in refused.headers
        return int(refused.code)


def test_a_foreign_page_cannot_use_the_local_aws_endpoint() -> None:
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="doors-probe")
    page = "http://127.0.0.1:5000/doors-probe/page.html"
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"}
    assert answer(page, "OPTIONS", preflight) == 403
    simple = {"Origin": "https://evil.example", "Content-Type": "text/plain"}
    assert answer(page, "PUT", simple, b"<script>steal()</script>") == 403
    assert s3.list_objects_v2(Bucket="doors-probe").get("KeyCount") == 0  # nothing stored
    ssm = "http://127.0.0.1:5000/"
    rebound = {"Host": "rebound.evil.example:5000", "X-Amz-Target": "AmazonSSM.GetParametersByPath"}
    assert answer(ssm, "POST", rebound, b'{"Path": "/", "WithDecryption": true}') == 403
    s3.delete_bucket(Bucket="doors-probe")


def test_the_tools_still_use_the_local_aws_endpoint_and_its_pages_load() -> None:
    assert answer("http://127.0.0.1:5000/moto-api/") == 200
    navigation = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}  # a link the user follows
    assert answer("http://127.0.0.1:5000/moto-api/", "GET", navigation) == 200


@pytest.mark.skipif(stack.mode() != "host", reason="host mode's runtimes are processes on this machine's loopback")
def test_host_mode_runtimes_listen_unpublished_on_an_address_no_page_can_guess() -> None:
    stack.invoke(by_name("weatherApi").port, {})  # at least one environment
    environments = [env for fn in plane_state().values() for env in fn["instances"]]
    assert environments, "no environment to look at"
    for env in environments:
        assert "url" not in env  # the console and /_local/functions publish no runtime address
        addresses = {c.laddr.ip for c in psutil.Process(env["pid"]).net_connections("tcp") if c.status == "LISTEN"}
        assert addresses and all(a.startswith("127.") for a in addresses)
        assert "127.0.0.1" not in addresses, addresses
