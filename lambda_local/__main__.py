"""`python -m lambda_local`: the local Lambda plane in one process: the function runtimes and their
queues, and the Invoke API on LAMBDA_LOCAL_PORT (3001) plus every function's own port (9001, ...)."""

from __future__ import annotations

import asyncio
import socket
import sys

import uvicorn

from lambda_local import invoke_api
from lambda_local.plane import build


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
    ports = [settings.invoke_port, *plane.by_port]
    sockets = [listen(settings.bind_host, port) for port in ports]
    print(f"lambda_local: starting {len(plane.template.functions)} functions ({settings.mode} mode)", flush=True)
    await plane.start()
    server = uvicorn.Server(uvicorn.Config(invoke_api.app(plane), log_level="warning", access_log=False))
    where = f"{settings.bind_host}:{settings.invoke_port}"
    print(f"lambda_local: Invoke API on {where}, functions on ports {sorted(plane.by_port)}", flush=True)
    try:
        await server.serve(sockets=sockets)
    finally:
        await plane.stop()


if __name__ == "__main__":
    asyncio.run(main())
