"""What both modes of the local stack share: where things live, the ports, and how to tell that a
port is free or that the plane serves."""

from __future__ import annotations

import json
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

from lambda_local import settings
from lambda_local.environments import variables
from lambda_local.providers import ROOT as ROOT  # re-exported: the project root for the stack modules
from lambda_local.providers import load
from stack.functions import Function, functions

STATE = settings.STATE
VENV_BIN = Path(sys.executable).parent
MOTO_PORT = settings.AWS_PORT
DB_PORT = settings.DB_PORT
LAMBDA_PORT = settings.INVOKE_PORT
API_PORT = settings.API_PORT  # API Gateway, served by the plane when the template declares Api / HttpApi events
AWS_ENDPOINT = settings.AWS_ENDPOINT
LAMBDA_ENDPOINT = settings.LAMBDA_ENDPOINT
SEED_SQL = sorted((ROOT / "images" / "db" / "initdb").glob("*.sql"))
WAREHOUSE_SQL = ROOT / "images" / "db" / "initdb" / "03-warehouse.sql"
RUNTIME_API_OFFSET = 10000


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


def function_env(fn: Function, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a function's runtime in host mode (compose.yaml sets the same keys)."""
    return variables.function_env(load(), fn, AWS_ENDPOINT, LAMBDA_ENDPOINT, overrides)


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_holder(port: int) -> str:
    """Who listens on `port`: `pid N (name: command line)`, or why that cannot be told."""
    import psutil

    try:
        listeners = [
            c
            for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr and getattr(c.laddr, "port", None) == port
        ]
        for conn in listeners:
            if conn.pid:
                process = psutil.Process(conn.pid)
                return f"pid {conn.pid} ({process.name()}: {' '.join(process.cmdline())[:100]})"
    except (psutil.AccessDenied, psutil.NoSuchProcess):
        pass
    return "a process this user cannot see (another user's, or a container's port)"


def preflight(ports: Mapping[str, int]) -> None:
    """Refuse to start anything while any of `ports` is taken, naming every port and its holder."""
    busy = [(service, port) for service, port in ports.items() if port_open(port)]
    if busy:
        lines = [f"  {port} ({service}): held by {port_holder(port)}" for service, port in busy]
        raise SystemExit(
            "cannot start the stack, ports in use:\n"
            + "\n".join(lines)
            + "\nstop those processes (or `make down` if they are an earlier run of this stack)"
        )


def plane_ports() -> dict[str, int]:
    """What the plane listens on: the Invoke API, each function's port and, with API events, API Gateway."""
    ports = {"lambda": LAMBDA_PORT} | {f.directory: f.port for f in functions() if f.port is not None}
    return ports | ({"api": API_PORT} if load().routes else {})


def backing_ports() -> dict[str, int]:
    return {"db": DB_PORT, "aws": MOTO_PORT} | plane_ports()


def _probe_plane(port: int, function: str | None) -> str:
    """The plane answers its own listing on the API port and on every function port."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_local/functions", timeout=5) as response:
            listing = json.loads(response.read())
        names = {entry["function"] for entry in listing["functions"]}
    except (urllib.error.URLError, OSError) as exc:
        refused = isinstance(getattr(exc, "reason", exc), ConnectionRefusedError)
        return "down" if refused else "foreign: not the local Lambda plane"
    except (ValueError, KeyError, TypeError):
        return "foreign: not the local Lambda plane"
    if listing.get("service") != "lambda_local" or names != {f.lambda_name for f in functions()}:
        return "foreign: a Lambda plane serving other functions"
    return "up" if function is None or function in names else "foreign"


def last_words(output: str, lines: int = 5) -> str:
    """What a plane that stopped said last: its own `lambda_local:` lines (a TemplateError, the AWS
    error that stopped its start), else the end of its output."""
    said = [line for line in output.splitlines() if line.startswith("lambda_local:") and "starting" not in line]
    return "\n".join((said or output.splitlines())[-lines:])


def wait_for_plane(
    timeout: float = 120, alive: Callable[[], bool] | None = None, output: Callable[[], str] | None = None
) -> None:
    """Until the plane serves: its sockets listen before its runtimes and event sources are ready. A
    plane that stops meanwhile (`alive` says no) ends the wait at once with its last words."""
    deadline = time.monotonic() + timeout
    while _probe_plane(LAMBDA_PORT, None) != "up":
        if alive is not None and not alive():
            said = last_words(output()) if output else ""
            raise SystemExit(f"the local Lambda plane stopped during start:\n{said}")
        if time.monotonic() > deadline:
            raise SystemExit(f"the local Lambda plane did not become ready within {timeout:.0f}s; see `make logs`")
        time.sleep(0.2)
