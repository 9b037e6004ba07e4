"""Structured JSON logging (Powertools Logger), one logger per function."""

from aws_lambda_powertools import Logger


def get_logger(service: str | None = None) -> Logger:
    """A JSON logger; `POWERTOOLS_SERVICE_NAME` / `POWERTOOLS_LOG_LEVEL` configure it."""
    return Logger(service=service)
