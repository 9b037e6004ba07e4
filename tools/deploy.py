"""Deploy template.yaml to AWS with the images `make push` put in ECR, through the pinned SAM CLI.

    python -m tools.deploy deploy     # sam deploy: change set, CAPABILITY_IAM, no failure on an empty one
    python -m tools.deploy destroy    # sam delete (the photo buckets and the orders tables are retained)

Settings (environment): AWS_REGION or AWS_DEFAULT_REGION; ADMIN_EMAIL (deploy); STACK_NAME (default
cafe-lambda); DB_SUBNET_IDS and DB_SECURITY_GROUP_IDS (comma-separated, to reach the café database in
its VPC); DB_PARAMETER_PREFIX, REPORT_TIMEZONE. `DRY_RUN=1` prints the command instead of running it.
The SAM CLI is installed on first use into .cache/sam-cli (or set SAM_CLI to a `sam` binary).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys

from lambda_local.providers import ROOT, load
from tools.images import PUSHED, aws_region, dry_run

SAM_CLI_VERSION = "1.170.0"
SAM_VENV = ROOT / ".cache" / "sam-cli"
DEFAULT_STACK = "cafe-lambda"
# The uploads bucket is named after the stack, and bucket names are lower-case.
STACK_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
OPTIONAL_PARAMETERS = {
    "DB_SUBNET_IDS": "SubnetIds",
    "DB_SECURITY_GROUP_IDS": "SecurityGroupIds",
    "DB_PARAMETER_PREFIX": "DbParameterPrefix",
    "REPORT_TIMEZONE": "ReportTimezone",
}


def stack_name() -> str:
    name = os.environ.get("STACK_NAME", DEFAULT_STACK)
    if not STACK_NAME.fullmatch(name):
        sys.exit(
            f"STACK_NAME {name[:60]!r} must be lower-case letters, digits and dashes (up to 40), starting with a letter"
        )
    return name


def image_parameter(logical_id: str) -> str:
    return logical_id.removesuffix("Function") + "ImageUri"


def pushed_images(region: str) -> dict[str, str]:
    """Image URI per function logical id, as `make push` recorded them for `region`."""
    try:
        record = json.loads(PUSHED.read_text())
    except FileNotFoundError:
        sys.exit("no pushed images recorded: run `make push` first (it records the image URIs for deploy)")
    if record.get("region") != region:
        sys.exit(f"the images were pushed to {record.get('region')}, not {region}: run `make push` for {region}")
    images: dict[str, str] = record["images"]
    missing = [fn.lambda_name for fn in load().functions if fn.logical_id not in images]
    if missing:
        sys.exit(f"no pushed image for {', '.join(missing)}: run `make push` again")
    return images


def deploy_command(region: str, images: dict[str, str]) -> list[str]:
    email = os.environ.get("ADMIN_EMAIL", "")
    if "@" not in email:
        sys.exit("set ADMIN_EMAIL (the address the daily sales report is mailed to)")
    overrides = {"AdminEmail": email} | {image_parameter(fid): uri for fid, uri in images.items()}
    overrides |= {param: os.environ[var] for var, param in OPTIONAL_PARAMETERS.items() if os.environ.get(var)}
    return [
        "deploy",
        "--template-file",
        "template.yaml",
        "--stack-name",
        stack_name(),
        "--region",
        region,
        "--capabilities",
        "CAPABILITY_IAM",
        "--no-confirm-changeset",
        "--no-fail-on-empty-changeset",
        "--no-progressbar",
        # The template takes the pushed URIs as parameters; sam still wants each function's repository.
        "--image-repositories",
        *(f"{fid}={uri.rsplit(':', 1)[0]}" for fid, uri in images.items()),
        "--parameter-overrides",
        *(f"{key}={value}" for key, value in overrides.items()),
    ]


def destroy_command(region: str) -> list[str]:
    return ["delete", "--stack-name", stack_name(), "--region", region, "--no-prompts"]


def sam_binary() -> str:
    """The pinned SAM CLI, installed into its own virtualenv the first time (its pins are its own)."""
    if os.environ.get("SAM_CLI"):
        return os.environ["SAM_CLI"]
    sam = SAM_VENV / "bin" / "sam"
    if not sam.exists():
        print(f"==> installing aws-sam-cli {SAM_CLI_VERSION} into .cache/sam-cli (once, about a minute)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(SAM_VENV)], check=True)
        pip = [str(SAM_VENV / "bin" / "pip"), "install", "--quiet", f"aws-sam-cli=={SAM_CLI_VERSION}"]
        if subprocess.run(pip).returncode != 0:
            sys.exit("installing aws-sam-cli failed (see the pip output above)")
    return str(sam)


def run_sam(args: list[str]) -> None:
    if dry_run():
        print("[dry-run] sam " + shlex.join(args), flush=True)
        return
    print("==> sam " + shlex.join(args), flush=True)
    result = subprocess.run([sam_binary(), *args], cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"sam {args[0]} failed with exit code {result.returncode}")


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0] not in ("deploy", "destroy"):
        sys.exit("usage: python -m tools.deploy deploy|destroy")
    region = aws_region()
    if argv[0] == "deploy":
        run_sam(deploy_command(region, pushed_images(region)))
    else:
        run_sam(destroy_command(region))
        print("==> retained: the photo buckets (`aws s3 rb --force` removes them), the orders and parts-orders tables")


if __name__ == "__main__":
    main(sys.argv[1:])
