"""Lambda's quotas that the local plane enforces, in one place (AWS: Lambda quotas)."""

SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024  # bytes: a synchronous invocation's request and response, a stream batch
ASYNC_PAYLOAD_LIMIT = 1024 * 1024  # bytes: an asynchronous (Event) invocation's payload
