"""Docker mode: one more container of a function's compose service, published on a port of its own,
with the service's image, user, limits, network and environment (plus overrides): what host mode's
`stack.start_function` is for processes."""

import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tools.stack import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"the RIE in {name} never answered") from None
                time.sleep(0.2)
        yield port
    finally:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True)
