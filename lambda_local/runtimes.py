"""Per function: its runtime instances (RIE processes, or containers) behind one bounded queue.

The RIE serves one invocation at a time (a second overlapping request crashes it), so every
invocation of a function waits in that function's queue until one of its instances is free; a full
queue is Lambda's throttle. In host mode the instances are processes this module starts and restarts
when they die; in Docker mode they are the compose services (compose restarts them). This is the
only code that opens a connection to an RIE.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import signal
import socket
import sys
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from lambda_local.providers import FunctionSpec

RIE_INVOKE_PATH = "/2015-03-31/functions/function/invocations"
TAIL_BYTES = 4096
_START = re.compile(r"START RequestId: (\S+)")
_ERROR_KEYS = {"errorMessage", "errorType", "requestId", "stackTrace", "cause"}


class Throttled(Exception):
    """The function's queue is full (Lambda answers 429 TooManyRequestsException)."""


@dataclass(frozen=True)
class InvokeResult:
    payload: bytes
    function_error: str | None  # "Unhandled" when the function failed, as Lambda's X-Amz-Function-Error
    request_id: str
    log_tail: str
    duration_ms: float


class LogBuffer:
    """Lines an instance printed: appended to its log file, the recent ones kept for `LogType: Tail`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: deque[str] = deque(maxlen=2000)
        self.count = 0
        self._grew = asyncio.Event()
        path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        self.lines.append(line[:16384])
        self.count += 1
        self._grew.set()
        self._grew = asyncio.Event()

    def since(self, mark: int) -> list[str]:
        new = min(self.count - mark, len(self.lines))
        return list(self.lines)[-new:] if new > 0 else []

    def request_ids(self, mark: int) -> list[str]:
        """The request ids of the RIE's START lines appended after `mark`."""
        return [m.group(1) for line in self.since(mark) if (m := _START.match(line))]

    async def wait_for(self, mark: int, prefix: str, timeout: float) -> None:
        """Wait until a line starting with `prefix` was appended after `mark` (or `timeout` passed)."""
        deadline = time.monotonic() + timeout
        while not any(line.startswith(prefix) for line in self.since(mark)):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._grew.wait(), remaining)


class Instance(ABC):
    """One runtime interface emulator serving one function."""

    def __init__(self, fn: FunctionSpec, url: str, log: LogBuffer) -> None:
        self.fn = fn
        self.url = url
        self.log = log
        self.restarts = 0

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def supervise(self) -> None:
        """Keep the instance running."""

    @abstractmethod
    async def restart(self) -> None:
        """A fresh runtime: the next invocation is a cold start."""

    def state(self) -> dict[str, Any]:
        return {"url": self.url, "restarts": self.restarts}


# Host mode's RIE ports come from below Linux's ephemeral range (32768 and up by default): a port the
# kernel hands out for outgoing connections could be taken by one between our check and the RIE's bind.
RIE_PORTS = (20000, 32767)
_given: set[int] = set()


def free_port() -> int:
    """A loopback port for an RIE: free now, and never given twice by this process."""
    for _ in range(1000):
        port = random.randint(*RIE_PORTS)  # noqa: S311 - spreading ports, not a secret
        if port in _given:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError(f"no free port in {RIE_PORTS[0]}..{RIE_PORTS[1]}")


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


class RieProcess(Instance):
    """Host mode: `aws-lambda-rie ... python -m awslambdaric <handler>` in the function's folder."""

    def __init__(
        self, fn: FunctionSpec, port: int, api_port: int, env: dict[str, str], rie: str, log: LogBuffer
    ) -> None:
        super().__init__(fn, f"http://127.0.0.1:{port}", log)
        self.port, self.api_port, self.env, self.rie = port, api_port, env, rie
        self.process: asyncio.subprocess.Process | None = None
        self.ready = asyncio.Event()
        self.stopping = False
        self._reader: asyncio.Task[None] | None = None

    async def start(self, attempts: int = 3) -> None:
        """Start the RIE; one that exits before it listens (a port taken meanwhile by another process)
        is started again on fresh ports."""
        for attempt in range(attempts):
            try:
                await self._start()
                return
            except RuntimeError as exc:
                if attempt == attempts - 1 or "exited before" not in str(exc):
                    raise
                self.log.append(f"[lambda_local] {self.fn.lambda_name} runtime on :{self.port} {exc}; new ports")
                self.port, self.api_port = free_port(), free_port()
                self.url = f"http://127.0.0.1:{self.port}"

    async def _start(self) -> None:
        self.ready.clear()
        self.process = await asyncio.create_subprocess_exec(
            self.rie,
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{self.port}",
            "--runtime-api-address",
            f"127.0.0.1:{self.api_port}",
            sys.executable,
            "-m",
            "awslambdaric",
            self.fn.handler,
            cwd=self.fn.code,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            limit=1 << 24,  # a function may log one very long line
        )
        self._reader = asyncio.create_task(self._read(self.process))
        process = self.process
        await wait_for_port("127.0.0.1", self.port, 30, alive=lambda: process.returncode is None)
        self.ready.set()

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            self.log.append(line.decode("utf-8", errors="replace").rstrip("\n"))

    async def supervise(self) -> None:
        while not self.stopping:
            assert self.process is not None
            code = await self.process.wait()
            if self.stopping:
                return
            self.ready.clear()
            self.restarts += 1
            self.log.append(f"[lambda_local] {self.fn.lambda_name} runtime on :{self.port} exited ({code}); restarting")
            await self._kill_children()
            await asyncio.sleep(0.2)
            try:
                await self.start()
            except (RuntimeError, OSError) as exc:
                self.log.append(f"[lambda_local] restart failed: {exc}; retrying")
                await asyncio.sleep(1)

    async def wait_alive(self) -> None:
        """Wait until this instance runs (after a crash, until supervise() has restarted it)."""
        if self.process is not None and self.process.returncode is not None:
            self.ready.clear()
        await self.ready.wait()

    async def _kill_children(self) -> None:
        """The runtime client the dead RIE started, if it outlived it."""
        for proc in psutil.process_iter(["cmdline"]):
            cmdline = proc.info["cmdline"] or []
            if (
                "awslambdaric" in cmdline
                and proc.environ().get("AWS_LAMBDA_RUNTIME_API") == f"127.0.0.1:{self.api_port}"
            ):
                with contextlib.suppress(psutil.Error):
                    proc.kill()

    async def restart(self) -> None:
        """Kill the runtime and return once supervise() has a fresh one listening (not before: the next
        invocation must be a plain cold start, not one that also waits out the restart)."""
        old = self.process
        if old is not None and old.returncode is None:
            self.ready.clear()
            old.send_signal(signal.SIGKILL)
            await old.wait()
        deadline = time.monotonic() + 60
        while self.process is old or not self.ready.is_set():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.fn.lambda_name}: no fresh runtime on :{self.port} within 60s")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self.stopping = True
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
        with contextlib.suppress(psutil.Error):
            await self._kill_children()

    def state(self) -> dict[str, Any]:
        pid = self.process.pid if self.process and self.process.returncode is None else None
        return super().state() | {"pid": pid}


class Container(Instance):
    """Docker mode: a compose service on the compose network; compose restarts it when it dies."""

    async def start(self) -> None:
        host, port = self.url.removeprefix("http://").split(":")
        await wait_for_port(host, int(port), 120)

    async def stop(self) -> None:
        return None

    async def supervise(self) -> None:
        return None  # compose's restart policy brings a dead container back

    async def restart(self) -> None:
        return None  # `docker compose restart <service>` does this in Docker mode


@dataclass
class _Invocation:
    payload: bytes
    tail: bool
    future: asyncio.Future[InvokeResult] = field(repr=False)


def error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def classify(status: int, body: bytes, request_id: str, timeout_s: int) -> tuple[bytes, str | None]:
    """The payload and function error Lambda would report for what the RIE answered."""
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


class FunctionRuntime:
    """A function's instances and the queue in front of them."""

    def __init__(self, fn: FunctionSpec, instances: list[Instance], queue_size: int, client: httpx.AsyncClient) -> None:
        self.fn = fn
        self.instances = instances
        self.queue: asyncio.Queue[_Invocation] = asyncio.Queue(queue_size)
        self.client = client
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await asyncio.gather(*(instance.start() for instance in self.instances))
        for instance in self.instances:
            self._tasks += [asyncio.create_task(self._work(instance)), asyncio.create_task(instance.supervise())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*(instance.stop() for instance in self.instances), return_exceptions=True)

    async def invoke(self, payload: bytes, tail: bool = False) -> InvokeResult:
        """Queue one invocation and wait for its result; Throttled when the queue is full."""
        future: asyncio.Future[InvokeResult] = asyncio.get_running_loop().create_future()
        try:
            self.queue.put_nowait(_Invocation(payload, tail, future))
        except asyncio.QueueFull:
            raise Throttled(self.fn.lambda_name) from None
        return await future

    async def invoke_when_free(self, payload: bytes) -> InvokeResult:
        """An event source's invocation: when the queue is full it waits and tries again (a throttled event
        or batch is not a failed one and uses up no retry)."""
        while True:
            try:
                return await self.invoke(payload)
            except Throttled:
                await asyncio.sleep(0.05)

    async def restart(self) -> None:
        await asyncio.gather(*(instance.restart() for instance in self.instances))

    def state(self) -> dict[str, Any]:
        return {
            "function": self.fn.lambda_name,
            "queued": self.queue.qsize(),
            "instances": [instance.state() for instance in self.instances],
        }

    async def _work(self, instance: Instance) -> None:
        while True:
            invocation = await self.queue.get()
            try:
                result = await self._call(instance, invocation.tail, invocation.payload)
            except Exception as exc:  # the caller gets a Lambda-shaped error, never a dropped request
                result = InvokeResult(error_payload("Runtime.Unknown", str(exc)[:500]), "Unhandled", "", "", 0.0)
            if not invocation.future.done():
                invocation.future.set_result(result)

    async def _call(self, instance: Instance, tail: bool, payload: bytes) -> InvokeResult:
        status, body, mark, started = 0, b"", instance.log.count, time.perf_counter()
        for attempt in range(3):
            if isinstance(instance, RieProcess):
                await instance.wait_alive()
            mark = instance.log.count
            started = time.perf_counter()
            try:
                response = await self.client.post(
                    instance.url + RIE_INVOKE_PATH,
                    content=payload,
                    timeout=httpx.Timeout(self.fn.timeout_s + 30, connect=10),
                )
                status, body = response.status_code, response.content
            except httpx.ConnectError:
                # Never reached a runtime (it had just died): Lambda would use a fresh one.
                status, body = 0, b""
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            except httpx.TransportError:
                status, body = 0, b""  # the runtime died mid-invocation; supervise() restarts it
            break
        duration_ms = (time.perf_counter() - started) * 1000
        starts = instance.log.request_ids(mark)
        if not starts and status != 0:  # Docker mode: the lines come by syslog, a moment later
            await instance.log.wait_for(mark, "START RequestId", 0.5)
            starts = instance.log.request_ids(mark)
        request_id = starts[-1] if starts else str(uuid.uuid4())
        if not starts and status == 200:
            # No log line at all: trust the error keys awslambdaric always writes.
            with contextlib.suppress(ValueError, AttributeError):
                request_id = json.loads(body).get("requestId") or request_id
        result_payload, function_error = classify(status, body, request_id, self.fn.timeout_s)
        log_tail = ""
        if tail:
            await instance.log.wait_for(mark, "END RequestId", 1.0)
            text = "\n".join(instance.log.since(mark)) + "\n"
            log_tail = text.encode()[-TAIL_BYTES:].decode(errors="ignore")
        return InvokeResult(result_payload, function_error, request_id, log_tail, duration_ms)
