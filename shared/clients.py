"""AWS clients made once per process, and synchronous invocation of another Lambda function.

botocore's own session makes the clients: boto3 adds resources and S3 transfers, which no function
uses, and its import (s3transfer among it) to the cold start of every function that does not need it
for something else (Powertools' parameters utility, DynamoDB's type serializers). In AWS no endpoint
is configured.
Locally `AWS_ENDPOINT_URL` (read by botocore itself) points every client at the moto server and
`AWS_ENDPOINT_URL_LAMBDA` points Lambda calls at the local Invoke API: the code is the same in both.
"""

import json
from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import DownstreamFunctionError

# A synchronous invoke can last up to the callee's timeout (15 min max): never retry it blindly.
_LAMBDA_CONFIG = Config(read_timeout=900, connect_timeout=5, retries={"max_attempts": 1, "mode": "standard"})


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def client(service: str, max_pool_connections: int | None = None) -> Any:
    """A client for `service`, created once and reused across warm invocations. Threads may share it;
    give `max_pool_connections` as many as will call it at once (botocore's default pool is 10)."""
    if max_pool_connections is None:
        return _session().create_client(service)
    return _session().create_client(service, config=Config(max_pool_connections=max_pool_connections))


@cache
def _lambda_client() -> Any:
    return _session().create_client("lambda", config=_LAMBDA_CONFIG)


def invoke_function(function_name: str, payload: Any) -> Any:
    """Invoke `function_name` synchronously and return its decoded JSON result.

    Raises DownstreamFunctionError when the function reports an error, cannot be reached, or
    answers something that is not JSON.
    """
    try:
        response = _lambda_client().invoke(
            FunctionName=function_name,
            InvocationType="RequestResponse",
            Payload=json.dumps(payload).encode(),
        )
        raw = response["Payload"].read().decode("utf-8", errors="replace")
    except (BotoCoreError, ClientError) as exc:
        raise DownstreamFunctionError(f"{function_name} could not be invoked: {type(exc).__name__}") from None
    try:
        result = json.loads(raw)
    except json.JSONDecodeError:
        raise DownstreamFunctionError(f"{function_name} failed: {raw.strip()[:200] or 'empty response'}") from None
    if response.get("FunctionError"):
        detail = result if isinstance(result, dict) else {}
        message = str(detail.get("errorMessage", raw))[:300]
        raise DownstreamFunctionError(f"{function_name} failed: {detail.get('errorType', 'Error')}: {message}")
    return result
