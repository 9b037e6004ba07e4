"""Who may talk to the plane: it checks no credentials, so its doors are locked to this machine and,
for the control endpoints, to this user's own tools.

Every HTTP surface (the Invoke API, the functions' ports, API Gateway, function URLs) answers only
requests whose `Host` is a name it serves: loopback (`localhost`, `127.0.0.1`, `[::1]`) and the names in
LAMBDA_LOCAL_ALLOWED_HOSTS (Docker mode: the compose service `lambda`). A page on another site cannot
reach it by DNS rebinding (its requests carry the attacker's host name).

The Invoke API and the functions' ports also refuse browser requests from any page but the plane's
own (its console): an `Origin` that is not one of the plane's own origins (or in
LAMBDA_LOCAL_ALLOWED_ORIGINS), or `Sec-Fetch-Site: cross-site` / `same-site` without one. A page served
from another loopback port (the local AWS endpoint serves any object as a page, API Gateway serves
what a function returns) is another origin: it is refused too. A "simple" POST (`text/plain`, no
preflight) would otherwise invoke, restart or fire. SDKs and curl send neither header.

The control endpoints (`/_local/...`, except the functions' own AWS proxy under `/_local/aws/`) are
for the user's tools only: besides the checks above, a request must come from a trusted peer address
(this machine's loopback; in Docker mode also the compose network's gateway, where the host's
connections through the published port arrive). A function's container is none of these: it can
invoke, as in AWS, but never turn on debugging, restart, fire or mint tokens. In host mode a function
is a process of the user's own, on loopback like their tools: it is not told apart.

API Gateway and function URLs leave `Origin` to the API's CORS configuration, as AWS does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from lambda_local.environments.debug_guard import LOOPBACK_PEERS  # the one list of this machine's addresses

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
CONTROL_PREFIX = "/_local/"
FUNCTION_PROXY_PREFIX = "/_local/aws/"  # the functions' SQS calls (AWS_ENDPOINT_URL_SQS): theirs, not control


def _names(variable: str) -> frozenset[str]:
    return frozenset(n.strip().lower() for n in os.environ.get(variable, "").split(",") if n.strip())


def hostname(host: str) -> str:
    """`host` of a Host header without its port: `[::1]:3001` -> `::1`, `localhost:3001` -> `localhost`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def own_origins(ports: Iterable[int]) -> frozenset[str]:
    """The origins of pages the plane itself serves (the console, on the Invoke API's port)."""
    return frozenset(f"http://{name}:{port}" for port in ports for name in ("localhost", "127.0.0.1", "[::1]"))


def is_control(path: str) -> bool:
    """Whether `path` is a control endpoint (for the user's tools only)."""
    return path.startswith(CONTROL_PREFIX) and not path.startswith(FUNCTION_PROXY_PREFIX)


def refusal(
    scope: Scope,
    control: bool,
    hosts: frozenset[str],
    origins: frozenset[str],
    peers: frozenset[str] = LOOPBACK_PEERS,
) -> str | None:
    """Why the request of `scope` is refused, or None. `control`: the surface is the Invoke API's (no
    foreign browser origin; `/_local/...` from `peers` only); `origins`: the browser origins it trusts."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    host = hostname(headers.get("host", ""))
    if host not in LOOPBACK and host not in hosts:
        return (
            f"Host {headers.get('host', '')!r} is not served here (loopback names only; "
            "add it to LAMBDA_LOCAL_ALLOWED_HOSTS to open it)"
        )
    if not control:
        return None
    origin = headers.get("origin")
    if origin is not None and origin.lower() not in origins:
        return (
            f"cross-site request from Origin {origin!r} refused: only the plane's own pages may call it "
            "(add the origin to LAMBDA_LOCAL_ALLOWED_ORIGINS to open it)"
        )
    if headers.get("sec-fetch-site") in ("cross-site", "same-site") and origin is None:
        return "cross-site request refused (Sec-Fetch-Site)"
    client = scope.get("client")
    if is_control(str(scope.get("path", ""))) and (client is None or client[0] not in peers):
        peer = client[0] if client else "an unknown address"
        return f"control endpoints answer this user's tools only, not {peer} (a function cannot call them)"
    return None


def locked(
    app: ASGIApp,
    control: bool,
    origins: Iterable[str] = (),
    peers: Iterable[str] = LOOPBACK_PEERS,
) -> ASGIApp:
    """`app` behind the doors: a refused request gets 403 with the reason, and never reaches `app`.
    `origins`: the plane's own page origins (own_origins); `peers`: the addresses of the user's tools."""
    hosts = _names("LAMBDA_LOCAL_ALLOWED_HOSTS")
    trusted = frozenset(o.lower() for o in origins) | _names("LAMBDA_LOCAL_ALLOWED_ORIGINS")
    addresses = frozenset(peers)

    async def guarded(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or (why := refusal(scope, control, hosts, trusted, addresses)) is None:
            await app(scope, receive, send)
            return
        body = json.dumps({"Type": "User", "message": why}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-amzn-errortype", b"AccessDeniedException"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return guarded
