"""Build every function's image and push it to Amazon ECR.

    python -m tools.images build                 # docker build of every image, tagged <dir>:local
    python -m tools.images push [--tag TAG]      # ECR repositories, login, linux/amd64 build, push

`DRY_RUN=1` prints every docker step instead of running it (the AWS calls still run: point
`AWS_ENDPOINT_URL` at a local endpoint to try it without an account). `PLATFORM` (default
linux/amd64) picks the Lambda architecture; `ECR_REPOSITORY_PREFIX` namespaces the repositories;
`REGISTRY` replaces the registry host of the account (ECR still names the repositories and issues
the login), e.g. a local registry to try the whole push offline. The pushed URIs are recorded in
.cache/pushed-images.json for `make deploy`.
"""

import argparse
import base64
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from stack import docker_engine_available
from stack.common import ROOT
from stack.functions import Function, functions

PUSHED = Path(os.environ.get("PUSHED_IMAGES_FILE", ROOT / ".cache" / "pushed-images.json"))

PASSWORD_PLACEHOLDER = "<password from ecr:GetAuthorizationToken>"  # noqa: S105 - shown instead of the secret


def aws_region() -> str:
    """AWS_REGION or AWS_DEFAULT_REGION (botocore itself reads only the latter)."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        sys.exit("set AWS_REGION (the region of the ECR registry and the Lambda functions)")
    return region


def dry_run() -> bool:
    return os.environ.get("DRY_RUN", "") not in ("", "0", "false")


def docker(args: list[str], stdin: str | None = None, shown_stdin: str | None = None) -> None:
    """Run (or with DRY_RUN print) one docker command; stdin is never printed."""
    line = "docker " + shlex.join(args)
    if stdin is not None:
        line = f"echo {shown_stdin or '<stdin>'} | {line}"
    print(f"{'[dry-run] ' if dry_run() else '==> '}{line}", flush=True)
    if dry_run():
        return
    result = subprocess.run(["docker", *args], cwd=ROOT, input=stdin, text=True)
    if result.returncode != 0:
        sys.exit(f"docker {args[0]} failed with exit code {result.returncode}")


def build_args(fn: Function, tag: str, platform: str | None = None) -> list[str]:
    build_args = [word for k, v in fn.build_args.items() for word in ("--build-arg", f"{k}={v}")]
    args = ["build", "--file", fn.dockerfile, *build_args, "--tag", tag]
    if platform:
        # Lambda accepts a single-architecture image manifest only: no provenance attestation.
        args = ["buildx", *args, "--platform", platform, "--provenance=false", "--load"]
    return [*args, "."]


def image_size(name: str) -> int:
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Size}}", name], capture_output=True, text=True, check=True
    )
    return int(result.stdout.strip())


def base_image(dockerfile: str) -> str:
    """The FROM of a single-stage Dockerfile."""
    for line in (ROOT / dockerfile).read_text().splitlines():
        if line.upper().startswith("FROM "):
            return line.split()[1]
    raise SystemExit(f"{dockerfile} has no FROM line")


def build() -> None:
    """Builds every function image, then prints what each one adds to its base and how long it took."""
    rows = []
    for fn in functions():
        started = time.monotonic()
        docker(build_args(fn, f"{fn.directory}:local"))
        rows.append((fn, time.monotonic() - started))
    if dry_run():
        return
    print(f"\n{'image':<24} {'build s':>8} {'size MB':>8} {'base MB':>8} {'added MB':>9}  base")
    for fn, seconds in rows:
        base = base_image(fn.dockerfile)
        size, base_size = image_size(f"{fn.directory}:local"), image_size(base)
        print(
            f"{fn.directory + ':local':<24} {seconds:>8.1f} {size / 1e6:>8.0f} {base_size / 1e6:>8.0f}"
            f" {(size - base_size) / 1e6:>9.0f}  {base}"
        )


def git_short_sha() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("cannot read the git commit for the image tag: pass --tag")
    return result.stdout.strip()


def ensure_repository(ecr: Any, name: str) -> str:
    """The repository URI, creating the repository when it does not exist."""
    try:
        return str(ecr.describe_repositories(repositoryNames=[name])["repositories"][0]["repositoryUri"])
    except ecr.exceptions.RepositoryNotFoundException:
        print(f"==> creating ECR repository {name}", flush=True)
        created = ecr.create_repository(repositoryName=name, imageScanningConfiguration={"scanOnPush": True})
        return str(created["repository"]["repositoryUri"])


def registry_login(ecr: Any) -> str:
    """Log docker in to the account's registry (or REGISTRY); returns the registry host."""
    data = ecr.get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    registry = os.environ.get("REGISTRY") or str(data["proxyEndpoint"]).removeprefix("https://")
    docker(
        ["login", "--username", user, "--password-stdin", registry], stdin=password, shown_stdin=PASSWORD_PLACEHOLDER
    )
    return registry


def push(tag: str) -> list[str]:
    """Push every function image; returns the image URIs."""
    region = aws_region()
    platform = os.environ.get("PLATFORM", "linux/amd64")
    prefix = os.environ.get("ECR_REPOSITORY_PREFIX", "")
    ecr = boto3.client("ecr", region_name=region)
    registry = registry_login(ecr)
    uris = []
    for fn in functions():
        repository = ensure_repository(ecr, prefix + fn.directory)
        uri = f"{registry}/{repository.split('/', 1)[1]}:{tag}"
        docker(build_args(fn, uri, platform))
        docker(["push", uri])
        uris.append(uri)
    PUSHED.parent.mkdir(parents=True, exist_ok=True)
    images = {fn.logical_id: uri for fn, uri in zip(functions(), uris, strict=True)}
    PUSHED.write_text(json.dumps({"region": region, "tag": tag, "images": images}, indent=2) + "\n")
    print(f"==> recorded the image URIs in {PUSHED}; deploy them with `make deploy`")
    return uris


def require_engine() -> None:
    if not dry_run() and not docker_engine_available():
        sys.exit("no Docker engine answers: building and pushing images needs one (DRY_RUN=1 prints the steps)")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.images", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("build", "push"))
    parser.add_argument("--tag", help="image tag for push (default: git short sha)")
    args = parser.parse_args(argv)
    require_engine()
    try:
        if args.command == "build":
            build()
        else:
            push(args.tag or git_short_sha())
    except NoCredentialsError:
        sys.exit("no AWS credentials found: configure a profile (aws configure) or set AWS_ACCESS_KEY_ID")
    except (BotoCoreError, ClientError) as exc:
        sys.exit(f"AWS call failed: {exc}")


if __name__ == "__main__":
    main(sys.argv[1:])
