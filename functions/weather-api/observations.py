"""The weather data set, read from S3 and kept per container for WEATHER_CACHE_SECONDS.

`WEATHER_DATA_BUCKET` (required), `WEATHER_DATA_KEY` (default `observations/latest.json`) and
`WEATHER_CACHE_SECONDS` (default 300; 0 reads on every call) choose it. A missing bucket or object, or an
object that is not a data set, is a ConfigError naming both; other S3 failures propagate.
"""

import json
import time
from dataclasses import dataclass

from botocore.exceptions import ClientError

from shared.clients import client
from shared.config import env
from shared.errors import ConfigError, preview
from shared.failures import error_code
from shared.log import get_logger
from weather import Station, parse_stations

DEFAULT_KEY = "observations/latest.json"

logger = get_logger(child=True)


@dataclass(frozen=True)
class _Loaded:
    bucket: str
    key: str
    read_at: float  # time.monotonic()
    stations: list[Station]


_cache: _Loaded | None = None


def load() -> list[Station]:
    """The stations of the data set, from the container's cache while it is fresh."""
    global _cache
    bucket, key = env("WEATHER_DATA_BUCKET"), env("WEATHER_DATA_KEY", DEFAULT_KEY)
    try:
        max_age = float(env("WEATHER_CACHE_SECONDS", "300"))
    except ValueError:
        raise ConfigError(f"WEATHER_CACHE_SECONDS {preview(env('WEATHER_CACHE_SECONDS'))} is not seconds") from None
    now = time.monotonic()
    if _cache and (_cache.bucket, _cache.key) == (bucket, key) and now - _cache.read_at < max_age:
        return _cache.stations
    stations = read(bucket, key)
    _cache = _Loaded(bucket, key, now, stations)
    logger.info("weather data loaded", extra={"bucket": bucket, "key": key, "stations": len(stations)})
    return stations


def read(bucket: str, key: str) -> list[Station]:
    where = f"s3://{bucket}/{key}"
    try:
        body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        code = error_code(exc)
        if code == "NoSuchBucket":
            raise ConfigError(f"weather data {where}: bucket {bucket} (WEATHER_DATA_BUCKET) does not exist") from None
        if code in ("NoSuchKey", "404", "NotFound"):
            raise ConfigError(f"weather data {where}: no object {key} (WEATHER_DATA_KEY) in {bucket}") from None
        raise
    try:
        return parse_stations(json.loads(body))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError included
        raise ConfigError(f"weather data {where} is not a weather data set: {exc}") from None


def clear() -> None:
    """Forget the cached data set."""
    global _cache
    _cache = None
