"""Docker mode: one more container of a function's compose service, published on a port of its own,
with the service's image, user, limits, network and environment (plus overrides): what host mode's
`stack.start_function` is for processes."""

import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from stack import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(url: str, what: str, timeout: float = 60, alive: Callable[[], bool] | None = None) -> None:
    """Until `url` answers HTTP at all (an error status counts: the server is up)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline or (alive is not None and not alive()):
                raise AssertionError(f"{what} never answered on {url}") from None
            time.sleep(0.2)


@contextmanager
def service_container(
    service: str,
    handler: str | None = None,
    env: Mapping[str, str] | None = None,
    mounts: Mapping[Path, str] | None = None,
    port: int | None = None,
) -> Iterator[int]:
    """`docker compose run` of `service` (its RIE on the yielded host port), removed afterwards."""
    port = port or free_port()
    name = f"{service}-extra-{uuid.uuid4().hex[:8]}"
    run = ["docker", "compose", "run", "--detach", "--no-deps", "--name", name, "--publish", f"127.0.0.1:{port}:8080"]
    for key, value in (env or {}).items():
        run += ["--env", f"{key}={value}"]
    for source, target in (mounts or {}).items():
        run += ["--volume", f"{source}:{target}:ro"]
    run += [service, *([handler] if handler else [])]
    subprocess.run(run, cwd=ROOT, check=True, capture_output=True)
    try:
        # docker-proxy accepts on the published port at once: wait for an HTTP answer of the RIE.
        wait_for_http(f"http://127.0.0.1:{port}/", f"the RIE in {name}")
        yield port
    finally:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True)
