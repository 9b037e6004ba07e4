"""A probe plane in Docker mode: the plane's image in a compose project of its own (`lambda-probe`) serving
a probe template on the probe ports, on the running Docker-mode stack's network (its `aws`, beside its
`lambda`). Its functions' images are built from the probe template here; it has no compose container per
function (LAMBDA_LOCAL_COMPOSE_FUNCTIONS=0): the plane starts every execution environment as a container,
as it starts the stack's further ones. The same interface as the host-mode ProbePlane, so a test or a
bench runs on either (`probe_plane_for_mode`).

The plane runs the working tree's lambda_local/ (mounted over the image's), the probe template's folder is
mounted at its place in the project (or, outside it, at /probe-project), and its state directory is the
test's (bind-mounted): what it writes (function logs, the durable store) is read from the host as in host
mode.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lambda_local.environments import function_envs
from lambda_local.environments.containers import BuildFailed, build_from_context
from lambda_local.providers import FunctionSpec
from lambda_local.settings import API_PORT as PLANE_API_PORT
from lambda_local.settings import AWS_PORT
from lambda_local.settings import INVOKE_PORT as PLANE_INVOKE_PORT
from lambda_local.settings import URL_PORT as PLANE_URL_PORT
from stack import ROOT, docker_mode
from tests.support.probe_plane import API_PORT, INVOKE_PORT, TEMPLATE, URL_PORT, ProbePlane

PROJECT = "lambda-probe"  # its compose project: its environments are labelled with it
SERVICE = "lambda-probe"  # the plane's name on the network (the stack's own is `lambda`)
SYSLOG_PORT = 3614  # its functions' output (the stack's plane has 3514)
STATE = "/probe-state"  # the state directory in its container (the test's, bind-mounted)
OUTSIDE = "/probe-project"  # a probe project outside this one (a test's temporary folder), in its container
PLANE_IMAGE = "lambda-local:local"  # the stack's plane image (compose.yaml builds it)


def stack_network() -> str:
    """The Docker-mode stack's network, which the probe plane and its functions join (`aws` is there)."""
    from stack.docker_mode import PROJECT as STACK_PROJECT

    return f"{STACK_PROJECT}_default"


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def image_context(fn: FunctionSpec) -> io.BytesIO:
    """The build context the function's Dockerfile expects (images/, shared/, functions/<FUNCTION>/ with its
    requirements.lock) from a probe function's folder, wherever it is: its lock is the one host mode makes
    for it (function_envs.ensure_function_lock), the probe templates commit none."""
    folder = fn.build_args.get("FUNCTION", fn.directory)
    lock = function_envs.ensure_function_lock(fn)
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for source in (ROOT / Path(fn.dockerfile).parent, ROOT / "shared"):
            for path in sorted(source.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    _add(tar, str(path.relative_to(ROOT)), path.read_bytes())
        for path in sorted(fn.code.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.name != "requirements.lock":
                _add(tar, f"functions/{folder}/{path.relative_to(fn.code)}", path.read_bytes())
        _add(tar, f"functions/{folder}/requirements.lock", lock.read_bytes())
    data.seek(0)
    return data


def build_images(functions: Iterable[FunctionSpec], say: Any = print) -> None:
    """Each image the functions name, built once (the engine's layer cache keeps what did not change)."""
    import docker

    client = docker.from_env(timeout=600)
    built: set[str] = set()
    for fn in functions:
        if fn.image in built:
            continue
        started = time.perf_counter()
        try:
            build_from_context(client, image_context(fn), fn.image, fn.build_args, fn.dockerfile)
        except BuildFailed as exc:
            raise RuntimeError(f"the probe image {fn.image} did not build: {exc}") from None
        built.add(fn.image)
        say(f"probe image {fn.image} built in {time.perf_counter() - started:.1f}s")


def inside(template: Path) -> bool:
    return template.resolve().is_relative_to(ROOT)


def template_in_container(template: Path) -> str:
    """Where the plane's container finds the template, its folder mounted: at its place in the project, or
    (a test's temporary project) at OUTSIDE."""
    resolved = template.resolve()
    return f"/project/{resolved.relative_to(ROOT)}" if inside(template) else f"{OUTSIDE}/{resolved.name}"


def compose_file(template: Path, state: Path, env: dict[str, str]) -> dict[str, Any]:
    """The probe plane's compose project: the plane alone, on the stack's network, its ports on loopback."""
    return {
        "name": PROJECT,
        "services": {
            SERVICE: {
                "image": PLANE_IMAGE,
                "command": ["python", "-m", "lambda_local"],
                "user": "0",  # the engine's socket, as the stack's plane (docs/modes.md)
                "env_file": [str(ROOT / "local.env")],
                "environment": {
                    "AWS_ENDPOINT_URL": f"http://aws:{AWS_PORT}",
                    "LAMBDA_LOCAL_MODE": "docker",
                    "LAMBDA_LOCAL_BIND": "0.0.0.0",  # noqa: S104 - inside its container; published on loopback
                    "LAMBDA_LOCAL_SERVICE": SERVICE,
                    "LAMBDA_LOCAL_ALLOWED_HOSTS": SERVICE,
                    # Its console's pages, as the browser sees them: on the published port, not the container's.
                    "LAMBDA_LOCAL_ALLOWED_ORIGINS": f"http://127.0.0.1:{INVOKE_PORT},http://localhost:{INVOKE_PORT}",
                    "LAMBDA_LOCAL_COMPOSE_FUNCTIONS": "0",
                    "LAMBDA_LOCAL_SYSLOG_PORT": str(SYSLOG_PORT),
                    "LAMBDA_LOCAL_TEMPLATE": template_in_container(template),
                    "LAMBDA_LOCAL_STATE": STATE,
                    "LAMBDA_LOCAL_WATCH": "0",
                }
                | env,
                "volumes": [
                    f"{ROOT / 'lambda_local'}:/project/lambda_local:ro",
                    f"{ROOT / 'shared'}:/project/shared:ro",
                    f"{template.resolve().parent}:{template_in_container(template).rsplit('/', 1)[0]}:ro",
                    f"{state}:{STATE}",
                    "/var/run/docker.sock:/var/run/docker.sock",
                ],
                "ports": [
                    f"127.0.0.1:{INVOKE_PORT}:{PLANE_INVOKE_PORT}",
                    f"127.0.0.1:{API_PORT}:{PLANE_API_PORT}",
                    f"127.0.0.1:{URL_PORT}:{PLANE_URL_PORT}",
                    f"127.0.0.1:{SYSLOG_PORT}:{SYSLOG_PORT}/udp",
                ],
            }
        },
        "networks": {"default": {"name": stack_network(), "external": True}},
    }


class DockerProbePlane(ProbePlane):
    """ProbePlane's interface, the plane and its functions in containers (the Docker-mode stack must run)."""

    mode = "docker"

    def __init__(self, state: Path, template: Path = TEMPLATE, env: dict[str, str] | None = None) -> None:
        super().__init__(state, template, env)
        self.compose_path = self.state / "compose.json"
        self.running = False
        self.started_stack = False

    def _compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = ["docker", "compose", "-p", PROJECT, "-f", str(self.compose_path), "--project-directory", str(ROOT)]
        return subprocess.run([*command, *args], check=check, capture_output=True, text=True, timeout=300)

    def start(self, timeout: float = 60, poll_s: float = 0.2) -> None:
        """Its images built, the plane up; the Docker-mode stack first when none runs (its network and `aws`
        are the stack's: stopped again with this plane)."""
        import stack

        if not self.started_stack and not stack.stack_is_up():
            stack.up()
            self.started_stack = True
        self.state.mkdir(parents=True, exist_ok=True)
        build_images(self.template.functions)
        self.compose_path.write_text(json.dumps(compose_file(self.template_path, self.state, self.extra_env)))
        self._remove_environments()  # an earlier probe plane's, had it been killed
        self._compose("up", "-d", "--force-recreate")
        self.running = True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{INVOKE_PORT}/_local/functions", timeout=2):
                    return
            except OSError:
                if self._exited():
                    break
                time.sleep(poll_s)
        log = self.log()
        self.stop()
        raise RuntimeError(f"the Docker-mode probe plane did not start: {log[-2000:]}")

    def _exited(self) -> bool:
        ps = self._compose("ps", "--all", "--format", "json", check=False).stdout
        states = [json.loads(line).get("State") for line in ps.splitlines() if line.strip()]
        return any(state in {"exited", "dead"} for state in states)

    def _remove_environments(self) -> None:
        docker_mode.remove_environments(PROJECT)

    def environments(self) -> list[str]:
        """The names of the containers this plane started (running or not)."""
        return [c.name for c in docker_mode.environments(PROJECT)]

    def stop(self) -> None:
        if self.running:
            self._compose("down", "--timeout", "15", check=False)
            self._remove_environments()  # a plane stopped by SIGTERM removes them; one that was not, here
            self.running = False
        if self.started_stack:
            import stack

            stack.down()
            self.started_stack = False

    def kill(self) -> None:
        if self.running:
            self._compose("kill", "-s", "SIGKILL", check=False)

    def log(self) -> str:
        if not self.compose_path.exists():
            return ""
        return self._compose("logs", "--no-color", "--no-log-prefix", SERVICE, check=False).stdout


def probe_plane_for_mode(state: Path, template: Path = TEMPLATE, env: dict[str, str] | None = None) -> ProbePlane:
    """A probe plane of the running stack's mode: in containers beside a Docker-mode stack, else in host mode."""
    import stack

    kind = DockerProbePlane if stack.mode() == "docker" else ProbePlane
    return kind(state, template, env)
