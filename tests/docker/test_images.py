"""What each function's image carries, read from the images the stack runs."""

import json
import shlex
import subprocess

import botocore.session
import pytest

from stack import ROOT
from stack.functions import Function, functions


def in_image(fn: Function, command: str) -> str:
    return subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "/bin/sh", f"{fn.directory}:local", "-c", command],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.parametrize("fn", functions(), ids=lambda fn: fn.directory)
def test_an_image_keeps_only_the_botocore_data_of_its_services(fn: Function) -> None:
    listing = in_image(fn, "cd /var/task/botocore/data && ls -d */ && ls endpoints.json partitions.json").split()
    kept = sorted(entry.rstrip("/") for entry in listing if entry.endswith("/"))
    services = fn.build_args["AWS_SERVICES"].split()
    assert kept == sorted(services)
    assert {"endpoints.json", "partitions.json"} <= set(listing), "botocore's shared data stays"

    endpoints = json.loads(in_image(fn, "cat /var/task/botocore/data/endpoints.json"))
    session = botocore.session.get_session()
    full = session.get_component("data_loader").load_data("endpoints")
    prefixes = {session.get_service_model(name).endpoint_prefix for name in services}
    for partition, reference in zip(endpoints["partitions"], full["partitions"], strict=True):
        assert set(partition["services"]) == prefixes & set(reference["services"]), partition["partition"]


@pytest.mark.parametrize("fn", functions(), ids=lambda fn: fn.directory)
def test_the_functions_own_modules_are_compiled_in_the_image(fn: Function) -> None:
    """The root file system is read-only in Lambda: a module without its .pyc is compiled on every cold start."""
    sources = [
        str(p.relative_to(ROOT / "functions" / fn.directory)) for p in (ROOT / "functions" / fn.directory).rglob("*.py")
    ]
    sources += [str(p.relative_to(ROOT)) for p in (ROOT / "shared").rglob("*.py")]
    check = (
        "import importlib.util, os, sys; "
        "print(*[s for s in sys.argv[1:] if not os.path.exists(importlib.util.cache_from_source(s))])"
    )
    missing = in_image(fn, f"cd /var/task && python3 -c {shlex.quote(check)} {shlex.join(sources)}").split()
    assert len(sources) > 2 and missing == [], f"modules without bytecode: {missing}"
