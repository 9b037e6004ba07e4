"""Structured JSON logging (Powertools Logger), one logger per function, with credentials redacted."""

import logging
import re
from typing import Any

from aws_lambda_powertools import Logger

# Header and field names whose values are credentials (API Gateway events carry the caller's token).
SECRET_KEYS = frozenset({"authorization", "cookie", "x-amz-security-token", "x-api-key", "proxy-authorization"})
REDACTED = "*** redacted ***"
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/=]+")


def redact(value: Any) -> Any:
    """`value` with credentials replaced: the values of SECRET_KEYS (a header's single or multiple
    values) and any `Bearer <token>` in a string."""
    if isinstance(value, dict):
        return {
            key: (REDACTED if isinstance(key, str) and key.lower() in SECRET_KEYS and item else redact(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", value)
    return value


class RedactCredentials(logging.Filter):
    """Redacts what a record logs: an event (POWERTOOLS_LOGGER_LOG_EVENT) is logged as its dict."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:  # "%s"-style: redact the formatted text ("Bearer %s" with the token as argument)
            record.msg, record.args = record.getMessage(), None
        record.msg = redact(record.msg)
        return True


def get_logger(service: str | None = None, child: bool = False) -> Logger:
    """A JSON logger; `POWERTOOLS_SERVICE_NAME` / `POWERTOOLS_LOG_LEVEL` configure it.

    `child=True` for library modules: they log through the function's logger (same keys, same level).
    Events are logged only when `POWERTOOLS_LOGGER_LOG_EVENT` is true (locally; never in the template),
    and never with their credentials (`Authorization`, cookies, bearer tokens).
    """
    logger = Logger(service=service, child=child)
    if not child:
        logger.addFilter(RedactCredentials())
    return logger
