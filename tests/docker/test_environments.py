"""Docker mode: a function's execution environments beyond its compose container are containers the
plane starts through the Docker SDK, with the compose service's sandbox, labelled, and removed by a
plane that starts after one was killed."""

import json
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import stack
from lambda_local.environments.sandbox import ENTRYPOINT, LABEL, SHIM, SHIM_SOURCE, USER
from stack.docker_mode import PROJECT, environments
from stack.functions import by_name

WEATHER = by_name("weather-api")
EVENT = json.loads((stack.ROOT / "events" / "weather-api" / "http-api-city.json").read_text())


def invoke(_: int) -> int:
    request = urllib.request.Request(
        f"{stack.LAMBDA_ENDPOINT}/2015-03-31/functions/{WEATHER.lambda_name}/invocations",
        data=json.dumps(EVENT).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return int(response.status)


def burst() -> list[Any]:
    """Concurrent invocations until the plane has started environments of its own for the function."""
    for _ in range(5):
        with ThreadPoolExecutor(12) as pool:
            assert set(pool.map(invoke, range(48))) == {200}
        started = [c for c in environments() if c.labels.get(f"{LABEL}.function") == WEATHER.lambda_name]
        if started:
            return started
    raise AssertionError("12 concurrent clients never needed a second environment")


def compose_container() -> Any:
    import docker

    labels = [
        "com.docker.compose.service=weather-api",
        f"com.docker.compose.project={PROJECT}",
        "com.docker.compose.oneoff=False",  # not a `compose run` container
    ]
    (found,) = docker.from_env().containers.list(filters={"label": labels})
    return found


def test_a_burst_scales_out_into_containers_with_the_compose_services_sandbox():
    started = burst()
    reference = compose_container().attrs
    for container in started:
        attrs = container.attrs
        host, config = attrs["HostConfig"], attrs["Config"]
        assert config["Image"] == WEATHER.image == reference["Config"]["Image"]
        assert config["User"] == USER == reference["Config"]["User"]
        assert host["ReadonlyRootfs"] is True and reference["HostConfig"]["ReadonlyRootfs"] is True
        assert host["Tmpfs"] == {"/tmp": f"size={WEATHER.ephemeral_mb}m"} == reference["HostConfig"]["Tmpfs"]
        assert (
            host["Memory"] == host["MemorySwap"] == WEATHER.memory_mb * 1024 * 1024 == reference["HostConfig"]["Memory"]
        )
        assert host["LogConfig"]["Type"] == "syslog" == reference["HostConfig"]["LogConfig"]["Type"]
        assert set(attrs["NetworkSettings"]["Networks"]) == set(reference["NetworkSettings"]["Networks"])
        # Both run the plane's runtime shim on the image's Python, mounted read only from the project.
        assert config["Entrypoint"] == ENTRYPOINT == reference["Config"]["Entrypoint"]
        for found in (attrs, reference):
            (shim,) = [m for m in found["Mounts"] if m["Destination"] == SHIM]
            assert shim["RW"] is False and shim["Source"].endswith(SHIM_SOURCE)
        env = dict(item.split("=", 1) for item in config["Env"])
        reference_env = dict(item.split("=", 1) for item in reference["Config"]["Env"])
        for key in (
            "AWS_LAMBDA_FUNCTION_NAME",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            "WEATHER_DATA_BUCKET",
            "SITE_ORIGIN",
        ):
            assert env[key] == reference_env[key], key
    with urllib.request.urlopen(f"{stack.LAMBDA_ENDPOINT}/_local/functions", timeout=10) as response:
        listing = {f["function"]: f for f in json.load(response)["functions"]}
    names = {i.get("container") for i in listing[WEATHER.lambda_name]["instances"]}
    assert {c.name for c in started} <= names


def test_a_plane_that_starts_after_one_was_killed_removes_what_it_left():
    left = {c.id for c in burst()}
    subprocess.run(["docker", "compose", "kill", "lambda"], cwd=stack.ROOT, check=True, capture_output=True)
    subprocess.run(["docker", "compose", "start", "lambda"], cwd=stack.ROOT, check=True, capture_output=True)
    deadline = time.monotonic() + 120
    while {c.id for c in environments()} & left:
        assert time.monotonic() < deadline, "the restarted plane did not remove the killed one's environments"
        time.sleep(1)
    stack.wait_for_plane()
    assert invoke(0) == 200
