"""Create what the functions expect in the local AWS account: every resource template.yaml declares
(lambda_local/sources/provision.py), the database settings in Parameter Store, and this project's demo data
(the weather page and its observations, the push platform application). Idempotent. Runs against the
local endpoint: compose's `aws-init` service and host mode's `make up`.

Env: AWS_ENDPOINT_URL, AWS_REGION, DB_URL, MARIADB_DATABASE, MARIADB_USER, MARIADB_PASSWORD.
"""

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from lambda_local.providers import Template, TemplateError, load  # noqa: E402
from lambda_local.settings import API_PORT  # noqa: E402
from lambda_local.sources.provision import create_resources  # noqa: E402 - runs as a script from the project root or its image
from tools.gen_weather import observations  # noqa: E402

SITE_TYPES = {".html": "text/html", ".css": "text/css", ".js": "application/javascript", ".json": "application/json"}


def _require(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"bootstrap_aws: environment variable {name} is not set")
    return value


def say(line: str) -> None:
    print(f"bootstrap_aws: {line}", flush=True)


def database_parameters(template: Template) -> None:
    """The café database's settings under the template's DbParameterPrefix, and the warehouse's (a
    second database on the same server, loaded by the same user) under WarehouseParameterPrefix."""
    ssm = boto3.client("ssm")
    parameters = {
        "dbUrl": ("String", _require("DB_URL")),
        "dbName": ("String", _require("MARIADB_DATABASE")),
        "dbUser": ("String", _require("MARIADB_USER")),
        "dbPassword": ("SecureString", _require("MARIADB_PASSWORD")),
    }
    prefixes = {
        "DbParameterPrefix": parameters,
        "WarehouseParameterPrefix": parameters | {"dbName": ("String", "cafe_dw")},
    }
    for parameter, values in prefixes.items():
        if parameter not in template.data.get("Parameters", {}):
            continue
        prefix = str(template.parameter(parameter)).rstrip("/")
        for name, (kind, value) in values.items():
            ssm.put_parameter(Name=f"{prefix}/{name}", Value=value, Type=kind, Overwrite=True)
        say(f"database settings under {prefix}/")


def publish_weather(template: Template, s3: Any) -> None:
    """The weather page's files and its config.json in the site bucket, and a fresh observations data set
    in the data bucket (what a deployment pipeline does in the account)."""
    if "WeatherSiteBucket" not in template.names:
        return
    site, data = template.local_name("WeatherSiteBucket"), template.local_name("WeatherDataBucket")
    files = sorted((ROOT / "sites" / "weather").iterdir())
    for path in files:
        s3.put_object(Bucket=site, Key=path.name, Body=path.read_bytes(), ContentType=SITE_TYPES[path.suffix])
    api = os.environ.get("WEATHER_API_URL", f"http://127.0.0.1:{API_PORT}")
    s3.put_object(
        Bucket=site, Key="config.json", Body=json.dumps({"apiUrl": api}).encode(), ContentType="application/json"
    )
    key = os.environ.get("WEATHER_DATA_KEY", "observations/latest.json")
    # A second run (compose re-runs aws-init when a service that needs it starts again) keeps the data
    # set that the functions may hold in their caches.
    if _exists(s3, data, key):
        say(f"weather page in s3://{site}/ ({len(files)} files), data set kept")
        return
    document = observations(int(os.environ.get("WEATHER_SEED", "7")), datetime.now(UTC))
    s3.put_object(Bucket=data, Key=key, Body=json.dumps(document).encode(), ContentType="application/json")
    say(f"weather page in s3://{site}/ ({len(files)} files), {len(document['stations'])} stations")


def push_application(template: Template) -> None:
    """Created outside the stack in AWS (it holds the FCM / APNs credentials); locally a stand-in key."""
    if "PushApplicationName" not in template.data.get("Parameters", {}):
        return
    name = str(template.parameter("PushApplicationName"))
    platform = str(template.parameter("PushPlatform")) if "PushPlatform" in template.data["Parameters"] else "GCM"
    boto3.client("sns").create_platform_application(
        Name=name, Platform=platform, Attributes={"PlatformCredential": "local"}
    )
    say(f"SNS platform application {platform}/{name}")


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey"):
            return False
        raise
    return True


def bootstrap(template: Template) -> None:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    created = create_resources(template, boto3.client, region=region, progress=say)
    say(f"{len(created)} created ({len(template.names)} resources in {template.file}; the rest were there)")
    database_parameters(template)
    push_application(template)
    publish_weather(template, boto3.client("s3"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", default=os.environ.get("LAMBDA_LOCAL_TEMPLATE", str(ROOT / "template.yaml")))
    args = parser.parse_args()
    try:
        bootstrap(load(Path(args.template).resolve()))
    except TemplateError as exc:
        sys.exit(f"bootstrap_aws: {exc}")


if __name__ == "__main__":
    main()
