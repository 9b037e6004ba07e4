"""A SIGKILL of the project's plane (host mode): no runtime outlives it, `make status` says so and
exits 1, and `make up` brings back the plane alone, its functions answering. Docker mode's equivalent
(environment containers a dead plane left) is tests/docker/test_environments.py."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

import stack
from stack import LAMBDA_ENDPOINT, ROOT
from tests.support.probe_plane import wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(stack.mode() != "host", reason="host mode's processes (Docker mode: tests/docker)"),
]


def runtime_pids() -> set[int]:
    with urllib.request.urlopen(f"{LAMBDA_ENDPOINT}/_local/functions", timeout=10) as response:
        listing = json.load(response)
    return {env["pid"] for fn in listing["functions"] for env in fn["instances"] if env.get("pid")}


def status() -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.stack", "status"], cwd=ROOT, capture_output=True, text=True)


def test_after_a_sigkill_of_the_plane_no_runtime_is_left_status_is_truthful_and_make_up_restores_it():
    from stack.host_mode import service_pid

    with ThreadPoolExecutor(3) as pool:  # three environments of one function, one of another
        list(pool.map(lambda _: stack.invoke(9008, {"rawPath": "/nowhere"}), range(3)))
    stack.invoke(9001, {"date": "2026-11-20"})
    runtimes = runtime_pids()
    assert len(runtimes) >= 2
    plane = service_pid("lambda")
    assert plane is not None
    os.kill(plane, signal.SIGKILL)  # the plane only: its runtimes are not in a group being killed
    wait_for(lambda: not psutil.pid_exists(plane) or psutil.Process(plane).status() == "zombie", 10, "the plane")
    wait_for(lambda: not any(psutil.pid_exists(pid) for pid in runtimes), 10, "its runtimes to die with it")

    said = status()
    assert said.returncode == 1
    assert any(line.startswith("lambda") and line.endswith("down") for line in said.stdout.splitlines()), said.stdout

    started = time.monotonic()
    stack.up()  # what `make up` runs: the database and the AWS endpoint are up, the plane alone starts
    assert time.monotonic() - started < 60
    said = status()
    assert said.returncode == 0, said.stdout
    code, body = stack.invoke(9001, {"date": "2026-11-20"})
    assert code == 200 and json.loads(body)["statusCode"] == 200
