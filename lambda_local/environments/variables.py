"""A function's local environment: local.env's local-only settings, the template's variables with
their local values (resolved by the provider), the local endpoints, and the variables Lambda sets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

from lambda_local.providers import ROOT, FunctionSpec, Template
from lambda_local.settings import OTLP_TRACES_PATH

PASSED_THROUGH = ("PATH", "HOME", "LANG", "TMPDIR")
LOCAL_ENV = ROOT / "local.env"


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file (the format compose's env_file reads)."""
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def lambda_variables(fn: FunctionSpec, aws_endpoint: str, lambda_endpoint: str) -> dict[str, str]:
    """What the local stack sets for every function beside the template's variables (both modes)."""
    return {
        "AWS_ENDPOINT_URL": aws_endpoint,
        # botocore's per-service endpoint: Lambda calls go to the local Invoke API.
        "AWS_ENDPOINT_URL_LAMBDA": lambda_endpoint,
        # ... and SQS calls through the plane, which keeps their trace header on the messages (recursion.py).
        "AWS_ENDPOINT_URL_SQS": f"{lambda_endpoint}/_local/aws/sqs",
        # The function's spans (OTLP/HTTP, shared/tracing.py) go to the plane, which keeps them (lambda_local/traces/).
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{lambda_endpoint}{OTLP_TRACES_PATH}",
        "AWS_LAMBDA_FUNCTION_NAME": fn.lambda_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(fn.timeout_s),
    } | (
        # LoggingConfig JSON: what Lambda sets; the runtime interface client writes JSON lines at that level.
        {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": fn.logging.application_level or "INFO"}
        if fn.logging.json
        else {}
    )


def function_env(
    template: Template,
    fn: FunctionSpec,
    aws_endpoint: str,
    lambda_endpoint: str,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of `fn`'s runtime in host mode (compose.yaml's rendered services set the same keys)."""
    env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
    env |= read_env_file(LOCAL_ENV)
    env |= template.function_env(fn, aws_endpoint)
    env |= lambda_variables(fn, aws_endpoint, lambda_endpoint)
    env |= {
        # Lambda's (the image's base sets it): the X-Ray SDK and Powertools read it to know they run in Lambda.
        "LAMBDA_TASK_ROOT": str(fn.code),
        # In the image, shared/ sits in the task root; here the task root is the function folder.
        "PYTHONPATH": str(ROOT),
    }
    return env | dict(overrides or {})
