"""The developer tooling: `make lint` checks, and `make push` against the local ECR API (docker steps dry-run)."""

import base64
import os
import subprocess
import sys

import pytest

from tests.integration.conftest import LOCAL_ENV
from tools import moto
from tools.functions import FUNCTIONS
from tools.stack import AWS_ENDPOINT, ROOT

pytestmark = pytest.mark.integration


def test_lint_is_clean():
    result = subprocess.run([sys.executable, "-m", "tools.lint"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lint clean" in result.stdout


def test_push_dry_run_creates_repositories_and_prints_every_docker_step():
    env = os.environ | LOCAL_ENV | {"AWS_ENDPOINT_URL": AWS_ENDPOINT, "DRY_RUN": "1", "ECR_REPOSITORY_PREFIX": "test/"}
    result = subprocess.run(
        [sys.executable, "-m", "tools.images", "push", "--tag", "t3st"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    ecr = moto.client("ecr")
    registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    lines = result.stdout.splitlines()
    assert any(line.endswith(f"docker login --username AWS --password-stdin {registry}") for line in lines)
    for fn in FUNCTIONS:
        repo = ecr.describe_repositories(repositoryNames=[f"test/{fn.directory}"])["repositories"][0]
        uri = f"{repo['repositoryUri']}:t3st"
        assert uri == f"{registry}/test/{fn.directory}:t3st"
        build = (
            f"[dry-run] docker buildx build --file images/lambda-python.Dockerfile --build-arg "
            f"FUNCTION={fn.directory} --tag {uri} --platform linux/amd64 --provenance=false --load ."
        )
        assert build in lines
        assert lines.index(build) < lines.index(f"[dry-run] docker push {uri}")
        assert f"--function-name {fn.lambda_name} --image-uri {uri}" in result.stdout
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    password = base64.b64decode(token).decode().partition(":")[2]
    assert password and password not in result.stdout + result.stderr


def test_push_without_region_says_what_to_set():
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")} | {"DRY_RUN": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "tools.images", "push", "--tag", "x"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "set AWS_REGION" in result.stderr
