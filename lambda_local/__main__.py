"""`python -m lambda_local`: the local Lambda plane in one process: the function runtimes and their
queues, the event sources, the Invoke API on LAMBDA_LOCAL_PORT (3001) plus every function's own port
(Metadata.LocalPort), API Gateway on LAMBDA_LOCAL_API_PORT (3000) when the template declares API
events, and function URLs on LAMBDA_LOCAL_URL_PORT (3002) when a function declares FunctionUrlConfig.
`check` reads the template and says what it declares; `render-compose` rewrites compose.yaml's rendered
part. A template the plane cannot run is one line naming the place, and exit status 2."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import uvicorn
from botocore.exceptions import BotoCoreError, ClientError

from lambda_local import logs
from lambda_local.environments import compose
from lambda_local.logs import LOG
from lambda_local.providers import TEMPLATE, Template, TemplateError, load
from lambda_local.settings import KEEP_ALIVE_S

EXIT_TEMPLATE = 2


def listen(host: str, port: int) -> socket.socket:
    """A listening socket for the plane's HTTP servers, with Nagle's algorithm off on every connection.

    asyncio turns TCP_NODELAY on only for sockets whose `proto` says TCP; a socket made with proto 0
    leaves it off, and then a response written in two parts (uvicorn writes the headers, then the body)
    waits for the client's delayed ACK: about 40 ms on every call over a kept-alive connection."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets on Linux
    try:
        sock.bind((host, port))
    except OSError as exc:
        sys.exit(f"lambda_local: cannot listen on {host}:{port}: {exc.strerror}")
    sock.listen(512)
    sock.setblocking(False)
    return sock


async def serve() -> None:
    from lambda_local.environments.debug_guard import LOOPBACK_PEERS, host_peers
    from lambda_local.http import api_gateway, function_urls, invoke_api
    from lambda_local.http.doors import locked, own_origins
    from lambda_local.invocation.deliveries import report
    from lambda_local.plane import build

    # Event sources long-poll the local endpoint from threads (boto3 blocks): room for all of them, so a
    # queue message's delete never waits behind other pollers' receives (the default is cores + 4).
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=64, thread_name_prefix="aws"))
    plane = build()
    settings = plane.settings
    routes = plane.template.routes
    urls, url_port = function_urls.url_functions(plane.template.functions), function_urls.port()
    ports = [settings.invoke_port, *plane.by_port] + ([settings.api_port] if routes else [])
    if urls and url_port in ports:
        raise TemplateError(
            f"{plane.template.file}: port {url_port} is both the function URLs' (LAMBDA_LOCAL_URL_PORT) and "
            "another surface's (a Metadata.LocalPort, LAMBDA_LOCAL_PORT or LAMBDA_LOCAL_API_PORT)"
        )
    ports += [url_port] if urls else []
    sockets = [listen(settings.bind_host, port) for port in ports]
    LOG.info(f"starting {len(plane.template.functions)} functions ({settings.mode} mode)")
    try:
        await plane.start()
    except BaseException:
        await plane.stop()  # no runtime outlives a plane that could not start
        raise
    # The console is the plane's own page: its origin is the one a browser may call control endpoints
    # from. Docker mode: the host's connections through the published port come from the network's gateway.
    peers = host_peers() if settings.mode == "docker" else LOOPBACK_PEERS
    lambda_app = locked(invoke_api.app(plane), control=True, origins=own_origins([settings.invoke_port]), peers=peers)
    api_app = locked(api_gateway.app(routes, plane.runtimes, report), control=False)
    credentials = function_urls.local_credentials()
    url_app = locked(function_urls.app(urls, plane.runtimes, report, settings.region, credentials), control=False)

    async def by_port(scope: Any, receive: Any, send: Any) -> None:
        port = scope["server"][1] if scope.get("server") else None
        if routes and port == settings.api_port:
            await api_app(scope, receive, send)
        elif urls and port == url_port:
            await url_app(scope, receive, send)
        else:
            await lambda_app(scope, receive, send)

    # Idle connections kept a minute, as AWS's endpoints keep them: an SDK's pool reuses an idle connection
    # of any age, and at uvicorn's default 5 s the server closed one just as a client sent on it (a durable
    # history poll of the conformance run failed so: ConnectionClosedError, botocore's retries off).
    config = uvicorn.Config(
        by_port, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=KEEP_ALIVE_S
    )
    server = uvicorn.Server(config)
    where = f"{settings.bind_host}:{settings.invoke_port}"
    LOG.info(f"Invoke API on {where}, functions on ports {sorted(plane.by_port)}")
    if routes:
        LOG.info(f"API Gateway on {settings.bind_host}:{settings.api_port}: {len(routes)} routes")
    for fn in urls:
        where = f"http://{settings.bind_host}:{url_port}/{fn.lambda_name}/"
        LOG.info(f"function URL of {fn.lambda_name} at {where} ({fn.url.auth_type if fn.url else ''})")
    for warning in function_urls.warnings(urls):
        LOG.warning(warning)
    try:
        await server.serve(sockets=sockets)
    finally:
        await plane.stop()


def template_path(given: str | None) -> Path:
    return Path(given or os.environ.get("LAMBDA_LOCAL_TEMPLATE") or TEMPLATE).resolve()


def summary(template: Template) -> str:
    """What `make check-template` prints: each function with what triggers it, and the local names."""
    lines = [f"{template.file}: {len(template.functions)} functions"]
    for fn in template.functions:
        port = f", port {fn.port}" if fn.port else ""
        lines.append(f"  {fn.lambda_name} (functions/{fn.directory}, {fn.memory_mb} MB, {fn.timeout_s} s{port})")
        triggers = [
            f"schedule {s.rule}: {s.expression}{'' if s.enabled else ' (disabled)'}"
            for s in template.schedules
            if s.function == fn.lambda_name
        ]
        triggers += [
            f"{q.event.type} {q.source_name} ({q.source_id}) through queue {q.queue_name}"
            for q in template.queue_triggers
            if q.function == fn.lambda_name
        ]
        triggers += [
            f"{t.kind} stream of {t.stream_name} ({t.stream_id})"
            for t in template.stream_triggers
            if t.function == fn.lambda_name
        ]
        triggers += [
            f"API {r.route_key} ({r.kind.upper()} {r.api_id}, payload {r.payload_version})"
            for r in template.routes
            if r.function == fn.lambda_name
        ]
        triggers += [
            f"SQS queue {t.queue_name} ({t.queue_id}), batches of {t.settings.batch_size}"
            for t in template.sqs_triggers
            if t.function == fn.lambda_name
        ]
        if fn.url is not None:
            triggers.append(
                f"function URL ({fn.url.auth_type}{', streamed' if fn.url.invoke_mode != 'BUFFERED' else ''})"
            )
        if fn.durable is not None:
            lines.append(
                f"    durable: executions up to {fn.durable.execution_timeout_s} s, "
                f"history kept {fn.durable.retention_days} days"
            )
        if fn.tenant_isolation:
            lines.append("    tenant isolation: PER_TENANT (every invoke names its tenant)")
        lines += [f"    <- {trigger}" for trigger in triggers] or ["    <- invoked only (no event source)"]
    lines.append(
        f"  triggers: {len(template.schedules)} schedules, {len(template.queue_triggers)} SNS/S3, "
        f"{len(template.stream_triggers)} streams, {len(template.sqs_triggers)} SQS mappings, "
        f"{len(template.routes)} API routes, {sum(fn.url is not None for fn in template.functions)} function URLs; "
        f"{sum(fn.durable is not None for fn in template.functions)} durable functions"
    )
    functions = {fn.logical_id for fn in template.functions}
    resources = [r for r in template.local_resources() if r.logical_id not in functions]
    if resources:
        lines.append("  resources, by their local names:")
        lines += [f"    {r.logical_id} ({r.type}): {r.name}" for r in resources]
    lines += [f"  warning: {w}" for w in template.warnings]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambda_local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", help="the template (default: LAMBDA_LOCAL_TEMPLATE or template.yaml)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("serve", help="run the plane (the default)")
    check = commands.add_parser("check", help="read the template and list what it declares")
    check.add_argument("--quiet", action="store_true", help="say nothing when the template is fine")
    render = commands.add_parser("render-compose", help="rewrite compose.yaml's part rendered from the template")
    render.add_argument("--check", action="store_true", help="exit 1 if compose.yaml is stale, change nothing")
    render.add_argument("--quiet", action="store_true", help="speak only when compose.yaml changes")
    args = parser.parse_args(argv)
    logs.setup(os.environ.get("LAMBDA_LOCAL_LOG_LEVEL", "INFO"))
    try:
        template = load(template_path(args.template))
        if args.command == "check":
            if not args.quiet:
                print(summary(template))
        elif args.command == "render-compose":
            if args.check:
                stale = compose.render(template, compose.COMPOSE.read_text()) != compose.COMPOSE.read_text()
                print("compose.yaml is stale: run `make compose`" if stale else "compose.yaml is up to date")
                return 1 if stale else 0
            changed = compose.write(template)
            if changed or not args.quiet:
                print(f"compose.yaml {'rendered anew' if changed else 'already up to date'} from {template.file}")
        else:
            asyncio.run(serve())
    except TemplateError as exc:
        print(f"lambda_local: {exc}", file=sys.stderr, flush=True)
        return EXIT_TEMPLATE
    except (BotoCoreError, ClientError) as exc:  # a resource the plane needs is missing on the local endpoint
        print(f"lambda_local: the local AWS endpoint: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
