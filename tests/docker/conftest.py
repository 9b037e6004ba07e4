"""Docker-mode only tests (`make test-docker`): they need a Docker engine with Compose. The stack is
started (`docker compose up --detach --build`) when none is up, as for the integration suite; a
stack already up is used as it is, so rebuild it (`make up`) after changing an image."""

import shutil
import subprocess

import pytest

from tests.integration.conftest import running_stack  # noqa: F401 - the stack these tests run beside


def pytest_configure(config: pytest.Config) -> None:
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        raise pytest.UsageError("tests/docker needs a running Docker engine (make test-docker; see docs/modes.md)")
