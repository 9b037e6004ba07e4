"""Docker mode's execution environments started on demand: containers of the function's image, run
through the Docker SDK with the sandbox of its compose service (lambda_local/sandbox.py), on the
compose network, labelled so a starting plane and `make down` find and remove every one.

The plane needs the engine's socket for this (compose.yaml mounts it into the `lambda` service);
without it, Docker mode keeps to the one container compose runs per function."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
from dataclasses import dataclass
from typing import Any

from lambda_local.providers import FunctionSpec
from lambda_local.runtimes import Instance, LogBuffer, wait_for_port
from lambda_local.sandbox import LABEL, RIE_PORT, Sandbox, run_kwargs

_numbers = itertools.count(1)


@dataclass(frozen=True)
class Engine:
    """The Docker engine as the plane's container sees it: its compose project and network."""

    client: Any
    project: str
    network: str

    @property
    def labels(self) -> dict[str, str]:
        return {f"{LABEL}.project": self.project}

    def leftovers(self) -> list[Any]:
        """Containers an earlier plane of this project started (it was killed before it could stop them)."""
        return list(self.client.containers.list(all=True, filters={"label": f"{LABEL}.project={self.project}"}))


def engine() -> Engine | None:
    """The engine, when the plane runs in a compose container with the engine's socket; else None."""
    try:
        import docker

        client = docker.from_env(timeout=30)
        client.ping()
        me = client.containers.get(socket.gethostname())
    except Exception:  # no socket, no engine, or not in a container: the fixed pool it is  # noqa: BLE001
        return None
    project = me.labels.get("com.docker.compose.project", "lambda-local")
    networks = list(me.attrs["NetworkSettings"]["Networks"])
    return Engine(client, project, networks[0]) if networks else None


def remove_leftovers(found: Engine) -> int:
    removed = 0
    for container in found.leftovers():
        with contextlib.suppress(Exception):
            container.remove(force=True)
            removed += 1
    return removed


class ContainerEnvironment(Instance):
    """One execution environment: a container the plane started and will remove."""

    replaceable = True  # unreachable: a fresh environment takes over

    def __init__(
        self,
        fn: FunctionSpec,
        box: Sandbox,
        found: Engine,
        local_env: dict[str, str],
        log: LogBuffer,
        logs: dict[str, LogBuffer],
    ) -> None:
        self.name = f"{found.project}-{fn.directory}-env-{next(_numbers)}"
        super().__init__(fn, f"http://{self.name}:{RIE_PORT}", log)
        self.box, self.engine, self.local_env, self.logs = box, found, local_env, logs
        self.container: Any = None
        self.stopped = False

    async def start(self) -> None:
        self.logs[self.name] = self.log  # its syslog tag: its lines land in its own buffer
        labels = self.engine.labels | {f"{LABEL}.function": self.fn.lambda_name}
        kwargs = run_kwargs(self.box, self.local_env, self.name, self.engine.network, self.name, labels)
        self.container = await asyncio.to_thread(self.engine.client.containers.run, **kwargs)
        await wait_for_port(self.name, RIE_PORT, 120, alive=self.alive)

    async def stop(self) -> None:
        self.stopped = True
        self.logs.pop(self.name, None)
        if self.container is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.container.remove, force=True)

    def alive(self) -> bool:
        return not self.stopped

    def state(self) -> dict[str, Any]:
        return super().state() | {"container": self.name}
