"""The weather API's rules: which query is asked, which station answers it, and the JSON it gets.

A query names either a `city` (matched ignoring case and accents) or a point (`lat` and `lon`, answered by
the nearest station within MAX_DISTANCE_KM). The data set is a JSON document with a `stations` list, as
written by `python -m tools.gen_weather`.
"""

import math
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.errors import InvalidEventError, preview

MAX_CITY_CHARS = 100
MAX_DISTANCE_KM = 100.0
EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


class BadQuery(InvalidEventError):
    """The query string cannot be answered as asked; the message (an HTTP 400) says why."""


@dataclass(frozen=True)
class CityQuery:
    city: str


@dataclass(frozen=True)
class PointQuery:
    lat: float
    lon: float


@dataclass(frozen=True)
class Observation:
    observed_at: str
    temperature_c: float
    humidity_pct: float
    wind_kph: float
    condition: str


@dataclass(frozen=True)
class Station:
    city: str
    country: str
    lat: float
    lon: float
    observation: Observation


def _coordinate(params: Mapping[str, str], name: str, limit: float) -> float:
    raw = params[name]
    try:
        value = float(raw)
    except ValueError:
        raise BadQuery(f"{name} must be a number, got {preview(raw)}") from None
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise BadQuery(f"{name} must be between -{limit:g} and {limit:g}, got {preview(raw)}")
    return value


def parse_query(params: Mapping[str, str] | None) -> CityQuery | PointQuery:
    """The query of `queryStringParameters` (absent when the URL has none; repeated keys are comma-joined)."""
    params = params or {}
    has_city = "city" in params
    has_point = "lat" in params or "lon" in params
    if has_city and has_point:
        raise BadQuery("give either city or lat and lon, not both")
    if has_city:
        city = " ".join(params["city"].split())
        if not city:
            raise BadQuery("city must not be empty")
        if len(city) > MAX_CITY_CHARS:
            raise BadQuery(f"city must be at most {MAX_CITY_CHARS} characters, got {len(city):,}: {preview(city)}")
        return CityQuery(city)
    if not has_point:
        raise BadQuery("give a city, or lat and lon")
    missing = [name for name in ("lat", "lon") if name not in params]
    if missing:
        raise BadQuery(f"{missing[0]} is missing: lat and lon go together")
    return PointQuery(_coordinate(params, "lat", 90), _coordinate(params, "lon", 180))


def fold(text: str) -> str:
    """`text` without case, accents or repeated spaces: "  SÃO  paulo" and "Sao Paulo" fold alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def find_city(stations: Iterable[Station], city: str) -> Station | None:
    """The first station whose city folds like `city`."""
    wanted = fold(city)
    return next((station for station in stations if fold(station.city) == wanted), None)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def nearest(
    stations: Iterable[Station], lat: float, lon: float, max_km: float = MAX_DISTANCE_KM
) -> tuple[Station, float] | None:
    """The station nearest to (lat, lon) and its distance in km, if one is within `max_km`."""
    best = min(
        ((station, haversine_km(lat, lon, station.lat, station.lon)) for station in stations),
        key=lambda pair: pair[1],
        default=None,
    )
    return best if best is not None and best[1] <= max_km else None


def not_found_message(query: CityQuery | PointQuery) -> str:
    if isinstance(query, CityQuery):
        return f"no observations for {query.city}"
    return f"no observations for {query.lat:g}, {query.lon:g} (no station within {MAX_DISTANCE_KM:g} km)"


def answer(stations: Iterable[Station], query: CityQuery | PointQuery) -> dict[str, Any] | None:
    """The response body for `query`, or None when no station answers it."""
    if isinstance(query, CityQuery):
        station = find_city(stations, query.city)
        return weather_body(station) if station else None
    found = nearest(stations, query.lat, query.lon)
    return weather_body(*found) if found else None


def weather_body(station: Station, distance_km: float | None = None) -> dict[str, Any]:
    """The 200 body: the place, its distance from the asked point (point queries only) and the observation."""
    body: dict[str, Any] = {
        "place": {"city": station.city, "country": station.country, "lat": station.lat, "lon": station.lon}
    }
    if distance_km is not None:
        body["distance_km"] = round(distance_km, 1)
    obs = station.observation
    body["observation"] = {
        "observed_at": obs.observed_at,
        "temperature_c": obs.temperature_c,
        "humidity_pct": obs.humidity_pct,
        "wind_kph": obs.wind_kph,
        "condition": obs.condition,
    }
    return body


def _number(item: Mapping[str, Any], name: str) -> float:
    value = item.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} is not a number: {preview(value)}")
    return value


def _text(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} is not a non-empty string: {preview(value)}")
    return value


def parse_stations(document: Any) -> list[Station]:
    """The stations of a data set document; ValueError naming the first bad entry."""
    if not isinstance(document, Mapping) or not isinstance(document.get("stations"), list):
        raise ValueError("the data set must be an object with a stations list")
    stations = []
    for index, item in enumerate(document["stations"]):
        try:
            if not isinstance(item, Mapping) or not isinstance(item.get("observation"), Mapping):
                raise ValueError("not an object with an observation object")
            obs = item["observation"]
            stations.append(
                Station(
                    city=_text(item, "city"),
                    country=_text(item, "country"),
                    lat=_number(item, "lat"),
                    lon=_number(item, "lon"),
                    observation=Observation(
                        observed_at=_text(obs, "observed_at"),
                        temperature_c=_number(obs, "temperature_c"),
                        humidity_pct=_number(obs, "humidity_pct"),
                        wind_kph=_number(obs, "wind_kph"),
                        condition=_text(obs, "condition"),
                    ),
                )
            )
        except ValueError as exc:
            raise ValueError(f"stations[{index}]: {exc}") from None
    return stations
