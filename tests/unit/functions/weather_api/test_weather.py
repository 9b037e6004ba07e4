"""The weather API's pure rules (query parsing, city and station lookup, the body) and its data set generator."""

import io
import json
from datetime import UTC, datetime

import pytest

# functions/weather-api is not on pyproject's pythonpath yet; harmless once it is.
import observations
from shared.errors import ConfigError
from tools.gen_weather import CITIES, CONDITIONS
from tools.gen_weather import observations as generate
from weather import (
    BadQuery,
    CityQuery,
    PointQuery,
    answer,
    find_city,
    fold,
    haversine_km,
    nearest,
    not_found_message,
    parse_query,
    parse_stations,
)

AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
STATIONS = parse_stations(generate(7, AT))
PARIS = (48.8566, 2.3522)
LONDON = (51.5074, -0.1278)


def test_city_query():
    assert parse_query({"city": "  São   Paulo "}) == CityQuery("São Paulo")
    assert parse_query({"city": "x" * 100}) == CityQuery("x" * 100)


def test_point_query():
    assert parse_query({"lat": "48.86", "lon": "-2.5"}) == PointQuery(48.86, -2.5)
    assert parse_query({"lat": "-90", "lon": "180"}) == PointQuery(-90.0, 180.0)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (None, "give a city, or lat and lon"),
        ({}, "give a city, or lat and lon"),
        ({"units": "metric"}, "give a city, or lat and lon"),
        ({"city": "Paris", "lat": "1", "lon": "2"}, "give either city or lat and lon, not both"),
        ({"city": "Paris", "lon": "2"}, "give either city or lat and lon, not both"),
        ({"city": ""}, "city must not be empty"),
        ({"city": "   "}, "city must not be empty"),
        ({"lat": "1"}, "lon is missing: lat and lon go together"),
        ({"lon": "1"}, "lat is missing: lat and lon go together"),
        ({"lat": "north", "lon": "2"}, "lat must be a number, got 'north'"),
        ({"lat": "", "lon": "2"}, "lat must be a number, got ''"),
        ({"lat": "1", "lon": "1,2"}, "lon must be a number, got '1,2'"),  # repeated lon, comma-joined
        ({"lat": "90.5", "lon": "0"}, "lat must be between -90 and 90, got '90.5'"),
        ({"lat": "0", "lon": "-180.01"}, "lon must be between -180 and 180, got '-180.01'"),
        ({"lat": "nan", "lon": "0"}, "lat must be between -90 and 90, got 'nan'"),
        ({"lat": "0", "lon": "inf"}, "lon must be between -180 and 180, got 'inf'"),
    ],
)
def test_bad_queries_name_the_problem(params, message):
    with pytest.raises(BadQuery) as caught:
        parse_query(params)
    assert str(caught.value) == message


def test_long_inputs_are_cut_in_messages():
    with pytest.raises(BadQuery) as caught:
        parse_query({"city": "a" * 5000})
    message = str(caught.value)
    assert message.startswith("city must be at most 100 characters, got 5,000: 'aaa")
    assert message.endswith("… (5,002 chars)") and len(message) < 150
    with pytest.raises(BadQuery) as caught:
        parse_query({"lat": "9" * 1000, "lon": "0"})
    assert len(str(caught.value)) < 100


def test_fold_ignores_case_accents_and_spacing():
    assert fold("  SÃO   paulo ") == fold("Sao Paulo") == "sao paulo"
    assert fold("Zürich") == fold("ZURICH") == "zurich"
    assert fold("Reykjavík") == "reykjavik"
    assert fold("Straße") == fold("STRASSE")


@pytest.mark.parametrize(
    ("asked", "city"),
    [("zurich", "Zürich"), ("SAO PAULO", "São Paulo"), ("reykjavik", "Reykjavík"), ("Bogotá", "Bogotá")],
)
def test_city_lookup_is_case_and_accent_insensitive(asked, city):
    station = find_city(STATIONS, asked)
    assert station is not None and station.city == city


def test_unknown_city():
    assert find_city(STATIONS, "Atlantis") is None
    assert find_city(STATIONS, "Paris,London") is None  # a repeated city parameter
    assert answer(STATIONS, CityQuery("Atlantis")) is None
    assert not_found_message(CityQuery("Atlantis")) == "no observations for Atlantis"


def test_haversine_known_distances():
    assert haversine_km(*PARIS, *LONDON) == pytest.approx(344, abs=1.5)
    assert haversine_km(*LONDON, *PARIS) == pytest.approx(haversine_km(*PARIS, *LONDON))
    assert haversine_km(*PARIS, *PARIS) == 0
    assert haversine_km(0, 0, 0, 180) == pytest.approx(20015.1, abs=1.0)  # half the equator
    assert haversine_km(0, 179.9, 0, -179.9) == pytest.approx(22.2, abs=0.1)  # across the antimeridian


def test_nearest_station_within_the_limit():
    station, distance = nearest(STATIONS, 48.8606, 2.3376)  # the Louvre
    assert station.city == "Paris" and distance == pytest.approx(1.1, abs=0.1)
    station, distance = nearest(STATIONS, 49.3, 2.3522)  # ~49 km north of Paris
    assert station.city == "Paris" and 45 < distance < 55
    station, distance = nearest(STATIONS, 47.0, 8.5417)
    assert station.city == "Zürich" and distance == pytest.approx(41.9, abs=0.1)


def test_nothing_beyond_100_km():
    station, distance = nearest(STATIONS, 49.75, 2.3522)  # due north of Paris
    assert station.city == "Paris" and 99 < distance < 100
    assert nearest(STATIONS, 49.76, 2.3522) is None  # 100.5 km
    assert nearest(STATIONS, 49.76, 2.3522, max_km=101)[0].city == "Paris"
    assert nearest(STATIONS, 0.0, -140.0) is None  # the middle of the Pacific
    assert nearest([], 0.0, 0.0) is None
    assert answer(STATIONS, PointQuery(0.0, -140.0)) is None
    assert not_found_message(PointQuery(0.0, -140.0)) == "no observations for 0, -140 (no station within 100 km)"


def test_bodies():
    city = answer(STATIONS, CityQuery("zurich"))
    zurich = find_city(STATIONS, "Zürich")
    assert city == {
        "place": {"city": "Zürich", "country": "CH", "lat": 47.3769, "lon": 8.5417},
        "observation": {
            "observed_at": zurich.observation.observed_at,
            "temperature_c": zurich.observation.temperature_c,
            "humidity_pct": zurich.observation.humidity_pct,
            "wind_kph": zurich.observation.wind_kph,
            "condition": zurich.observation.condition,
        },
    }
    point = answer(STATIONS, PointQuery(47.4, 8.5))
    assert point["place"]["city"] == "Zürich" and point["distance_km"] == 4.1
    assert point["observation"] == city["observation"]


def test_parse_stations_rejects_bad_documents():
    with pytest.raises(ValueError, match="object with a stations list"):
        parse_stations([])
    good = generate(7, AT)
    good["stations"][3]["observation"]["temperature_c"] = "warm"
    with pytest.raises(ValueError, match=r"stations\[3\]: temperature_c is not a number: 'warm'"):
        parse_stations(good)
    del good["stations"][1]["observation"]
    with pytest.raises(ValueError, match=r"stations\[1\]: not an object with an observation object"):
        parse_stations(good)


def test_data_set_is_deterministic_and_complete():
    document = generate(7, AT)
    assert json.loads(json.dumps(document)) == generate(7, AT)
    assert generate(8, AT) != document
    assert generate(7, AT.replace(hour=13)) != document  # regenerated later: new observations
    assert document["seed"] == 7 and document["generated_at"] == "2026-11-22T12:00:00Z"
    names = [station["city"] for station in document["stations"]]
    assert names == [city[0] for city in CITIES] and len(set(names)) == len(names) >= 40
    assert {"Zürich", "São Paulo", "Reykjavík"} <= set(names)
    for station in document["stations"]:
        obs = station["observation"]
        assert -90 <= station["lat"] <= 90 and -180 <= station["lon"] <= 180
        assert len(station["country"]) == 2 and station["country"].isupper()
        assert -45 < obs["temperature_c"] < 50
        assert 0 <= obs["humidity_pct"] <= 100 and obs["wind_kph"] >= 0
        assert obs["condition"] in CONDITIONS
        assert obs["condition"] != "snow" or obs["temperature_c"] <= 0.5
        assert "2026-11-22T11:" in obs["observed_at"]  # 5-55 minutes before AT
    assert len(parse_stations(document)) == len(CITIES)


def test_every_pair_of_cities_is_over_200_km_apart():
    # Else a point query could be answered by the "wrong" one of two neighbours.
    for i, (a, _, lat1, lon1, _) in enumerate(CITIES):
        for b, _, lat2, lon2, _ in CITIES[i + 1 :]:
            assert haversine_km(lat1, lon1, lat2, lon2) > 200, (a, b)


def test_temperatures_follow_latitude_and_season():
    january, july = (
        generate(7, datetime(2026, 1, 20, 12, tzinfo=UTC)),
        generate(7, datetime(2026, 7, 20, 12, tzinfo=UTC)),
    )

    def temp(document, city):
        return next(s["observation"]["temperature_c"] for s in document["stations"] if s["city"] == city)

    assert temp(july, "Moscow") - temp(january, "Moscow") > 10
    assert temp(january, "Buenos Aires") - temp(july, "Buenos Aires") > 5
    assert temp(january, "Singapore") > temp(january, "Helsinki") + 15


class FakeS3:
    def __init__(self, document: bytes | None = None, error: str | None = None) -> None:
        self.document, self.error, self.reads = document, error, 0

    def get_object(self, Bucket: str, Key: str) -> dict:  # noqa: N803 - boto3's names
        from botocore.exceptions import ClientError

        self.reads += 1
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "x"}}, "GetObject")
        return {"Body": io.BytesIO(self.document)}


@pytest.fixture
def s3(monkeypatch):
    def install(fake: FakeS3) -> FakeS3:
        monkeypatch.setattr(observations, "client", lambda service: fake)
        return fake

    monkeypatch.setenv("WEATHER_DATA_BUCKET", "weather-data")
    monkeypatch.delenv("WEATHER_DATA_KEY", raising=False)
    monkeypatch.delenv("WEATHER_CACHE_SECONDS", raising=False)
    observations.clear()
    yield install
    observations.clear()


def test_data_set_is_cached_per_container(s3, monkeypatch):
    fake = s3(FakeS3(json.dumps(generate(7, AT)).encode()))
    clock = iter([1000.0, 1100.0, 1299.0, 1300.0])
    monkeypatch.setattr(observations.time, "monotonic", lambda: next(clock))
    assert len(observations.load()) == len(CITIES)
    observations.load()
    observations.load()
    assert fake.reads == 1
    observations.load()  # 300 s after the read
    assert fake.reads == 2


@pytest.mark.parametrize(
    ("error", "document", "message"),
    [
        ("NoSuchBucket", None, "s3://weather-data/observations/latest.json: bucket weather-data"),
        ("NoSuchKey", None, "s3://weather-data/observations/latest.json: no object observations/latest.json"),
        (None, b"not json", "s3://weather-data/observations/latest.json is not a weather data set"),
        (None, b'{"stations": [1]}', "stations[0]: not an object"),
    ],
)
def test_missing_or_bad_data_set_is_a_config_error(s3, error, document, message):
    s3(FakeS3(document, error))
    with pytest.raises(ConfigError) as caught:
        observations.load()
    assert message in str(caught.value)
