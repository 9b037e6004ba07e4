"""Docker mode's execution environments started on demand: containers of the function's image, run
through the Docker SDK with the sandbox of its compose service (lambda_local/environments/sandbox.py), on the
compose network, labelled so a starting plane and `make down` find and remove every one.

The plane needs the engine's socket for this (compose.yaml mounts it into the `lambda` service);
without it, Docker mode keeps to the one container compose runs per function."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import socket
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_local.environments import reload
from lambda_local.environments.instance import DEBUG_TIMEOUT_S, Instance, wait_for_port
from lambda_local.environments.log_buffer import LogBuffer
from lambda_local.environments.sandbox import LABEL, Sandbox, project_environments, run_kwargs
from lambda_local.providers import FunctionSpec
from lambda_local.settings import DEBUG_ADDRESS, DEBUG_PORT, RIE_PORT

_numbers = itertools.count(1)
TASK_ROOT = "/var/task"  # LAMBDA_TASK_ROOT of the AWS base image


@dataclass(frozen=True)
class Engine:
    """The Docker engine as the plane's container sees it: its compose project and network."""

    client: Any
    project: str
    network: str
    project_dir: str | None = None  # the project on the engine's host (compose's working dir): the shim's mount

    @property
    def labels(self) -> dict[str, str]:
        return {f"{LABEL}.project": self.project}

    def leftovers(self) -> list[Any]:
        """Containers an earlier plane of this project started (it was killed before it could stop them)."""
        return project_environments(self.client, self.project)


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
    project_dir = me.labels.get("com.docker.compose.project.working_dir")
    return Engine(client, project, networks[0], project_dir) if networks else None


def remove_leftovers(found: Engine) -> int:
    removed = 0
    for container in found.leftovers():
        with contextlib.suppress(Exception):
            container.remove(force=True)
            removed += 1
    return removed


# What a function image's build reads (images/lambda-python.Dockerfile): the reload builds from these alone,
# so the context the plane sends is small. A Dockerfile that needs more says so in the build's error.
_CONTEXT_SKIPPED = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def build_context(root: Path, fn: FunctionSpec) -> io.BytesIO:
    """A tar of the function's build context: the Dockerfiles' folder, shared/ and the function's folder."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for folder in (root / Path(fn.dockerfile).parent, root / "shared", fn.code):
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not _CONTEXT_SKIPPED.intersection(path.relative_to(root).parts):
                    tar.add(path, arcname=str(path.relative_to(root)), recursive=False)
    data.seek(0)
    return data


class BuildFailed(Exception):
    """The function's image did not build (the last lines of the build's output are the message)."""


def build_from_context(client: Any, context: io.BytesIO, tag: str, buildargs: dict[str, str], dockerfile: str) -> None:
    """One image built through a Docker SDK client from a tar `context`; BuildFailed with the build's last
    lines (the tests' probe images are built with it too, from the host's client)."""
    import docker.errors

    try:
        client.images.build(
            fileobj=context,
            custom_context=True,
            dockerfile=dockerfile,
            buildargs=buildargs,
            tag=tag,
            rm=True,
            forcerm=True,
        )
    except docker.errors.BuildError as exc:
        lines = [str(chunk.get("stream", chunk.get("error", ""))).strip() for chunk in exc.build_log]
        raise BuildFailed(" | ".join(line for line in lines if line)[-600:] or str(exc)) from None
    except docker.errors.APIError as exc:
        raise BuildFailed(str(exc)) from None


def build_image(found: Engine, fn: FunctionSpec, root: Path) -> float:
    """The function's image built anew from the code under `root`, tagged as compose tags it (the tag new
    environments run); the seconds it took. The code layers are the Dockerfile's last, so an edit
    rebuilds only them (the engine's layer cache keeps the packages)."""
    started = time.perf_counter()
    build_from_context(found.client, build_context(root, fn), fn.image, fn.build_args, fn.dockerfile)
    return time.perf_counter() - started


DEBUGPY = "debugpy==1.8.22"  # requirements-dev.txt's
GUARD = Path(__file__).with_name("debug_guard.py")  # standard library only: runs in the function's Python
# A .pth file runs at every interpreter start: in a debug environment (LAMBDA_LOCAL_DEBUGPY set) the
# runtime's Python listens for an editor and waits for it before the runtime interface client runs,
# whatever the image's bootstrap does. debugpy listens on the container's loopback only; the guard
# (debug_guard.py) on the published port admits the host's DAP connections and nothing else (not another
# container of the network, not a browser's request).
_DEBUG_PTH = (  # the variable goes first, so the processes debugpy starts do not listen in turn
    "import os; exec('import debugpy, lambda_local_debug_guard as guard\\nguard.start_in_container()\\n"
    'debugpy.listen(("127.0.0.1", guard.INNER_PORT))\\ndebugpy.wait_for_client()\') '
    "if os.environ.pop('LAMBDA_LOCAL_DEBUGPY', None) else None"
)


def debug_image(found: Engine, fn: FunctionSpec) -> str:
    """`<folder>:debug`: the function's image with debugpy in its interpreter and the debugger's guard,
    for `make debug` only (never pushed: `make push` pushes the images compose builds). Built anew from
    the current image."""
    tag = f"{fn.directory}:debug"
    dockerfile = (
        f"FROM {fn.image}\n"
        "USER root\n"
        "ARG PTH\n"
        "COPY lambda_local_debug_guard.py /tmp/guard.py\n"
        f"RUN python3 -m pip install --no-cache-dir --quiet {DEBUGPY} "
        "&& python3 -c 'import shutil, site, sys; packages = site.getsitepackages()[0]; "
        'shutil.copy("/tmp/guard.py", packages + "/lambda_local_debug_guard.py"); '
        'open(packages + "/lambda-local-debug.pth", "w").write(sys.argv[1] + chr(10))\' '
        '"$PTH"\n'
    ).encode()
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for name, content in (("Dockerfile", dockerfile), ("lambda_local_debug_guard.py", GUARD.read_bytes())):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    data.seek(0)
    build_from_context(found.client, data, tag, {"PTH": _DEBUG_PTH}, "Dockerfile")
    return tag


def import_error(found: Engine, fn: FunctionSpec, box: Sandbox, local_env: dict[str, str]) -> str | None:
    """Whether the function's handler module imports in its (just rebuilt) image, as its runtime would
    import it: a throwaway container of the image on the compose network with its environment. None, or
    `path:line: Error: message` with the path as in the project (`functions/<folder>/...`, `shared/...`)."""
    import docker.errors

    module = fn.handler.rsplit(".", 1)[0]
    kwargs = run_kwargs(
        box,
        local_env,
        f"{found.project}-{fn.directory}-check-{next(_numbers)}",
        found.network,
        fn.directory,
        found.labels,
    )
    kwargs |= {"entrypoint": reload.import_check_command(module), "command": [], "working_dir": TASK_ROOT}
    kwargs |= {"detach": True, "log_config": None}
    container = found.client.containers.run(**kwargs)
    try:
        status = int(container.wait(timeout=120).get("StatusCode", 1))
        out = container.logs(stdout=True, stderr=False)
    except (docker.errors.APIError, OSError) as exc:
        return f"the import check could not run: {exc}"
    finally:
        with contextlib.suppress(Exception):
            container.remove(force=True)

    def where(file: str) -> str:
        inside = file.removeprefix(TASK_ROOT + "/")
        return inside if inside.startswith("shared/") else f"functions/{fn.directory}/{inside}"

    return reload.import_failure(status, out, module, where)


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
        debug: bool = False,
    ) -> None:
        self.name = f"{found.project}-{fn.directory}-env-{next(_numbers)}"
        super().__init__(fn, f"http://{self.name}:{RIE_PORT}", log)
        self.box, self.engine, self.local_env, self.logs = box, found, local_env, logs
        self.container: Any = None
        self.stopped = False
        self.debug = debug
        # Its runtime is the plane's shim (sandbox.py), mounted from the project as compose mounts it; an
        # engine that does not say where the project is leaves the image's own runtime (no ids, no trace).
        self.assigns_ids = found.project_dir is not None
        if debug:  # the RIE in the container enforces AWS_LAMBDA_FUNCTION_TIMEOUT: suspended
            self.timeout_s = DEBUG_TIMEOUT_S

    async def start(self) -> None:
        self.logs[self.name] = self.log  # its syslog tag: its lines land in its own buffer
        labels = self.engine.labels | {f"{LABEL}.function": self.fn.lambda_name}
        found = self.engine
        kwargs = run_kwargs(self.box, self.local_env, self.name, found.network, self.name, labels, found.project_dir)
        if self.debug:
            kwargs["image"] = await asyncio.to_thread(debug_image, self.engine, self.fn)
            kwargs["environment"] = kwargs["environment"] | {
                "LAMBDA_LOCAL_DEBUGPY": "1",
                "AWS_LAMBDA_FUNCTION_TIMEOUT": str(DEBUG_TIMEOUT_S),
            }
            kwargs["ports"] = {f"{DEBUG_PORT}/tcp": DEBUG_ADDRESS}  # on the host's loopback, as in host mode
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


class Container(Instance):
    """Docker mode: a compose service on the compose network; compose restarts it when it dies. Its RIE
    runs the plane's runtime shim (compose.yaml mounts it): it takes the plane's request id and trace."""

    def __init__(self, fn: FunctionSpec, url: str, log: LogBuffer) -> None:
        super().__init__(fn, url, log)
        self.assigns_ids = True

    async def start(self) -> None:
        host, port = self.url.removeprefix("http://").split(":")
        await wait_for_port(host, int(port), 120)

    async def stop(self) -> None:
        return None  # compose's restart policy brings a dead container back; `make down` stops it
