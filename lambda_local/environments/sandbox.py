"""A function's execution environment in Docker mode, defined once: the container compose.yaml's
rendered service runs and the containers the plane starts on demand through the Docker SDK carry the
same image, command, user, read-only root, /tmp tmpfs, memory without swap, environment and log
channel. lambda_local/environments/compose.py renders it as YAML; `run_kwargs` turns it into the SDK's arguments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambda_local.environments.variables import lambda_variables
from lambda_local.providers import FunctionSpec, Template
from lambda_local.settings import COMPOSE_AWS_ENDPOINT, COMPOSE_LAMBDA_ENDPOINT, COMPOSE_SYSLOG_ADDRESS

AWS_ENDPOINT = COMPOSE_AWS_ENDPOINT  # the moto service, inside the compose network
LAMBDA_ENDPOINT = COMPOSE_LAMBDA_ENDPOINT  # the plane's Invoke API, inside the compose network
USER = "993:990"  # Lambda runs the function as a user without privileges
SYSLOG_ADDRESS = COMPOSE_SYSLOG_ADDRESS  # the engine sends from the host to the plane's published port
LABEL = "io.github.lambda-local"  # label prefix of the containers the plane starts
# The image's RIE runs the plane's runtime shim (runtime_shim.py, mounted read only) on the image's own Python
# and awslambdaric, in place of the image's bootstrap: the invocation gets the plane's request id and trace
# header, as in host mode. The image is as built; only the command the container starts with differs.
SHIM = "/lambda-local/runtime_shim.py"
SHIM_SOURCE = "lambda_local/environments/runtime_shim.py"  # in the project, mounted at SHIM
ENTRYPOINT = ["/usr/local/bin/aws-lambda-rie", "/var/lang/bin/python3", SHIM]  # the AWS base image's paths


def project_environments(client: Any, project: str) -> list[Any]:
    """The containers a plane of compose project `project` started (running or not): what a plane
    starting after a killed one and `make down` remove. ignore_removed: the SDK inspects each container
    it lists, and one may be removed in between (by a plane scaling in or stopping)."""
    filters = {"label": f"{LABEL}.project={project}"}
    return list(client.containers.list(all=True, filters=filters, ignore_removed=True))


@dataclass(frozen=True)
class Sandbox:
    image: str
    command: list[str]
    memory_mb: int
    ephemeral_mb: int
    environment: dict[str, str]  # the template's variables resolved, and what Lambda sets
    user: str = USER
    read_only: bool = True
    entrypoint: tuple[str, ...] = tuple(ENTRYPOINT)  # the RIE running the shim on the image's Python
    syslog_address: str = SYSLOG_ADDRESS  # where its output goes: the plane's published syslog port


def sandbox(
    template: Template, fn: FunctionSpec, lambda_endpoint: str = LAMBDA_ENDPOINT, syslog_address: str = SYSLOG_ADDRESS
) -> Sandbox:
    """`fn`'s environment; `lambda_endpoint` and `syslog_address`: the plane's, when it is not compose.yaml's
    `lambda` service (a probe plane of the tests: Settings.service, Settings.syslog_port)."""
    env = lambda_variables(fn, AWS_ENDPOINT, lambda_endpoint) | template.function_env(fn, AWS_ENDPOINT)
    return Sandbox(fn.image, [fn.handler], fn.memory_mb, fn.ephemeral_mb, env, syslog_address=syslog_address)


def run_kwargs(
    box: Sandbox,
    local_env: dict[str, str],
    name: str,
    network: str,
    tag: str,
    labels: dict[str, str],
    project_dir: str | None = None,
) -> dict[str, Any]:
    """`docker.containers.run(**...)` for one environment: the compose service's settings, plus the
    name, network, log tag and labels of this container. `project_dir`: the project on the engine's host,
    whose runtime shim the container runs (as compose's does); None: the image's own runtime."""
    from docker.types import LogConfig

    shim: dict[str, Any] = {}
    if project_dir is not None:
        mount = {f"{project_dir.rstrip('/')}/{SHIM_SOURCE}": {"bind": SHIM, "mode": "ro"}}
        shim = {"entrypoint": list(box.entrypoint), "volumes": mount}
    return shim | {
        "image": box.image,
        "command": box.command,
        "name": name,
        "hostname": name,
        "detach": True,
        "read_only": box.read_only,
        "user": box.user,
        "tmpfs": {"/tmp": f"size={box.ephemeral_mb}m"},  # noqa: S108 - the container's /tmp
        "mem_limit": f"{box.memory_mb}m",
        "memswap_limit": f"{box.memory_mb}m",
        "environment": local_env | box.environment,
        "network": network,
        "labels": labels,
        "log_config": LogConfig(
            type="syslog",
            config={"syslog-address": box.syslog_address, "syslog-format": "rfc5424", "tag": tag},
        ),
    }
