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


def account_limit() -> int:
    """How many invocations the plane runs at once, all functions together."""
    with urllib.request.urlopen(f"{stack.LAMBDA_ENDPOINT}/_local/functions", timeout=10) as response:
        return int(json.load(response)["account"]["concurrency_limit"])


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
    """How many of the function's runtimes died and were replaced (Docker mode: brought back by compose;
    host mode: retired by the plane, a fresh environment taking over)."""
    if stack.mode() == "docker":
        return int(_inspect(_container(name), "{{.RestartCount}}"))
    return int(plane_state()[name]["died"])


def kill_runtime(name: str) -> int:
    """SIGKILL the function's runtimes (every execution environment of it), as an out-of-memory kill or a
    crash would; returns how many were killed."""
    if stack.mode() == "docker":
        pids = [int(_inspect(_container(name), "{{.State.Pid}}"))]
    else:
        pids = [i["pid"] for i in plane_state()[name]["instances"] if i["pid"]]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return len(pids)
