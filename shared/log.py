"""Structured JSON logging (Powertools Logger), one logger per function."""

from aws_lambda_powertools import Logger


def get_logger(service: str | None = None, child: bool = False) -> Logger:
    """A JSON logger; `POWERTOOLS_SERVICE_NAME` / `POWERTOOLS_LOG_LEVEL` configure it.

    `child=True` for library modules: they log through the function's logger (same keys, same level).
    Events are logged only when `POWERTOOLS_LOGGER_LOG_EVENT` is true (locally; never in the template).
    """
    return Logger(service=service, child=child)
