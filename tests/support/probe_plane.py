"""A second local plane serving tests/support/probe/template.yaml (stream consumers, HTTP echoes) on
its own ports, against the running stack's AWS endpoint: event source semantics tested apart from
the project's systems. Used by the integration tests and `make bench-events`."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lambda_local.providers import load
from lambda_local.sources.provision import create_resources
from stack import ROOT, moto, plane_env

TEMPLATE = ROOT / "tests" / "support" / "probe" / "template.yaml"
INVOKE_PORT = 3101
API_PORT = 3100
URL_PORT = 3102  # function URLs
API = f"http://127.0.0.1:{API_PORT}"


def one_function_project(root: Path, folder: str, function_name: str, app: str, properties: str = "") -> Path:
    """A project of one image function for a probe plane: `root`/template.yaml (logical id: the folder's
    name capitalised; `properties`, YAML lines of its Properties beyond the package type and name) and
    `root`/functions/`folder`/ with `app` as its app.py and no requirements. Returns the function's folder."""
    code = root / "functions" / folder
    code.mkdir(parents=True)
    (code / "app.py").write_text(app)
    (code / "requirements.txt").write_text("")
    extra = "".join(f"      {line}\n" for line in properties.splitlines())
    (root / "template.yaml").write_text(
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        f"  {folder.capitalize()}:\n"
        "    Type: AWS::Serverless::Function\n"
        f"    Metadata: {{DockerBuildArgs: {{FUNCTION: {folder}}}}}\n"
        "    Properties:\n"
        "      PackageType: Image\n"
        f"      FunctionName: {function_name}\n" + extra
    )
    return code


class ProbePlane:
    """A plane of its own for `template` (default: the probe template), its state under `state`; host mode
    (tests/support/docker_probe.py: the same in containers)."""

    mode = "host"

    def __init__(self, state: Path, template: Path = TEMPLATE, env: dict[str, str] | None = None) -> None:
        self.state = state
        self.extra_env = env or {}
        self.template_path = template
        self.template = load(template)
        self.names: dict[str, str] = self.template.names
        self.process: subprocess.Popen[bytes] | None = None

    def create_resources(self) -> None:
        """Fresh streams, tables and queues of the probe template (probe-seen: what the probes processed)."""
        create_resources(self.template, moto.client, fresh=True)

    def start(self, timeout: float = 60, poll_s: float = 0.2) -> None:
        env = (
            plane_env()
            | {
                "LAMBDA_LOCAL_TEMPLATE": str(self.template_path),
                "LAMBDA_LOCAL_PORT": str(INVOKE_PORT),
                "LAMBDA_LOCAL_API_PORT": str(API_PORT),
                "LAMBDA_LOCAL_URL_PORT": str(URL_PORT),
                "LAMBDA_LOCAL_STATE": str(self.state),
            }
            | self.extra_env
        )
        self.state.mkdir(parents=True, exist_ok=True)
        log = (self.state / "plane.log").open("ab")
        # A session of its own, so a kill takes the RIE processes with it.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lambda_local"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.kill()
                raise RuntimeError(f"the probe plane exited: {self.log()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{INVOKE_PORT}/_local/functions", timeout=2):
                    return
            except OSError:
                time.sleep(poll_s)
        self.kill()
        raise RuntimeError(f"the probe plane did not start: {self.log()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL to the plane and its runtimes: nothing gets to clean up or save."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None

    def state_of(self) -> dict[str, Any]:
        """The plane's `GET /_local/functions`: functions, account, problems."""
        with urllib.request.urlopen(f"http://127.0.0.1:{INVOKE_PORT}/_local/functions", timeout=10) as response:
            found: dict[str, Any] = json.load(response)
            return found

    def log(self) -> str:
        path = self.state / "plane.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def deliveries(self, function: str) -> list[dict[str, Any]]:
        """The plane's delivery lines for `function`."""
        lines = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("function") == function:
                    lines.append(entry)
        return lines

    def checkpoint(self, mapping: str) -> dict[str, str]:
        path = self.state / "checkpoints" / f"{mapping}.json"
        return json.loads(path.read_text())["shards"] if path.exists() else {}

    def seen(self) -> dict[str, Any]:
        """The seen table: id -> times processed, and order#<stream>/<shard> -> ids in the order processed."""
        table = moto.client("dynamodb")
        items: dict[str, Any] = {}
        pages = table.get_paginator("scan").paginate(TableName=self.names.get("SeenTable", "probe-seen"))
        for page in pages:
            for item in page["Items"]:
                key = item["id"]["S"]
                items[key] = [v["S"] for v in item["ids"]["L"]] if "ids" in item else int(item["times"]["N"])
        return items


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def api_request(method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(f"{API}{path}", data=body, method=method, headers=headers or {})
    try:
        return urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as error:
        return error


# A team's new project started from this one: its template before any function (tests add theirs).
NEW_PROJECT_TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: A team's new project, started from this one.

Parameters:
  LogRetentionInDays:
    Type: Number
    Default: 7

Resources:
"""
DURABLE_TEMPLATE = ROOT / "tests" / "support" / "durable" / "template.yaml"


def durable_plane(state: Path) -> Iterator[ProbePlane]:
    """A probe plane serving the durable probe template (tests/support/durable), for a module fixture: in
    the stack's mode (Docker: tests/support/docker_probe.py)."""
    from tests.support.docker_probe import probe_plane_for_mode

    probe = probe_plane_for_mode(state, DURABLE_TEMPLATE)
    try:
        probe.start()
        yield probe
    finally:
        probe.stop()


def lambda_client() -> Any:
    """boto3's Lambda client on a probe plane's Invoke API."""
    import boto3

    return boto3.client(
        "lambda",
        endpoint_url=f"http://127.0.0.1:{INVOKE_PORT}",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
