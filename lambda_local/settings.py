"""The local stack's settings, in one place: ports, endpoints, paths and the plane's limits.

The defaults below are the only place a port of the stack is written; the plane reads its own settings
once from the environment (`Settings.from_env`), and compose rendering, the stack commands and the
tests import them from here. Two files run outside this project's Python and keep their own copy, said
where they do: `stack/aws_endpoint.py` (in moto's image) and `environments/debug_guard.py` (in a
function's image).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the project: template.yaml, functions/, shared/
STATE = ROOT / ".stack"  # a running stack's state: logs, stream checkpoints, the event store, pids
RIE_BINARY = ROOT / ".cache" / "bin" / "aws-lambda-rie"

# Ports on this machine's loopback (each of the plane's overridable by its variable).
INVOKE_PORT = 3001  # the Invoke API, the console and /_local/ (LAMBDA_LOCAL_PORT)
API_PORT = 3000  # API Gateway, when the template declares Api / HttpApi events (LAMBDA_LOCAL_API_PORT)
URL_PORT = 3002  # function URLs, when a function declares FunctionUrlConfig (LAMBDA_LOCAL_URL_PORT)
SYSLOG_PORT = 3514  # Docker mode: the functions' output, by syslog from the engine (LAMBDA_LOCAL_SYSLOG_PORT)
AWS_PORT = 5000  # the local AWS endpoint (moto)
DB_PORT = 3307  # MariaDB
DEBUG_PORT = 5678  # `make debug`: where an editor attaches (debugpy's usual port)
RIE_PORT = 8080  # the RIE inside a function's container (the AWS base image's)
PLANE_PORTS = frozenset({INVOKE_PORT, API_PORT})  # a function's Metadata.LocalPort may be neither

LOOPBACK = "127.0.0.1"
AWS_ENDPOINT = f"http://{LOOPBACK}:{AWS_PORT}"  # the local AWS endpoint, from this machine
LAMBDA_ENDPOINT = f"http://{LOOPBACK}:{INVOKE_PORT}"  # the Invoke API, from this machine
DEBUG_ADDRESS = (LOOPBACK, DEBUG_PORT)
# Inside the compose network (Docker mode): the services by name.
COMPOSE_AWS_ENDPOINT = f"http://aws:{AWS_PORT}"
SERVICE = "lambda"  # the plane's compose service: the name the functions call it by (LAMBDA_LOCAL_SERVICE)
COMPOSE_LAMBDA_ENDPOINT = f"http://{SERVICE}:{INVOKE_PORT}"
COMPOSE_SYSLOG_ADDRESS = f"udp://{LOOPBACK}:{SYSLOG_PORT}"  # the engine sends from the host to the published port
# The functions' spans (OTLP/HTTP), received on the Invoke API's port: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is
# the function's Lambda endpoint (LAMBDA_ENDPOINT, COMPOSE_LAMBDA_ENDPOINT) with this path.
OTLP_TRACES_PATH = "/v1/traces"
TRACES_FILE = "traces.sqlite"  # in the state directory: the spans of recent traces (lambda_local/traces/)

# Lambda's quotas that the plane enforces (AWS: Lambda quotas).
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024  # bytes: a synchronous invocation's request and response, a stream batch
ASYNC_PAYLOAD_LIMIT = 1024 * 1024  # bytes: an asynchronous (Event) invocation's payload

REGION = "us-east-1"
ASYNC_RETRY_DELAYS = (1.0, 2.0)  # seconds between an Event's attempts (Lambda: about 1 then 2 minutes)
IDLE_S = 300.0  # an idle execution environment is stopped after this long
KEEP_ALIVE_S = 65  # seconds the plane keeps an idle client connection open (uvicorn's default: 5)


@dataclass(frozen=True)
class Settings:
    """The plane's settings, from its environment (`from_env`) or given (tests, benches)."""

    mode: str = "host"
    aws_endpoint: str = AWS_ENDPOINT
    region: str = REGION
    invoke_port: int = INVOKE_PORT
    api_port: int = API_PORT
    url_port: int = URL_PORT
    syslog_port: int = SYSLOG_PORT
    bind_host: str = LOOPBACK
    lambda_endpoint: str = LAMBDA_ENDPOINT
    rie: str = str(RIE_BINARY)
    idle_s: float = IDLE_S
    account_concurrency: int = 0  # 0: Lambda's default; the machine's memory bounds environments anyway
    retry_delays: tuple[float, ...] = ASYNC_RETRY_DELAYS
    log_dir: Path = field(default=STATE / "logs")
    state_dir: Path = field(default=STATE)
    debug: str = ""  # a function whose environments run under debugpy from the start (LAMBDA_LOCAL_DEBUG)
    log_level: str = "INFO"  # the plane's own lines (LAMBDA_LOCAL_LOG_LEVEL)
    # Docker mode: the plane's name on the compose network, and whether compose runs a container per function
    # (compose.yaml's rendered services; LAMBDA_LOCAL_COMPOSE_FUNCTIONS=0: none, the plane starts every
    # environment itself, as the tests' probe planes in Docker mode do: tests/support/docker_probe.py).
    service: str = SERVICE
    compose_functions: bool = True

    @property
    def function_lambda_endpoint(self) -> str:
        """Docker mode: the Invoke API as the function containers reach it, by the plane's service name."""
        return f"http://{self.service}:{self.invoke_port}"

    @property
    def syslog_address(self) -> str:
        """Docker mode: where the engine sends the containers' output (from the host, to the published port)."""
        return f"udp://{LOOPBACK}:{self.syslog_port}"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else env
        port = int(env.get("LAMBDA_LOCAL_PORT", str(INVOKE_PORT)))
        delays = env.get("ASYNC_RETRY_DELAYS")
        state = Path(env.get("LAMBDA_LOCAL_STATE", str(STATE)))
        return cls(
            mode=env.get("LAMBDA_LOCAL_MODE", "host"),
            aws_endpoint=env.get("AWS_ENDPOINT_URL", AWS_ENDPOINT),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or REGION,
            invoke_port=port,
            api_port=int(env.get("LAMBDA_LOCAL_API_PORT", str(API_PORT))),
            url_port=int(env.get("LAMBDA_LOCAL_URL_PORT", str(URL_PORT))),
            syslog_port=int(env.get("LAMBDA_LOCAL_SYSLOG_PORT", str(SYSLOG_PORT))),
            bind_host=env.get("LAMBDA_LOCAL_BIND", LOOPBACK),
            lambda_endpoint=env.get("LAMBDA_LOCAL_ENDPOINT", f"http://{LOOPBACK}:{port}"),
            rie=env.get("AWS_LAMBDA_RIE", str(RIE_BINARY)),
            idle_s=float(env.get("LAMBDA_LOCAL_IDLE_SECONDS", str(IDLE_S))),
            account_concurrency=int(env.get("LAMBDA_LOCAL_ACCOUNT_CONCURRENCY", "0")),
            retry_delays=tuple(float(d) for d in delays.split(",")) if delays else ASYNC_RETRY_DELAYS,
            log_dir=state / "logs",
            state_dir=state,
            debug=env.get("LAMBDA_LOCAL_DEBUG", ""),
            log_level=env.get("LAMBDA_LOCAL_LOG_LEVEL", "INFO").upper(),
            service=env.get("LAMBDA_LOCAL_SERVICE", SERVICE),
            compose_functions=env.get("LAMBDA_LOCAL_COMPOSE_FUNCTIONS", "1") != "0",
        )
