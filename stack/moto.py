"""Read back what the local AWS endpoint (moto server) recorded."""

import json
import urllib.request
from typing import Any

import boto3
from botocore.config import Config

from lambda_local.environments.variables import read_env_file
from stack.common import AWS_ENDPOINT, ROOT


def _local_account() -> dict[str, str]:
    """The region and dummy credentials of local.env, as boto3 arguments."""
    env = read_env_file(ROOT / "local.env")
    return {
        "region_name": env["AWS_REGION"],
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
    }


def client(service: str, config: Config | None = None, endpoint: str = AWS_ENDPOINT) -> Any:
    """A boto3 client of the local AWS endpoint (or another local one, e.g. a plane's Invoke API)."""
    return boto3.client(service, endpoint_url=endpoint, config=config, **_local_account())


def state() -> dict[str, Any]:
    """moto's `/moto-api/data.json`: every backend's resources."""
    with urllib.request.urlopen(f"{AWS_ENDPOINT}/moto-api/data.json", timeout=10) as response:
        data: dict[str, Any] = json.load(response)
        return data


def sns_notifications(topic_arn: str) -> list[dict[str, Any]]:
    """Messages published to `topic_arn`, oldest first: dicts with message_id, message, subject."""
    for topic in state().get("sns", {}).get("Topic", []):
        if topic.get("arn") == topic_arn:
            return [{"message_id": n[0], "message": n[1], "subject": n[2]} for n in topic.get("sent_notifications", [])]
    return []


def resource(service: str) -> Any:
    """A boto3 resource of the local AWS endpoint (see `client`)."""
    return boto3.resource(service, endpoint_url=AWS_ENDPOINT, **_local_account())
