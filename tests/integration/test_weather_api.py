"""weatherApi through its real trigger: the local API Gateway (HTTP API, payload 2.0) on port 3000."""

import json
import urllib.error
import urllib.request

import pytest

from tests.integration.conftest import TEMPLATE

pytestmark = pytest.mark.integration
API = "http://127.0.0.1:3000"
ORIGIN = TEMPLATE.function_env(TEMPLATE.function("weatherApi"))["SITE_ORIGIN"]


def get(path: str) -> tuple[int, dict[str, str], dict]:
    request = urllib.request.Request(API + path, headers={"Origin": ORIGIN})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_a_city_answers_with_cache_and_cors_headers() -> None:
    status, headers, body = get("/weather?city=sao%20PAULO")  # accents and case do not matter
    assert status == 200
    assert body["place"]["city"] == "São Paulo"
    assert set(body["observation"]) >= {"temperature_c", "humidity_pct", "wind_kph", "condition", "observed_at"}
    assert headers["cache-control"] == "public, max-age=300"
    assert headers["access-control-allow-origin"] == ORIGIN


def test_coordinates_find_the_nearest_station_within_100_km() -> None:
    status, _, body = get("/weather?lat=48.8606&lon=2.3376")  # the Louvre
    assert status == 200 and body["place"]["city"] == "Paris" and body["distance_km"] < 5
    status, headers, body = get("/weather?lat=0&lon=-140")  # the middle of the Pacific
    assert status == 404 and "no station within 100 km" in body["message"]
    assert headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("", "city"),
        ("?city=Paris&lat=1&lon=2", "either"),
        ("?lat=91&lon=0", "lat"),
        ("?lat=abc&lon=0", "lat"),
        ("?city=" + "x" * 300, "city"),
    ],
)
def test_bad_parameters_are_400_naming_the_problem(query: str, named: str) -> None:
    status, headers, body = get("/weather" + query)
    assert status == 400
    assert named in body["message"]
    assert len(body["message"]) < 200  # echoed input is cut
    assert headers["access-control-allow-origin"] == ORIGIN


def test_an_unknown_city_is_404() -> None:
    status, _, body = get("/weather?city=Atlantis")
    assert (status, body) == (404, {"message": "no observations for Atlantis"})
