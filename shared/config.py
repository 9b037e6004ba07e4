"""Settings read from the environment, with errors that name what is missing."""

import os
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.errors import ConfigError


def env(name: str, default: str | None = None) -> str:
    """Return environment variable `name`, or `default`; raise ConfigError if neither is set."""
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise ConfigError(f"environment variable {name} is not set")
    return value


@cache
def report_timezone() -> ZoneInfo:
    """The timezone that defines a report day (`REPORT_TIMEZONE`, default UTC)."""
    name = env("REPORT_TIMEZONE", "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"REPORT_TIMEZONE {name!r} is not a known IANA timezone") from None
