"""boto3 clients made once per process, and Lambda invocation that also reaches local RIE endpoints.

In AWS no endpoint is configured. Locally `AWS_ENDPOINT_URL` (read by botocore itself) points every
client at the moto server, and `LOCAL_LAMBDA_ENDPOINTS` maps Lambda function names to runtime
interface emulator URLs, e.g. `salesAnalysisReportDataExtractor=http://127.0.0.1:9001`.
"""

import json
import os
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from shared.errors import ConfigError, DownstreamFunctionError

# The RIE serves only this function name in its invoke path.
RIE_FUNCTION_NAME = "function"
# A synchronous invoke can last up to the callee's timeout (15 min max): never retry it blindly.
_LAMBDA_CONFIG = Config(read_timeout=900, connect_timeout=5, retries={"max_attempts": 1, "mode": "standard"})


@cache
def client(service: str) -> Any:
    """A boto3 client for `service`, created once and reused across warm invocations."""
    return boto3.client(service)


def local_lambda_endpoints() -> dict[str, str]:
    """Parse `LOCAL_LAMBDA_ENDPOINTS` (`name=url[,name=url...]`); empty in AWS."""
    mapping: dict[str, str] = {}
    raw = os.environ.get("LOCAL_LAMBDA_ENDPOINTS", "")
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, url = item.partition("=")
        if not sep or not name.strip() or not url.strip().startswith(("http://", "https://")):
            raise ConfigError(f"LOCAL_LAMBDA_ENDPOINTS entry {item!r} is not name=http(s)://host:port")
        mapping[name.strip()] = url.strip().rstrip("/")
    return mapping


@cache
def _lambda_client(endpoint_url: str | None) -> Any:
    return boto3.client("lambda", endpoint_url=endpoint_url, config=_LAMBDA_CONFIG)


def invoke_function(function_name: str, payload: Any) -> Any:
    """Invoke `function_name` synchronously and return its decoded JSON result.

    Raises DownstreamFunctionError when the function reports an error, times out or answers
    something that is not JSON. The local RIE signals errors only in the body, so an error-shaped
    body (`errorType` and `errorMessage`) counts as an error too.
    """
    endpoint = local_lambda_endpoints().get(function_name)
    response = _lambda_client(endpoint).invoke(
        FunctionName=RIE_FUNCTION_NAME if endpoint else function_name,
        InvocationType="RequestResponse",
        Payload=json.dumps(payload).encode(),
    )
    raw = response["Payload"].read().decode("utf-8", errors="replace")
    try:
        result = json.loads(raw)
    except json.JSONDecodeError:
        raise DownstreamFunctionError(f"{function_name} failed: {raw.strip()[:500] or 'empty response'}") from None
    if response.get("FunctionError") or (isinstance(result, dict) and {"errorType", "errorMessage"} <= result.keys()):
        detail = result if isinstance(result, dict) else {}
        raise DownstreamFunctionError(
            f"{function_name} failed: {detail.get('errorType', 'Error')}: {detail.get('errorMessage', raw[:500])}"
        )
    return result
