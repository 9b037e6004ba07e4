"""Host mode's execution environments: an RIE process per environment, on a private loopback address."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import secrets
import signal
import socket
import sys
from typing import Any

import psutil

from lambda_local.environments.instance import (
    DEBUG_TIMEOUT_S,
    Instance,
    wait_for_port,
)
from lambda_local.environments.log_buffer import LogBuffer, drain
from lambda_local.environments.pool import MB
from lambda_local.providers import FunctionSpec

# Host mode's RIE ports come from below Linux's ephemeral range (32768 and up by default): a port the
# kernel hands out for outgoing connections could be taken by one between our check and the RIE's bind.
RIE_PORTS = (20000, 32767)
RUNTIME_MODULE = "lambda_local.environments.runtime_shim"


_given: set[tuple[str, int]] = set()


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the forked child, before the RIE runs: the kernel kills it when the plane dies, even by
    SIGKILL (Linux's PR_SET_PDEATHSIG), so no runtime outlives its plane or keeps its ports."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def stop_leftovers(state_dir: str) -> int:
    """Runtimes an earlier plane with this state folder left running (one that died before it could
    stop them, on a system without PR_SET_PDEATHSIG): stopped; how many."""
    stopped = 0
    for process in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error):
            if process.pid != os.getpid() and process.environ().get("LAMBDA_LOCAL_STATE") == state_dir:
                process.kill()
                stopped += 1
    return stopped


def private_host() -> str:
    """A loopback address for an RIE's ports that no web page can guess: a random one of 127.0.0.0/8
    (Linux routes the whole block to `lo`). The RIE checks neither `Host` nor `Origin`, so its ports are
    never published and, at 2^24 addresses times 12k ports, not found by scanning either; 127.0.0.1 on
    a system where only that address is configured."""
    for _ in range(20):
        host = f"127.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{1 + secrets.randbelow(254)}"
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, 0))
            except OSError:
                break
        return host
    return "127.0.0.1"


def free_port(host: str = "127.0.0.1") -> int:
    """A port on `host` for an RIE: free now, and never given twice by this process."""
    for _ in range(1000):
        port = RIE_PORTS[0] + secrets.randbelow(RIE_PORTS[1] - RIE_PORTS[0] + 1)
        if (host, port) in _given:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        _given.add((host, port))
        return port
    raise RuntimeError(f"no free port in {RIE_PORTS[0]}..{RIE_PORTS[1]}")


class RieProcess(Instance):
    """Host mode: `aws-lambda-rie ... <python> -m lambda_local.environments.runtime_shim <handler>` in the
    function's folder, `python` its own environment's (function_envs.py: its image's Python version and
    its own packages)."""

    replaceable = True

    def __init__(
        self,
        fn: FunctionSpec,
        port: int,
        api_port: int,
        env: dict[str, str],
        rie: str,
        log: LogBuffer,
        debug: bool = False,
        host: str = "127.0.0.1",
        python: str = sys.executable,
    ) -> None:
        super().__init__(fn, f"http://{host}:{port}", log)
        self.host, self.port, self.api_port, self.env, self.rie = host, port, api_port, env, rie
        self.python = python
        self.debug = debug
        # debugpy's own address, as private as the RIE's; the plane's guard (debug_guard.py) listens on
        # DEBUG_ADDRESS and passes an editor's connection on to it.
        self.debug_address = (host, free_port(host)) if debug else None
        self.assigns_ids = True
        if debug:  # the RIE enforces AWS_LAMBDA_FUNCTION_TIMEOUT: suspended while someone steps through
            self.timeout_s = DEBUG_TIMEOUT_S
            self.env = env | {"AWS_LAMBDA_FUNCTION_TIMEOUT": str(DEBUG_TIMEOUT_S)}
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
                self.port, self.api_port = free_port(self.host), free_port(self.host)
                self.url = f"http://{self.host}:{self.port}"

    async def _start(self) -> None:
        self.ready.clear()
        self.process = await asyncio.create_subprocess_exec(
            self.rie,
            "--runtime-interface-emulator-address",
            f"{self.host}:{self.port}",
            "--runtime-api-address",
            f"{self.host}:{self.api_port}",
            *self.runtime_command(),
            cwd=self.fn.code,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        self._reader = asyncio.create_task(self._read(self.process))
        process = self.process
        await wait_for_port(self.host, self.port, 30, alive=lambda: process.returncode is None)
        self.ready.set()

    def runtime_command(self) -> list[str]:
        """What the RIE runs (on the first invocation: it starts the runtime lazily): the runtime
        interface client, under debugpy in a debug environment, waiting there for an editor to attach;
        the function's environment has both (function_envs.py's host-runtime.lock)."""
        client = ["-m", RUNTIME_MODULE, self.fn.handler]
        if self.debug_address is None:
            return [self.python, *client]
        listen = f"{self.debug_address[0]}:{self.debug_address[1]}"
        return [self.python, "-m", "debugpy", "--listen", listen, "--wait-for-client", *client]

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        await drain(process.stdout, self.log)

    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def _kill_children(self) -> None:
        """The runtime client the dead RIE started, if it outlived it."""
        for proc in psutil.process_iter(["cmdline"]):
            with contextlib.suppress(psutil.Error):  # gone meanwhile, or not ours to read
                cmdline = proc.info["cmdline"] or []
                if (
                    RUNTIME_MODULE in cmdline
                    and proc.environ().get("AWS_LAMBDA_RUNTIME_API") == f"{self.host}:{self.api_port}"
                ):
                    proc.kill()

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

    def memory_mb(self) -> float | None:
        """Resident memory of the RIE and the runtime it started."""
        if self.process is None or self.process.returncode is not None:
            return None
        try:
            root = psutil.Process(self.process.pid)
            return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / MB
        except psutil.Error:
            return None

    def state(self) -> dict[str, Any]:
        """Its address is left out: never published (private_host); its process is the user's own."""
        pid = self.process.pid if self.process and self.process.returncode is None else None
        return {k: v for k, v in super().state().items() if k != "url"} | {"pid": pid}
