"""What each function's image carries, read from the images the stack runs."""

import subprocess

import pytest

from tools.functions import FUNCTIONS, Function


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda fn: fn.directory)
def test_an_image_keeps_only_the_botocore_models_of_its_services(fn: Function) -> None:
    listing = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--entrypoint",
            "/bin/sh",
            f"{fn.directory}:local",
            "-c",
            "cd /var/task/botocore/data && ls -d */ && ls endpoints.json partitions.json",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    kept = sorted(entry.rstrip("/") for entry in listing if entry.endswith("/"))
    assert kept == sorted(fn.build_args["AWS_SERVICES"].split())
    assert {"endpoints.json", "partitions.json"} <= set(listing), "botocore's shared data stays"
