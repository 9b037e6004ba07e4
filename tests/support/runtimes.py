"""A function's runtime as the tests see it, in either mode: how often it was restarted, and a way
to kill it as a crash would (host mode: the RIE process the plane supervises; Docker mode: the
container's main process, killed from outside, which compose's restart policy brings back)."""

import json
import os
import signal
import subprocess
import urllib.request
from typing import Any

import stack
from stack import ROOT
from stack.functions import by_name


def plane_state() -> dict[str, dict[str, Any]]:
    with urllib.request.urlopen(f"{stack.LAMBDA_ENDPOINT}/_local/functions", timeout=10) as response:
        return {f["function"]: f for f in json.load(response)["functions"]}


def _container(name: str) -> str:
    service = by_name(name).directory
    result = subprocess.run(
        ["docker", "compose", "ps", "--quiet", service], cwd=ROOT, capture_output=True, text=True, check=True
    )
    (container,) = result.stdout.split()
    return container


def _inspect(container: str, template: str) -> str:
    result = subprocess.run(
        ["docker", "inspect", "--format", template, container], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def restarts(name: str) -> int:
    """How many times the function's runtime was brought back after it died."""
    if stack.mode() == "docker":
        return int(_inspect(_container(name), "{{.RestartCount}}"))
    return sum(int(i["restarts"]) for i in plane_state()[name]["instances"])


def kill_runtime(name: str) -> None:
    """SIGKILL the function's (single) runtime, as an out-of-memory kill or a crash would."""
    if stack.mode() == "docker":
        pid = int(_inspect(_container(name), "{{.State.Pid}}"))
    else:
        (instance,) = plane_state()[name]["instances"]
        pid = instance["pid"]
    os.kill(pid, signal.SIGKILL)
