"""Which failures are worth a retry.

Lambda retries a failed asynchronous invocation (and the on-failure destination keeps what still
fails), so a handler must fail its invocation on a transient error (throttling, a 5xx answer, a
timeout, an unreachable endpoint) and report only permanent ones (bad input, a missing object)
per record. The codes follow botocore's standard retry mode.
"""

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
TRANSIENT_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "InternalError", "ServiceUnavailable"}
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` may go away on a retry: throttling, a 5xx, a timeout or a connection failure."""
    if isinstance(exc, ConnectionError | HTTPClientError):  # unreachable endpoint, timeouts, resets
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = error_code(exc)
        return code in THROTTLING_CODES or code in TRANSIENT_CODES or status == 429 or status >= 500
    return False
