"""One execution environment as the pool sees it (an RIE, a process or a container) and what its answer
means: Lambda's result, its function error, its request id.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from lambda_local.environments.log_buffer import LogBuffer
from lambda_local.providers import FunctionSpec
from lambda_local.settings import SYNC_PAYLOAD_LIMIT

RIE_INVOKE_PATH = "/2015-03-31/functions/function/invocations"


TAIL_BYTES = 4096


SHIM_KEY = "lambda-local"  # runtime_shim.KEY (not imported: that module imports awslambdaric)


# A debug environment's timeout: a breakpoint must not end in Sandbox.Timedout (Lambda's limit is 900 s).
DEBUG_TIMEOUT_S = 12 * 3600


_ERROR_KEYS = {"errorMessage", "errorType", "requestId", "stackTrace", "cause"}


class NotReached(Exception):
    """The invocation never reached the environment's runtime (it had died)."""


@dataclass(frozen=True)
class InvokeResult:
    payload: bytes
    function_error: str | None  # "Unhandled" when the function failed, as Lambda's X-Amz-Function-Error
    request_id: str
    log_tail: str
    duration_ms: float
    cold_start: bool = False  # the first invocation of a new execution environment


class Instance(ABC):
    """One runtime interface emulator serving one function."""

    replaceable = False  # when it cannot be reached, a fresh environment takes over (else: retry it)

    def __init__(self, fn: FunctionSpec, url: str, log: LogBuffer) -> None:
        self.fn = fn
        self.url = url
        self.log = log
        self.restarts = 0
        self.invocations = 0
        self.last_used = time.monotonic()
        self.warm = False  # started ahead of work (provisioned concurrency): its first call is no cold start
        self.retiring = False  # stop after the invocation in flight
        self.timeout_s = fn.timeout_s  # how long the plane waits for an invocation (a debug one: far longer)
        self.assigns_ids = False  # its runtime takes the plane's request id and trace header (runtime_shim.py)
        self.measured_mb: float | None = None  # the memory it uses, once measured (memory_mb)
        self.tenant: str | None = None  # tenant isolation: the one tenant it serves, for its whole life
        self.initialized = False  # its init phase has run apart from any invocation (pool._initialize)

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    def alive(self) -> bool:
        return True

    def memory_mb(self) -> float | None:
        """The memory it uses now (None: not measurable from here)."""
        return None

    def state(self) -> dict[str, Any]:
        return {"url": self.url, "restarts": self.restarts, "invocations": self.invocations, "tenant": self.tenant}


async def wait_for_port(host: str, port: int, timeout: float, alive: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
            writer.close()
            return
        except OSError:
            if alive is not None and not alive():
                raise RuntimeError(f"exited before opening port {port}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"did not open port {port} within {timeout:.0f}s") from None
            await asyncio.sleep(0.05)


def client_context(request_id: str, trace_id: str, tenant: str | None = None) -> str:
    """The invocation's client context as the RIE passes it on: the plane's request id, trace header and
    tenant id, for the runtime shim to take out (runtime_shim.py)."""
    ours = {"requestId": request_id, "traceId": trace_id} | ({"tenantId": tenant} if tenant is not None else {})
    context = {"custom": {SHIM_KEY: ours}}
    return base64.b64encode(json.dumps(context).encode()).decode()


INIT_CONTEXT = base64.b64encode(json.dumps({"custom": {SHIM_KEY: {"init": True}}}).encode()).decode()
INITIALIZED = b'{"lambda-local": "initialized"}'  # runtime_shim.INITIALIZED: the init invocation's answer


def error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def classify(status: int, body: bytes, request_id: str, timeout_s: int) -> tuple[bytes, str | None]:
    """The payload and function error Lambda would report for what the RIE answered."""
    if status == 200 and len(body) > SYNC_PAYLOAD_LIMIT:
        message = (
            f"Response payload size ({len(body)} bytes) exceeded maximum allowed payload size "
            f"({SYNC_PAYLOAD_LIMIT} bytes)."
        )
        return error_payload("Function.ResponseSizeTooLarge", message), "Unhandled"
    if status == 0 or not body.strip():
        return error_payload("Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited"), "Unhandled"
    if body.startswith(b"Task timed out after"):
        message = f"RequestId: {request_id} Error: {body.decode(errors='replace').strip()}"
        return error_payload("Sandbox.Timedout", message), "Unhandled"
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if status != 200:
        if isinstance(parsed, dict) and "errorType" in parsed:
            return body, "Unhandled"
        return error_payload("Runtime.Unknown", body.decode(errors="replace")[:500]), "Unhandled"
    # awslambdaric reports a raised exception as {errorMessage, errorType, requestId, stackTrace}, with
    # this invocation's id: a returned dict that merely looks like an error does not carry it.
    if (
        isinstance(parsed, dict)
        and {"errorMessage", "errorType"} <= parsed.keys() <= _ERROR_KEYS
        and parsed.get("requestId") == request_id
    ):
        return body, "Unhandled"
    return body, None
