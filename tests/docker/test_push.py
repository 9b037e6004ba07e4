"""`make push` end to end, offline: the ECR API (repositories, GetAuthorizationToken) on the local
AWS endpoint, the images built with buildx for linux/amd64 and pushed to a local registry (the
CNCF distribution `registry`, as `REGISTRY`), then read back from it as Lambda would."""

import base64
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from stack import MOTO_PORT, ROOT, moto, read_env_file
from stack.functions import functions
from tests.support.containers import free_port, wait_for_http

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEXES = ("application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.oci.image.index.v1+json")
ACCEPT = ", ".join((MANIFEST, OCI_MANIFEST, *INDEXES))


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("registry")
    if binary is None:
        raise AssertionError("the `registry` binary is missing: tools/docker/install_engine.sh installs it")
    folder = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = folder / "config.yml"
    config.write_text(
        f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    with open(folder / "registry.log", "wb") as log:
        proc = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            wait_for_http(f"http://127.0.0.1:{port}/v2/", "the registry", 30, alive=lambda: proc.poll() is None)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{(folder / 'registry.log').read_text()}") from None
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def get(registry: str, path: str, accept: str | None = None) -> tuple[str, bytes]:
    request = urllib.request.Request(f"http://{registry}/v2/{path}", headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers.get("Content-Type", ""), response.read()


@pytest.fixture(scope="module")
def pushed(registry: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("push")
    env = {k: v for k, v in os.environ.items() if k != "DRY_RUN"} | read_env_file(ROOT / "local.env")
    env |= {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{MOTO_PORT}",
        "REGISTRY": registry,
        "ECR_REPOSITORY_PREFIX": "pushtest/",
        "PUSHED_IMAGES_FILE": str(folder / "pushed.json"),
        "DOCKER_CONFIG": str(folder / "docker-config"),  # the login stays in this test
    }
    result = subprocess.run(
        [sys.executable, "-m", "tools.images", "push", "--tag", "v1"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    record: dict[str, Any] = json.loads((folder / "pushed.json").read_text())
    return record | {"output": result.stdout + result.stderr}


def test_every_function_is_pushed_under_its_ecr_repository_name(registry: str, pushed: dict[str, Any]) -> None:
    ecr = moto.client("ecr")
    for fn in functions():
        assert ecr.describe_repositories(repositoryNames=[f"pushtest/{fn.directory}"])["repositories"]
        assert pushed["images"][fn.logical_id] == f"{registry}/pushtest/{fn.directory}:v1"
        _, body = get(registry, f"pushtest/{fn.directory}/tags/list")
        assert json.loads(body)["tags"] == ["v1"], "only the tag pushed: no attestation or cache tags"


def test_pushed_images_are_what_lambda_accepts_single_platform_linux_amd64(
    registry: str, pushed: dict[str, Any]
) -> None:
    for fn in functions():
        content_type, body = get(registry, f"pushtest/{fn.directory}/manifests/v1", ACCEPT)
        manifest = json.loads(body)
        media_type = manifest.get("mediaType", content_type)
        assert media_type in (MANIFEST, OCI_MANIFEST), f"{fn.directory}: {media_type} (Lambda rejects an index)"
        assert "manifests" not in manifest, f"{fn.directory}: an image index, not one image"
        assert manifest["schemaVersion"] == 2
        _, config_body = get(registry, f"pushtest/{fn.directory}/blobs/{manifest['config']['digest']}")
        config = json.loads(config_body)
        assert (config["os"], config["architecture"]) == ("linux", "amd64"), fn.directory
        assert config["config"]["Entrypoint"] == ["/lambda-entrypoint.sh"]
        assert config["config"]["Cmd"] == ["app.handler"]
        total = sum(layer["size"] for layer in manifest["layers"])
        assert total < 10 * 1024**3, "Lambda's image size limit is 10 GB"


def test_the_login_used_the_ecr_token_and_kept_it_out_of_the_output(registry: str, pushed: dict[str, Any]) -> None:
    token = moto.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
    password = base64.b64decode(token).decode().partition(":")[2]
    assert f"docker login --username AWS --password-stdin {registry}" in pushed["output"]
    assert password and password not in pushed["output"]
