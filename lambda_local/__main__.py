"""`python -m lambda_local`: the local Lambda plane in one process: the function runtimes and their
queues, the event sources, the Invoke API on LAMBDA_LOCAL_PORT (3001) plus every function's own port
(9001, ...), and API Gateway on LAMBDA_LOCAL_API_PORT (3000) when the template declares API events."""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

import uvicorn

from lambda_local import api_gateway, invoke_api
from lambda_local.plane import build, report


def listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sys.exit(f"lambda_local: cannot listen on {host}:{port}: {exc.strerror}")
    sock.listen(512)
    sock.setblocking(False)
    return sock


async def main() -> None:
    plane = build()
    settings = plane.settings
    routes = api_gateway.routes_of(plane.template)
    ports = [settings.invoke_port, *plane.by_port] + ([settings.api_port] if routes else [])
    sockets = [listen(settings.bind_host, port) for port in ports]
    print(f"lambda_local: starting {len(plane.template.functions)} functions ({settings.mode} mode)", flush=True)
    try:
        await plane.start()
    except BaseException:
        await plane.stop()  # no runtime outlives a plane that could not start
        raise
    lambda_app = invoke_api.app(plane)
    api_app = api_gateway.app(routes, plane.runtimes, report)

    async def by_port(scope: Any, receive: Any, send: Any) -> None:
        port = scope["server"][1] if scope.get("server") else None
        await (api_app if routes and port == settings.api_port else lambda_app)(scope, receive, send)

    server = uvicorn.Server(uvicorn.Config(by_port, log_level="warning", access_log=False, lifespan="off"))
    where = f"{settings.bind_host}:{settings.invoke_port}"
    print(f"lambda_local: Invoke API on {where}, functions on ports {sorted(plane.by_port)}", flush=True)
    if routes:
        print(
            f"lambda_local: API Gateway on {settings.bind_host}:{settings.api_port}: {len(routes)} routes", flush=True
        )
    try:
        await server.serve(sockets=sockets)
    finally:
        await plane.stop()


if __name__ == "__main__":
    asyncio.run(main())
