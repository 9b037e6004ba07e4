"""Function containers are shaped like Lambda's execution environment (compose.yaml, held to
template.yaml by tests/unit/lambda_local/environments/test_compose.py): a handler run as one of our functions, in that
function's service with its image, user, file systems, limits and environment, meets what it
would meet in AWS."""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from lambda_local.providers import load
from tests.support.containers import service_container

PROBE = Path(__file__).with_name("sandbox_probe.py")
FUNCTIONS = {fn.directory: fn for fn in load().functions}


class Sandbox:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/2015-03-31/functions/function/invocations"

    def invoke(self, event: dict[str, Any], timeout: float = 60) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url, data=json.dumps(event).encode(), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:  # the RIE answers a crashed runtime with 502
            return error.code, error.read()

    def result(self, event: dict[str, Any]) -> Any:
        status, body = self.invoke(event)
        assert status == 200, body
        return json.loads(body)


@contextmanager
def sandbox(service: str) -> Iterator[Sandbox]:
    """The probe handler in `service`'s container, as compose runs that function."""
    with service_container(service, "sandbox_probe.handler", mounts={PROBE: "/var/task/sandbox_probe.py"}) as port:
        yield Sandbox(port)


@pytest.fixture(scope="module")
def weather() -> Iterator[Sandbox]:
    with sandbox("weather-api") as box:
        yield box


def test_handler_runs_as_a_non_root_user_with_the_variables_lambda_sets(weather: Sandbox) -> None:
    fn = FUNCTIONS["weather-api"]
    answer = weather.result({"action": "whoami"})
    assert answer["uid"] != 0 and answer["gid"] != 0
    env = answer["env"]
    assert env["LAMBDA_TASK_ROOT"] == "/var/task"
    assert env["LAMBDA_RUNTIME_DIR"] == "/var/runtime"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == fn.lambda_name
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == str(fn.memory_mb)
    assert env["AWS_LAMBDA_FUNCTION_TIMEOUT"] == str(fn.timeout_s)
    assert env["AWS_LAMBDA_RUNTIME_API"], "the runtime client talks to the RIE's runtime API"


@pytest.mark.parametrize("path", ["/var/task/out.bin", "/out.bin", "/opt/out.bin", "/var/runtime/out.bin"])
def test_writing_outside_tmp_fails_as_in_lambda(weather: Sandbox, path: str) -> None:
    answer = weather.result({"action": "write", "path": path})
    assert answer["errorType"] in ("OSError", "PermissionError"), answer
    assert "Read-only file system" in answer["errorMessage"], answer


def test_tmp_is_writable(weather: Sandbox) -> None:
    assert weather.result({"action": "write", "path": "/tmp/out.bin", "mb": 8}) == {"written": 8 << 20}


def test_tmp_holds_the_ephemeral_storage_and_no_more() -> None:
    # image-resize: 2,048 MB of memory, so filling the 512 MB /tmp (tmpfs) fails on space, not memory.
    fn = FUNCTIONS["image-resize"]
    with sandbox("image-resize") as box:
        answer = box.result({"action": "write", "path": "/tmp/big.bin", "mb": fn.ephemeral_mb + 16})
        assert answer["errorType"] == "OSError", answer
        assert "No space left on device" in answer["errorMessage"], answer
        assert box.result({"action": "write", "path": "/tmp/ok.bin", "mb": fn.ephemeral_mb // 2})["written"]


def test_a_handler_past_its_timeout_is_cut_off_with_the_lambda_error(weather: Sandbox) -> None:
    timeout = FUNCTIONS["weather-api"].timeout_s
    started = time.monotonic()
    status, body = weather.invoke({"action": "sleep", "seconds": timeout + 20})
    elapsed = time.monotonic() - started
    assert status == 200
    assert body.decode().startswith(f"Task timed out after {timeout}.00 seconds"), body
    assert timeout <= elapsed < timeout + 10
    assert weather.result({"action": "sleep", "seconds": 0}) == {"slept": 0}, "the next invoke gets a fresh runtime"


def test_a_handler_past_its_memory_size_is_killed() -> None:
    fn = FUNCTIONS["image-labels"]
    with sandbox("image-labels") as box:
        assert box.result({"action": "allocate", "mb": fn.memory_mb // 4}) == {"allocated_mb": fn.memory_mb // 4}
        status, body = box.invoke({"action": "allocate", "mb": fn.memory_mb + 128})
        # AWS reports this as Runtime.OutOfMemory; the RIE knows only that its runtime was killed.
        assert status == 502, body
        error = json.loads(body)
        assert error["errorType"] == "Runtime.ExitError"
        assert error["errorMessage"].endswith("Error: Runtime exited with error: signal: killed")
        assert box.result({"action": "allocate", "mb": 16}) == {"allocated_mb": 16}, "the next invoke starts afresh"
