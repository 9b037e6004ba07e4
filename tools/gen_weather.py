"""Generate the weather API's data set (synthetic observations of real cities) into local S3.

    python -m tools.gen_weather [--seed 7] [--bucket weather-data] [--key observations/latest.json]

Temperatures follow latitude, elevation, season and local solar time, with seeded noise; humidity,
wind and a condition (one of CONDITIONS) are drawn to agree with them. The same seed and time give the
same document. The bucket is created when missing.
"""

import argparse
import json
import math
import random
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

# name, ISO 3166 country code, latitude, longitude, elevation (m)
CITIES: tuple[tuple[str, str, float, float, int], ...] = (
    ("Reykjavík", "IS", 64.1466, -21.9426, 0),
    ("Oslo", "NO", 59.9139, 10.7522, 23),
    ("Helsinki", "FI", 60.1699, 24.9384, 17),
    ("Stockholm", "SE", 59.3293, 18.0686, 28),
    ("Moscow", "RU", 55.7558, 37.6173, 156),
    ("London", "GB", 51.5074, -0.1278, 11),
    ("Paris", "FR", 48.8566, 2.3522, 35),
    ("Berlin", "DE", 52.5200, 13.4050, 34),
    ("Zürich", "CH", 47.3769, 8.5417, 408),
    ("Vienna", "AT", 48.2082, 16.3738, 190),
    ("Kraków", "PL", 50.0647, 19.9450, 219),
    ("Madrid", "ES", 40.4168, -3.7038, 667),
    ("Lisbon", "PT", 38.7223, -9.1393, 2),
    ("Rome", "IT", 41.9028, 12.4964, 21),
    ("Athens", "GR", 37.9838, 23.7275, 70),
    ("Istanbul", "TR", 41.0082, 28.9784, 39),
    ("Cairo", "EG", 30.0444, 31.2357, 23),
    ("Lagos", "NG", 6.5244, 3.3792, 41),
    ("Nairobi", "KE", -1.2921, 36.8219, 1795),
    ("Cape Town", "ZA", -33.9249, 18.4241, 25),
    ("Dubai", "AE", 25.2048, 55.2708, 5),
    ("Mumbai", "IN", 19.0760, 72.8777, 14),
    ("Delhi", "IN", 28.7041, 77.1025, 216),
    ("Bangkok", "TH", 13.7563, 100.5018, 2),
    ("Singapore", "SG", 1.3521, 103.8198, 15),
    ("Hong Kong", "HK", 22.3193, 114.1694, 32),
    ("Beijing", "CN", 39.9042, 116.4074, 44),
    ("Seoul", "KR", 37.5665, 126.9780, 38),
    ("Tokyo", "JP", 35.6762, 139.6503, 40),
    ("Sydney", "AU", -33.8688, 151.2093, 58),
    ("Auckland", "NZ", -36.8485, 174.7633, 26),
    ("Honolulu", "US", 21.3069, -157.8583, 6),
    ("Anchorage", "US", 61.2181, -149.9003, 31),
    ("Vancouver", "CA", 49.2827, -123.1207, 70),
    ("San Francisco", "US", 37.7749, -122.4194, 16),
    ("Montréal", "CA", 45.5017, -73.5673, 36),
    ("New York", "US", 40.7128, -74.0060, 10),
    ("Mexico City", "MX", 19.4326, -99.1332, 2240),
    ("Bogotá", "CO", 4.7110, -74.0721, 2640),
    ("Lima", "PE", -12.0464, -77.0428, 154),
    ("São Paulo", "BR", -23.5505, -46.6333, 760),
    ("Buenos Aires", "AR", -34.6037, -58.3816, 25),
)
CONDITIONS = ("clear", "partly cloudy", "cloudy", "fog", "drizzle", "rain", "thunderstorm", "snow")
DEFAULT_SEED = 7
DEFAULT_BUCKET = "weather-data"
DEFAULT_KEY = "observations/latest.json"


def _temperature(lat: float, lon: float, elevation: int, at: datetime, rng: random.Random) -> float:
    mean = 28 - 0.006 * lat**2 - 4.5 * elevation / 1000
    # Warmest around 20 July in the north, 20 January in the south; the swing grows with latitude.
    season = math.cos(2 * math.pi * (at.timetuple().tm_yday - 201) / 365.25)
    seasonal = min(0.0045 * lat**2, 12) * season * (1 if lat >= 0 else -1)
    solar_hour = (at.hour + at.minute / 60 + lon / 15) % 24
    daily = 3.5 * math.cos(2 * math.pi * (solar_hour - 15) / 24)  # warmest mid-afternoon
    return round(mean + seasonal + daily + rng.gauss(0, 1.5), 1) + 0.0  # + 0.0: never -0.0


def _condition(temperature: float, humidity: int, rng: random.Random) -> str:
    wet = "snow" if temperature <= 0.5 else None
    if humidity >= 92:
        return "fog" if rng.random() < 0.4 else wet or rng.choice(("drizzle", "rain"))
    if humidity >= 80:
        if temperature >= 22 and rng.random() < 0.3:
            return "thunderstorm"
        return wet or rng.choice(("drizzle", "rain", "cloudy"))
    if humidity >= 60:
        return rng.choice(("partly cloudy", "cloudy"))
    return rng.choice(("clear", "clear", "partly cloudy"))


def observations(seed: int, at: datetime) -> dict[str, Any]:
    """The data set at `at` (naive means UTC): every city of CITIES with one observation."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    stations = []
    for name, country, lat, lon, elevation in CITIES:
        # Reproducible test data; per city (order-free) and per hour (regenerating later changes it).
        rng = random.Random(f"{seed}:{name}:{at:%Y-%m-%dT%H}")  # noqa: S311
        observed = (at - timedelta(minutes=rng.randint(5, 55))).replace(second=0, microsecond=0)
        temperature = _temperature(lat, lon, elevation, observed, rng)
        humidity = max(15, min(100, round(rng.gauss(68, 16))))
        condition = _condition(temperature, humidity, rng)
        wind = abs(rng.gauss(12, 6)) + (20 if condition == "thunderstorm" else 0)
        if condition == "fog":
            wind = min(wind, 6.0)
        stations.append(
            {
                "city": name,
                "country": country,
                "lat": lat,
                "lon": lon,
                "observation": {
                    "observed_at": observed.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "temperature_c": temperature,
                    "humidity_pct": humidity,
                    "wind_kph": round(wind, 1),
                    "condition": condition,
                },
            }
        )
    return {
        "generated_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seed": seed,
        "source": "synthetic: python -m tools.gen_weather",
        "stations": stations,
    }


def ensure_bucket(s3: Any, bucket: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
    region = s3.meta.region_name
    if region == "us-east-1":  # the one region that refuses a LocationConstraint
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})


def main(argv: list[str]) -> None:
    from lambda_local.providers import load
    from stack import moto  # developer tooling; the pure generator above is also used by the bootstrap

    bucket = load().names.get("WeatherDataBucket", DEFAULT_BUCKET)
    parser = argparse.ArgumentParser(prog="python -m tools.gen_weather", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)")
    parser.add_argument(
        "--bucket",
        default=bucket,
        help="S3 bucket (default: the template's WeatherDataBucket, %(default)s)",
    )
    parser.add_argument(
        "--key",
        default=DEFAULT_KEY,
        help="object key (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    document = observations(args.seed, datetime.now(UTC))
    s3 = moto.client("s3")
    ensure_bucket(s3, args.bucket)
    s3.put_object(
        Bucket=args.bucket,
        Key=args.key,
        Body=json.dumps(document, indent=2, ensure_ascii=False).encode(),
        ContentType="application/json",
    )
    stations = document["stations"]
    coldest = min(stations, key=lambda s: s["observation"]["temperature_c"])
    warmest = max(stations, key=lambda s: s["observation"]["temperature_c"])
    print(
        f"==> wrote {len(stations)} stations to s3://{args.bucket}/{args.key} "
        f"(seed {args.seed}, generated {document['generated_at']})\n"
        f"    coldest {coldest['city']} {coldest['observation']['temperature_c']} °C, "
        f"warmest {warmest['city']} {warmest['observation']['temperature_c']} °C"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
