"""The developer tooling: `make lint` checks, and `make push` against the local ECR API (docker steps dry-run)."""

import base64
import http.server
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import stack
from stack import AWS_ENDPOINT, ROOT, moto
from stack.functions import functions
from tests.integration.conftest import LOCAL_ENV

pytestmark = pytest.mark.integration


def test_lint_is_clean():
    result = subprocess.run([sys.executable, "-m", "tools.lint"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lint clean" in result.stdout


def run_tool(module: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True)


def push_env(tmp_path: Path) -> dict[str, str]:
    """The local endpoint's credentials, the region given the way users give it (AWS_REGION only)."""
    env = {k: v for k, v in (os.environ | LOCAL_ENV).items() if k != "AWS_DEFAULT_REGION"}
    return env | {
        "AWS_ENDPOINT_URL": AWS_ENDPOINT,
        "DRY_RUN": "1",
        "ECR_REPOSITORY_PREFIX": "test/",
        "PUSHED_IMAGES_FILE": str(tmp_path / "pushed.json"),
    }


def test_push_dry_run_creates_repositories_prints_every_docker_step_and_records_the_uris(tmp_path):
    env = push_env(tmp_path)
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
    for fn in functions():
        repo = ecr.describe_repositories(repositoryNames=[f"test/{fn.directory}"])["repositories"][0]
        uri = f"{repo['repositoryUri']}:t3st"
        assert uri == f"{registry}/test/{fn.directory}:t3st"
        build = (
            f"[dry-run] docker buildx build --file images/lambda-python.Dockerfile --build-arg "
            f"FUNCTION={fn.directory} --build-arg {shlex.quote('AWS_SERVICES=' + fn.build_args['AWS_SERVICES'])} "
            f"--tag {uri} --platform linux/amd64 --provenance=false --load ."
        )
        assert build in lines
        assert lines.index(build) < lines.index(f"[dry-run] docker push {uri}")
    record = json.loads((tmp_path / "pushed.json").read_text())
    assert record["region"] == "us-east-1"
    assert record["images"] == {fn.logical_id: f"{registry}/test/{fn.directory}:t3st" for fn in functions()}
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


def test_deploy_dry_run_prints_one_sam_deploy_with_the_pushed_images(tmp_path):
    env = push_env(tmp_path) | {"ADMIN_EMAIL": "owner@example.com", "DB_SUBNET_IDS": "subnet-1,subnet-2"}
    assert run_tool("tools.images", "push", "--tag", "v7", env=env).returncode == 0
    result = run_tool("tools.deploy", "deploy", env=env)
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("[dry-run] sam ")]
    args = shlex.split(line.removeprefix("[dry-run] "))
    assert args[:2] == ["sam", "deploy"]
    assert args[args.index("--stack-name") + 1] == "cafe-lambda"
    assert args[args.index("--region") + 1] == "us-east-1"
    assert args[args.index("--capabilities") + 1] == "CAPABILITY_IAM"
    assert "--no-fail-on-empty-changeset" in args and "--no-confirm-changeset" in args
    registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com/test"
    overrides = args[args.index("--parameter-overrides") + 1 :]
    assert "AdminEmail=owner@example.com" in overrides
    assert "SubnetIds=subnet-1,subnet-2" in overrides
    repositories = args[args.index("--image-repositories") + 1 : args.index("--parameter-overrides")]
    for fn in functions():
        parameter = fn.logical_id.removesuffix("Function") + "ImageUri"
        assert f"{parameter}={registry}/{fn.directory}:v7" in overrides
        assert f"{fn.logical_id}={registry}/{fn.directory}" in repositories
    destroy = run_tool("tools.deploy", "destroy", env=env)
    assert "[dry-run] sam delete --stack-name cafe-lambda --region us-east-1 --no-prompts" in destroy.stdout


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "run `make push` first"),
        ({"STACK_NAME": "Cafe_Stack"}, "STACK_NAME 'Cafe_Stack' must be lower-case"),
    ],
)
def test_deploy_mistakes_end_in_one_clear_line(tmp_path, overrides, message):
    env = push_env(tmp_path) | {"ADMIN_EMAIL": "owner@example.com"} | overrides
    if "STACK_NAME" in overrides:
        assert run_tool("tools.images", "push", "--tag", "v7", env=env).returncode == 0
    result = run_tool("tools.deploy", "deploy", env=env)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_make_invoke_exits_non_zero_when_the_function_fails():
    env = dict(os.environ)
    ok = run_tool("tools.stack", "invoke", "sales-report", "events/sales-report/seeded-day.json", env=env)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["groups"] >= 1
    bad = run_tool("tools.stack", "invoke", "sales-report", "events/sales-report/bad-date.json", env=env)
    assert bad.returncode == 1
    assert "InvalidEventError" in bad.stdout
    assert "salesAnalysisReport failed (Unhandled)" in bad.stderr


@pytest.fixture
def foreign_server() -> Iterator[int]:
    """An HTTP server that is not this stack's, on a free port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_make_status_exits_zero_only_when_every_service_is_this_stacks(foreign_server):
    up = run_tool("tools.stack", "status", env=dict(os.environ))
    assert up.returncode == 0, up.stdout
    assert up.stdout.count(" up\n") == len(stack.backing_ports())
    # A server that is not ours on a service's port is not "up"; nothing at all is "down".
    assert stack.probe("image-resize", foreign_server).startswith("foreign")
    assert stack.probe("aws", foreign_server).startswith("foreign")
    assert stack.probe("db", foreign_server).startswith("foreign")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    assert stack.probe("lambda", closed.getsockname()[1]) == "down"
    closed.close()
    stack.stop_service("lambda")
    try:
        down = run_tool("tools.stack", "status", env=dict(os.environ))
    finally:
        stack.start_service("lambda")
    assert down.returncode == 1
    assert "lambda                   127.0.0.1:3001   down" in down.stdout


def test_make_up_checks_every_port_first_and_names_each_holder(foreign_server):
    other = socket.socket()
    other.bind(("127.0.0.1", 0))
    other.listen()
    other_port = other.getsockname()[1]
    try:
        with pytest.raises(SystemExit) as refused:
            stack.preflight({"image-resize": foreign_server, "db": other_port, "aws": 1})
    finally:
        other.close()
    message = str(refused.value)
    assert f"{foreign_server} (image-resize): held by pid {os.getpid()}" in message
    assert f"{other_port} (db): held by pid {os.getpid()}" in message
    assert "(aws)" not in message
    # With this stack up, `up` has no port left to claim (none of its parts would start again).
    assert stack.current().ports_to_claim() == {}


def test_the_databases_root_needs_the_generated_password_over_tcp():
    import pymysql

    from stack import DB_PORT

    with pytest.raises(pymysql.err.OperationalError) as refused:
        pymysql.connect(host="127.0.0.1", port=DB_PORT, user="root", password="", connect_timeout=5)
    assert refused.value.args[0] == 1045  # Access denied
    assert "MARIADB_ROOT_PASSWORD" not in (ROOT / "db.env").read_text()
    if stack.mode() == "host":
        from stack.host_mode import root_password

        password_file = ROOT / ".stack" / "db-root-password"
        assert oct(password_file.stat().st_mode & 0o777) == "0o600"
        with (
            pymysql.connect(
                host="127.0.0.1", port=DB_PORT, user="root", password=root_password(), connect_timeout=5
            ) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT CURRENT_USER()")
            assert cursor.fetchone()[0].startswith("root@")
