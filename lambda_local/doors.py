"""Who may talk to the plane: it checks no credentials, so its doors are locked to this machine.

Every HTTP surface (the Invoke API, the functions' ports, API Gateway) answers only requests whose
`Host` is a name it serves: loopback (`localhost`, `127.0.0.1`, `[::1]`) and the names in
LAMBDA_LOCAL_ALLOWED_HOSTS (Docker mode: the compose service `lambda`). A page on another site cannot
reach it by DNS rebinding (its requests carry the attacker's host name).

The control surfaces (the Invoke API, the functions' ports, `/_local/...`) also refuse cross-site
requests from browsers: an `Origin` that is not a loopback origin (or in LAMBDA_LOCAL_ALLOWED_ORIGINS),
or `Sec-Fetch-Site: cross-site` / `same-site`. A "simple" cross-site POST (`text/plain`, no preflight)
would otherwise invoke, restart or fire. SDKs and curl send neither header. API Gateway leaves
`Origin` to the API's CORS configuration, as AWS does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def _names(variable: str) -> frozenset[str]:
    return frozenset(n.strip().lower() for n in os.environ.get(variable, "").split(",") if n.strip())


def hostname(host: str) -> str:
    """`host` of a Host header without its port: `[::1]:3001` -> `::1`, `localhost:3001` -> `localhost`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def loopback_origin(origin: str, allowed: frozenset[str]) -> bool:
    if origin.lower() in allowed:
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK


def refusal(scope: Scope, control: bool, hosts: frozenset[str], origins: frozenset[str]) -> str | None:
    """Why the request of `scope` is refused, or None."""
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
    if origin is not None and not loopback_origin(origin, origins):
        return f"cross-site request from Origin {origin!r} refused (add it to LAMBDA_LOCAL_ALLOWED_ORIGINS to open it)"
    if headers.get("sec-fetch-site") in ("cross-site", "same-site") and origin is None:
        return "cross-site request refused (Sec-Fetch-Site)"
    return None


def locked(app: ASGIApp, control: bool) -> ASGIApp:
    """`app` behind the doors: a refused request gets 403 with the reason, and never reaches `app`."""
    hosts, origins = _names("LAMBDA_LOCAL_ALLOWED_HOSTS"), _names("LAMBDA_LOCAL_ALLOWED_ORIGINS")

    async def guarded(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or (why := refusal(scope, control, hosts, origins)) is None:
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
