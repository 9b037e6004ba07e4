"""What the stack commands do, on the stack of the current mode (`mode()`): up, down, status, logs,
events, fire, invoke; and what tools and tests use of it. stack/__init__.py names it.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from lambda_local.environments import function_envs
from lambda_local.environments.variables import read_env_file
from lambda_local.providers import load
from stack.common import (
    AWS_ENDPOINT,
    DB_PORT,
    LAMBDA_ENDPOINT,
    LAMBDA_PORT,
    ROOT,
    _probe_plane,
    backing_ports,
    log,
    port_open,
    preflight,
)
from stack.functions import INVOKE_PATH, Function, by_name, functions
from stack.host_mode import service_pid


class Stack(Protocol):
    """What each mode does with the stack's services (db, aws, lambda and the functions)."""

    mode: str

    def ports_to_claim(self) -> dict[str, int]:
        """The ports `up` is about to open: all of them, less those of this stack's running parts."""

    def up(self) -> None: ...

    def down(self) -> None: ...

    def stop_service(self, service: str) -> None:
        """Stop one service (e.g. `db`) without touching its data."""

    def start_service(self, service: str) -> None:
        """Start a service stopped by stop_service and wait until it answers."""

    def restart_function(self, fn: Function) -> None:
        """A fresh runtime for `fn` (its next invocation is a cold start)."""

    def read_logs(self, service: str) -> str: ...

    def show_logs(self, services: list[str]) -> None: ...

    def follow_events(self) -> None:
        """Follow the plane's delivery lines (one JSON line per delivery attempt)."""


def db_connection(
    autocommit: bool = False, password: str | None = None, port: int = DB_PORT, timeout: float | None = None
) -> Any:
    """A PyMySQL connection to the local café database as its application user, in UTC."""
    import pymysql  # dev tooling only; the stack itself does not need it

    creds = read_env_file(ROOT / "db.env")
    return pymysql.connect(
        host="127.0.0.1",
        port=port,
        user=creds["MARIADB_USER"],
        password=password or creds["MARIADB_PASSWORD"],
        database=creds["MARIADB_DATABASE"],
        autocommit=autocommit,
        init_command="SET time_zone = '+00:00'",
        connect_timeout=timeout or 10,
        read_timeout=timeout,
    )


def invoke(port: int, event: object, timeout: float = 120) -> tuple[int, bytes]:
    """POST `event` to the RIE on `port`; returns (HTTP status, body)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{INVOKE_PATH}", data=json.dumps(event).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def invoke_function(fn: Function, event: object, timeout: float = 120) -> tuple[int, bytes]:
    """Invoke `fn` with `event` through the plane's Invoke API; returns (HTTP status, body)."""
    request = urllib.request.Request(
        f"{LAMBDA_ENDPOINT}/2015-03-31/functions/{fn.lambda_name}/invocations",
        data=json.dumps(event).encode(),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def docker_engine_available() -> bool:
    """Whether a Docker engine answers (DOCKER_HOST or the default socket), asked with the Docker SDK."""
    import docker  # only needed to tell the modes apart

    try:
        docker.from_env(timeout=5).ping()
    except docker.errors.DockerException:
        return False
    return True


def compose_available() -> bool:
    """Whether the Compose v2 plugin answers (`docker compose`): Debian's docker.io alone lacks it."""
    try:
        return subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@functools.cache
def mode() -> str:
    """`STACK_MODE` when set; else Docker when an engine with Compose answers, else host. Decided once."""
    forced = os.environ.get("STACK_MODE", "")
    if forced in ("host", "docker"):
        return forced
    if forced:
        raise SystemExit(f"STACK_MODE must be host or docker, got {forced!r}")
    if any(service_pid(service) for service in ("lambda", "db", "aws")):
        return "host"  # a host-mode stack runs: later commands act on it, engine or not
    if not docker_engine_available():
        return "host"
    if not compose_available():
        log("a Docker engine answers but `docker compose` does not (install the Compose v2 plugin): host mode")
        return "host"
    return "docker"


@functools.cache
def current() -> Stack:
    """The stack of the current mode."""
    if mode() == "docker":
        from stack.docker_mode import ComposeStack

        return ComposeStack()
    if not sys.platform.startswith("linux"):
        raise SystemExit(f"host mode runs on Linux only (this is {sys.platform}): start a Docker engine")
    from stack.host_mode import HostStack

    return HostStack()


def stack_is_up() -> bool:
    return all(port_open(p) for p in backing_ports().values())


def up() -> None:
    stack = current()
    log(f"mode: {stack.mode}")
    preflight(stack.ports_to_claim())
    stack.up()
    log(
        "stack is up: "
        + ", ".join(
            f"{f.directory} http://127.0.0.1:{f.port}{INVOKE_PATH}" if f.port else f"{f.directory} (Invoke API)"
            for f in functions()
        )
    )
    log(f"Lambda Invoke API {LAMBDA_ENDPOINT}, local AWS endpoint {AWS_ENDPOINT}, MariaDB 127.0.0.1:{DB_PORT}")


def down() -> None:
    current().down()
    log("stack is down")


def stop_service(service: str) -> None:
    current().stop_service(service)


def start_service(service: str) -> None:
    current().start_service(service)


def restart_function(fn: Function) -> None:
    current().restart_function(fn)


def read_logs(service: str) -> str:
    return current().read_logs(service)


def _probe_db(port: int) -> str:
    import pymysql

    try:
        db_connection(port=port, timeout=3).close()
    except pymysql.err.OperationalError as exc:
        code = exc.args[0] if exc.args else 0
        return "down" if code == 2003 else f"foreign: does not accept this stack's user (MySQL error {code})"
    except pymysql.MySQLError as exc:
        return f"foreign: not the café database ({type(exc).__name__})"
    return "up"


def _probe_aws(port: int) -> str:
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from stack import moto  # imports this module

    config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1})
    ssm = moto.client("ssm", config, endpoint=f"http://127.0.0.1:{port}")
    try:
        prefix = load().parameter("DbParameterPrefix")
        ssm.get_parameter(Name=f"{prefix}/dbUrl")
    except ClientError:
        return "foreign: answers, but holds none of this stack's parameters"
    except BotoCoreError:
        return "down"
    return "up"


def probe(service: str, port: int) -> str:
    """ "up" when this stack's `service` answers on `port`, "down" when nothing does, else "foreign: why"."""
    if not port_open(port):
        return "down"
    if service == "db":
        return _probe_db(port)
    if service == "aws":
        return _probe_aws(port)
    if service == "api":
        return _probe_api(port)
    function = None if service == "lambda" else by_name(service).lambda_name
    return _probe_plane(port, function)


def _probe_api(port: int) -> str:
    """The plane's API Gateway answers a route it does not have as API Gateway does (403 or 404, JSON)."""
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_local/no-such-route", timeout=5)
    except urllib.error.HTTPError as error:
        try:
            answer = json.loads(error.read())
        except ValueError:
            answer = None
        if error.code in (403, 404) and isinstance(answer, dict) and "message" in answer:
            return "up"
    except (urllib.error.URLError, OSError):
        return "down"
    return "foreign: not the local API Gateway"


def status() -> int:
    """Print each service's state; 0 when every one is this stack's and up, else 1."""
    states = {service: probe(service, port) for service, port in backing_ports().items()}
    for service, port in backing_ports().items():
        print(f"{service:<24} 127.0.0.1:{port:<6} {states[service]}")
    if states["aws"] == "up":
        print(failed_events_line())
    problems: list[str] = []
    if states["lambda"] == "up":
        lines, problems = environments_lines(runtimes=function_runtimes())
        print(lines)
        for problem in problems:
            print(f"problem: {problem}")
    return 0 if all(state == "up" for state in states.values()) and not problems else 1


def environments_lines(
    endpoint: str = LAMBDA_ENDPOINT, runtimes: Mapping[str, str] | None = None
) -> tuple[str, list[str]]:
    """Per function: its execution environments (idle, busy), cold starts and throttles so far, and its
    runtime (`runtimes`, by Lambda name); and what is wrong (a mapping whose checkpoint is unreadable, a
    crash-looping runtime, packages that could not be installed, ...)."""
    with urllib.request.urlopen(f"{endpoint}/_local/functions", timeout=10) as response:
        listing = json.load(response)
    account = listing["account"]
    lines = [
        f"environments (account: {account['in_flight']} of {account['concurrency_limit']} concurrent executions: "
        f"{account.get('why', '')}; {account.get('available_mb', '?')} MB available)"
    ]
    for fn in listing["functions"]:
        crashing = ", crash-looping" if fn.get("supervision", {}).get("crash_looping") else ""
        runtime = f"; {runtimes[fn['function']]}" if runtimes and fn["function"] in runtimes else ""
        lines.append(
            f"  {fn['function']:<34} {fn['idle']} idle, {fn['busy']} busy, {fn['cold_starts']} cold starts, "
            f"{fn['throttles']} throttled{crashing}{runtime}"
        )
    return "\n".join(lines), [str(p) for p in listing.get("problems", [])]


def function_runtimes() -> dict[str, str]:
    """Each function's runtime by Lambda name, as `make status` shows it: in host mode its own
    environment's Python (function_envs.py; marked when it is not its image's version), in Docker mode
    its container's, asked of the running container (one `python3` each, together)."""
    if mode() == "host":
        return {
            fn.lambda_name: function_envs.runtime_text(function_envs.read_marker(function_envs.env_dir(fn)))
            for fn in functions()
        }
    return container_runtimes()


def container_runtimes() -> dict[str, str]:
    """Docker mode: `python3 --version` of each function's compose container (its image's Python)."""
    import docker  # Docker mode only

    from stack.docker_mode import PROJECT

    try:
        client = docker.from_env(timeout=10)
        found = {
            c.labels.get("com.docker.compose.service", ""): c
            for c in client.containers.list(filters={"label": f"com.docker.compose.project={PROJECT}"})
        }
    except docker.errors.DockerException:
        return {}

    def ask(fn: Function) -> tuple[str, str]:
        container = found.get(fn.directory)
        if container is None:
            return fn.lambda_name, "its container is not running"
        try:
            code, out = container.exec_run(["python3", "-c", function_envs.VERSION_CODE])
        except docker.errors.DockerException as exc:
            return fn.lambda_name, f"python ? ({type(exc).__name__})"
        text = out.decode(errors="replace").strip()
        return fn.lambda_name, f"python {text} (its image)" if code == 0 else "python ? (its container did not say)"

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(pool.map(ask, functions()))


def failed_events_line() -> str:
    """How many failed events wait in the on-failure queue (and how many the plane gave up on)."""
    from stack import moto

    queue = load().local_name("FailedInvocationsQueue")
    sqs = moto.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        waiting = attributes["Attributes"]["ApproximateNumberOfMessages"]
    except Exception as exc:  # noqa: BLE001 - status reports, it does not fail on a missing queue
        return f"failed events: on-failure queue {queue} unreadable ({type(exc).__name__})"
    return f"failed events: {waiting} in the on-failure queue {queue} (`make events` shows deliveries)"


def fire(rule: str, at: str | None) -> int:
    """Fire a schedule rule now, as if at `at`; prints how the delivery was settled."""
    if not port_open(LAMBDA_PORT):
        raise SystemExit(f"the local Lambda plane is not answering on port {LAMBDA_PORT}: run `make up` first")
    body = json.dumps({"at": at} if at else {}).encode()
    request = urllib.request.Request(f"{LAMBDA_ENDPOINT}/_local/schedules/{rule}/fire", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=960) as response:
            result = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = json.loads(exc.read() or b"{}").get("message", exc.reason)
        raise SystemExit(f"make fire: {detail}") from None
    when, target = result["time"], result["function"]
    print(f"{result['rule']} fired at {when} -> {target}: {result['outcome']} (request {result['requestId']})")
    return 0 if result["outcome"] == "ok" else 1
