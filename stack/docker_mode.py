"""Docker mode: the stack is compose.yaml, driven with `docker compose`."""

from __future__ import annotations

import contextlib
import subprocess
import time
import urllib.request
from typing import Any

import yaml

from lambda_local.environments.sandbox import project_environments
from stack.common import LAMBDA_ENDPOINT, ROOT, backing_ports, log, port_open, wait_for_plane
from stack.functions import Function, functions

PROJECT = str(yaml.safe_load((ROOT / "compose.yaml").read_text())["name"])  # compose's project name


def environments(project: str = PROJECT) -> list[Any]:
    """The containers the plane started as execution environments (all projects' planes on this engine
    are told apart by their label's value; this stack has one project)."""
    import docker

    return project_environments(docker.from_env(timeout=30), project)


def remove_environments(project: str = PROJECT) -> int:
    from docker.errors import APIError, NotFound

    removed = 0
    for container in environments(project):
        try:
            container.remove(force=True)
        except NotFound:  # removed meanwhile (by its killed plane's last request)
            continue
        except APIError as exc:  # its removal is under way already; the network release deals with the rest
            log(f"could not remove {container.name}: {exc}")
            continue
        removed += 1
    return removed


def release_networks(project: str = PROJECT) -> list[str]:
    """Whatever is still attached to this project's networks, detached: a container compose does not
    own is removed, an endpoint whose container is gone (the engine can lag behind a forced removal,
    and compose then cannot remove the network: "has active endpoints") is disconnected by force.
    Returns what was attached, for the log. (The engine finds a gone container's endpoint by its name.)"""
    import docker
    from docker.errors import APIError, NotFound

    client = docker.from_env(timeout=30)
    released: list[str] = []
    for network in client.networks.list(filters={"label": f"com.docker.compose.project={project}"}):
        network.reload()
        for endpoint, attached in (network.attrs.get("Containers") or {}).items():
            released.append(f"{attached.get('Name') or endpoint[:12]} on {network.name}")
            try:
                client.containers.get(endpoint).remove(force=True)
            except APIError as exc:  # gone, or its removal under way already: its endpoint goes by force
                if not isinstance(exc, NotFound):
                    log(f"could not remove {attached.get('Name')}: {exc}")
                with contextlib.suppress(APIError):
                    network.disconnect(attached.get("Name") or endpoint, force=True)
    return released


def stale_networks(project: str = PROJECT) -> list[str]:
    """The project's networks, when they are all it has left and nothing is attached to any: a network the
    engine will not remove then ("has active endpoints") holds an endpoint count the engine leaked (Docker
    Engine 20.10 to 27, moby/moby#43286; Engine 28 no longer keeps the count). Empty otherwise."""
    import docker

    client = docker.from_env(timeout=30)
    label = f"com.docker.compose.project={project}"
    if client.containers.list(all=True, filters={"label": label}, ignore_removed=True) or environments(project):
        return []
    networks = client.networks.list(filters={"label": label})
    for network in networks:
        network.reload()
        if network.attrs.get("Containers"):
            return []
    return sorted(network.name for network in networks)


def compose(*args: str, check: bool = True, capture: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "compose", *args], cwd=ROOT, check=check, text=True, capture_output=capture)


def compose_wait(ports: dict[str, int], timeout: float = 180) -> None:
    """Wait until every published port answers (`up --wait` can exit 1 on the one-shot aws-init)."""
    deadline = time.monotonic() + timeout
    for service, port in ports.items():
        while not port_open(port):
            if time.monotonic() > deadline:
                raise SystemExit(f"{service} did not answer on port {port}; see `docker compose logs {service}`")
            time.sleep(0.5)


def compose_healthy(service: str, timeout: float = 120) -> None:
    """Wait for a compose service's health check (a published port answers before the server does)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if compose("ps", "--format", "{{.Health}}", service, check=False, capture=True).stdout.strip() == "healthy":
            return
        time.sleep(1)
    raise SystemExit(f"{service} did not become healthy within {timeout:.0f}s; see `docker compose logs {service}`")


class ComposeStack:
    """The `Stack` of Docker mode."""

    mode = "docker"

    def ports_to_claim(self) -> dict[str, int]:
        running = compose("ps", "--quiet", "--status", "running", check=False, capture=True).stdout.strip()
        return {} if running else backing_ports()

    def up(self) -> None:
        # Function containers start only after aws-init completed (depends_on), so `up` fails when
        # the bootstrap does.
        compose("up", "--detach", "--build")
        compose_wait(backing_ports())

        def alive() -> bool:  # the plane exits on a bad template or a missing resource: restarting, not running
            state = compose("ps", "--all", "--format", "{{.State}}", "lambda", check=False, capture=True)
            return state.stdout.strip() in ("running", "")

        wait_for_plane(alive=alive, output=lambda: self.read_logs("lambda"))

    def down(self) -> None:
        # The plane first, so it retires the environments it started; any it left (killed at compose's stop
        # timeout, or a killed plane's) go next: they are on the compose network, which compose cannot remove
        # while a container is attached ("has active endpoints").
        compose("stop", "lambda", check=False)
        removed = remove_environments()
        if removed:
            log(f"removed {removed} execution environment containers the plane had left")
        for _ in range(3):
            if compose("down", "--volumes", check=False).returncode == 0:
                return
            # Compose removed its containers but not the network: something is still attached, or the
            # engine only counts something as attached.
            released = release_networks()
            if not released and (stale := stale_networks()):
                # Every container and volume is gone; only a restart of the engine clears its count.
                log(
                    f"the engine keeps {', '.join(stale)} (empty: it counts an endpoint that no longer exists, a "
                    "Docker Engine bug, moby/moby#43286); it goes when the engine restarts, and `make up` reuses it"
                )
                return
            log(f"compose could not remove the network; released: {', '.join(released) or 'nothing attached now'}")
            time.sleep(1)
        compose("down", "--volumes")

    def stop_service(self, service: str) -> None:
        compose("stop", service)

    def start_service(self, service: str) -> None:
        compose("start", service)
        compose_healthy(service)

    def restart_function(self, fn: Function) -> None:
        # The plane retires the environments it started; compose restarts the function's own container.
        request = urllib.request.Request(f"{LAMBDA_ENDPOINT}/_local/functions/{fn.lambda_name}/restart", method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
        compose("restart", fn.directory)
        compose_healthy(fn.directory)  # its port is the plane's, so wait on the container itself

    def read_logs(self, service: str) -> str:
        if service in {fn.directory for fn in functions()}:
            # Every environment's lines, as the plane received them (compose knows its one container only).
            path = f"/project/.stack/logs/{service}.log"
            result = compose("exec", "-T", "lambda", "cat", path, check=False, capture=True)
            return result.stdout
        result = compose("logs", "--no-color", "--no-log-prefix", service, check=False, capture=True)
        return result.stdout + result.stderr

    def show_logs(self, services: list[str]) -> None:
        compose("logs", "--tail", "200", *services, check=False)

    def follow_events(self) -> None:
        compose("logs", "--follow", "--no-log-prefix", "lambda", check=False)
