"""sensor-anomaly's pure core: reading validation, Welford statistics, the sustained-anomaly rule, stream
replays, and the simulated fleet's faults as the rule sees them."""

import json
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.errors import InvalidEventError
from telemetry import (
    Incident,
    Reading,
    Rule,
    SeriesState,
    Stats,
    apply,
    decode_reading,
    is_anomalous,
    order_id,
    parse_reading,
    stats_key,
    welford,
    z_score,
)
from tools.simulate_tractors import DEFAULT_START, FAULTS, WARMUP_S, fleet_readings

DEFAULT_RULE = Rule()
T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
BASELINE = [55.0 + d for d in (0.4, -0.3, 1.1, -1.2, 0.0, 0.8, -0.6, 0.2, -0.9, 1.3)] * 3  # 30 samples, sd ~0.75


def ts(i: int) -> str:
    return (T0 + timedelta(seconds=10 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")


def series(
    values: list[float], sensor: str = "bearing_temp", first: int = 0, shard: str | None = None
) -> list[Reading]:
    """Readings of T-001 every 10 s from T0 + 10*first s; with a shard, sequence numbers follow the index."""
    return [
        Reading("T-001", sensor, v, "°C", ts(first + i), shard, None if shard is None else 1000 + first + i)
        for i, v in enumerate(values)
    ]


def run(
    values: list[float], sensor: str = "bearing_temp", rule: Rule = DEFAULT_RULE
) -> tuple[SeriesState, list[Incident]]:
    return apply(SeriesState(), series(values, sensor), rule)


def valid() -> dict[str, Any]:
    return {"tractor_id": "T-003", "sensor": "bearing_temp", "value": 55.2, "unit": "°C", "ts": "2026-05-04T06:00:00Z"}


# -- parsing ---------------------------------------------------------------------------------------------------


def test_a_valid_reading_parses_with_its_stream_position():
    reading = parse_reading(valid() | {"value": 55, "extra": "ignored"}, "shardId-000000000001", 42)
    assert reading == Reading("T-003", "bearing_temp", 55.0, "°C", "2026-05-04T06:00:00Z", "shardId-000000000001", 42)
    assert isinstance(reading.value, float)
    assert parse_reading(valid() | {"ts": "2026-05-04T08:00:00.123+02:00"}).ts == "2026-05-04T08:00:00.123+02:00"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"tractor_id": None}, "reading.tractor_id", "must be 1-64 characters"),
        ({"tractor_id": "T#3"}, "reading.tractor_id", "'T#3'"),
        ({"tractor_id": ""}, "reading.tractor_id", "''"),
        ({"sensor": 7}, "reading.sensor", "got 7"),
        ({"value": "55.2"}, "reading.value", "must be a number, got '55.2'"),
        ({"value": True}, "reading.value", "must be a number, got True"),
        ({"value": float("nan")}, "reading.value", "out of range"),
        ({"value": 1e300}, "reading.value", "out of range"),
        ({"unit": ""}, "reading.unit", "non-empty string"),
        ({"unit": ["°C"]}, "reading.unit", "got ['°C']"),
        ({"ts": 1714802400}, "reading.ts", "ISO 8601 timestamp string, got 1714802400"),
        ({"ts": "yesterday"}, "reading.ts", "'yesterday' is not an ISO 8601 timestamp"),
        ({"ts": "2026-05-04T06:00:00"}, "reading.ts", "has no timezone"),
        ({"ts": "2026-02-30T06:00:00Z"}, "reading.ts", "is not an ISO 8601 timestamp"),
    ],
)
def test_a_bad_field_is_named(change: dict[str, Any], field: str, words: str):
    with pytest.raises(InvalidEventError) as caught:
        parse_reading(valid() | change)
    assert str(caught.value).startswith(field)
    assert words in str(caught.value)


@pytest.mark.parametrize("missing", ["tractor_id", "sensor", "value", "unit", "ts"])
def test_a_missing_field_is_named(missing: str):
    payload = valid()
    del payload[missing]
    with pytest.raises(InvalidEventError, match=f"^reading.{missing} is missing$"):
        parse_reading(payload)


def test_a_huge_bad_value_is_cut_in_the_message():
    with pytest.raises(InvalidEventError) as caught:
        parse_reading(valid() | {"sensor": "x" * 10_000})
    assert len(str(caught.value)) < 200
    assert "10,002 chars" in str(caught.value)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b"{not json", "not UTF-8 JSON"),
        (b"[1, 2]", "reading must be a JSON object"),
    ],
)
def test_record_data_that_is_not_a_json_object(data: bytes, words: str):
    with pytest.raises(InvalidEventError, match=words):
        decode_reading(data)


def test_record_data_decodes():
    reading = decode_reading(json.dumps(valid(), ensure_ascii=False).encode(), "shardId-000000000000", 7)
    assert (reading.tractor_id, reading.unit, reading.sequence) == ("T-003", "°C", 7)


# -- statistics and the rule ----------------------------------------------------------------------------------


def test_welford_matches_the_statistics_module():
    sample = [180.2, 177.9, 183.4, 179.0, 181.7, 176.5, 180.0, 182.2, 178.8, 1e-3, 181.1]
    stats = Stats()
    for value in sample:
        stats = welford(stats, value)
    assert stats.count == len(sample)
    assert stats.mean == pytest.approx(statistics.fmean(sample), rel=1e-12)
    assert stats.variance == pytest.approx(statistics.pvariance(sample), rel=1e-12)
    assert stats.stddev == pytest.approx(statistics.pstdev(sample), rel=1e-12)
    assert Stats().variance == 0.0


def test_z_score_and_the_threshold():
    stats = Stats(count=20, mean=10.0, m2=20 * 4.0)  # sd 2
    assert z_score(stats, 18.0) == pytest.approx(4.0)
    assert z_score(stats, 2.0) == pytest.approx(4.0)
    assert is_anomalous(stats, 18.0, Rule())
    assert not is_anomalous(stats, 17.9, Rule())
    assert not is_anomalous(Stats(count=19, mean=10.0, m2=19 * 4.0), 100.0, Rule())  # still warming up
    flat = Stats(count=30, mean=5.0, m2=0.0)
    assert z_score(flat, 5.0) == 0.0 and z_score(flat, 5.1) == float("inf")


@pytest.mark.parametrize(
    "settings", [{"z": 0}, {"z": float("nan")}, {"min_samples": 1}, {"sustained": 0}], ids=lambda s: str(s)
)
def test_rule_settings_are_checked(settings: dict[str, Any]):
    with pytest.raises(ValueError, match="ANOMALY_"):
        Rule(**settings)


def test_a_sustained_anomaly_is_one_incident_named_by_its_first_anomalous_ts():
    values = BASELINE + [70.0, 71.0, 72.0, 73.0, 74.0, 75.0]
    state, incidents = run(values)
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident.incident_id == ts(30)  # the first anomalous reading, not the one that confirmed it
    assert incident.detected_ts == ts(32)
    assert (incident.tractor_id, incident.sensor, incident.part, incident.value, incident.unit) == (
        "T-001",
        "bearing_temp",
        "wheel-bearing",
        72.0,
        "°C",
    )
    assert incident.z == pytest.approx((72.0 - statistics.fmean(BASELINE)) / statistics.pstdev(BASELINE))
    assert incident.samples == 30
    assert (state.streak, state.incident) == (6, ts(30))
    assert order_id(incident) == f"T-001#wheel-bearing#{ts(30)}"


def test_the_streak_counts_across_batches():
    state, first = run(BASELINE + [70.0, 71.0])
    assert first == [] and (state.streak, state.incident) == (2, ts(30))
    state, second = apply(state, series([72.0], first=32), Rule())
    assert [i.incident_id for i in second] == [ts(30)]


def test_single_spikes_and_broken_streaks_are_no_incident():
    state, incidents = run(BASELINE + [90.0] + BASELINE[:3] + [90.0, 90.0] + BASELINE[:1] + [90.0, 90.0])
    assert incidents == []
    assert (state.streak, state.incident) == (2, ts(30 + 1 + 3 + 2 + 1))


def test_a_normal_reading_ends_the_incident_and_a_new_streak_is_a_new_incident():
    values = BASELINE + [80.0] * 4 + [55.0] + [80.0] * 3
    state, incidents = run(values)
    assert [i.incident_id for i in incidents] == [ts(30), ts(35)]
    assert (state.streak, state.incident) == (3, ts(35))


def test_anomalous_readings_do_not_move_the_baseline():
    before, _ = run(BASELINE)
    after, incidents = apply(before, series([60.0 + n for n in range(20)], first=30), Rule())  # a heating bearing
    assert len(incidents) == 1
    assert after.stats == before.stats
    assert after.streak == 20


def test_warm_up_readings_are_folded_in_whatever_they_are():
    state, incidents = run([55.0] * 5 + [500.0] * 5)
    assert incidents == [] and state.streak == 0 and state.stats.count == 10


def test_a_sensor_without_a_part_is_an_incident_without_an_order():
    _, incidents = run(BASELINE + [90.0] * 3, sensor="coolant_level")
    assert [(i.sensor, i.part) for i in incidents] == [("coolant_level", None)]
    with pytest.raises(ValueError, match="no spare part"):
        order_id(incidents[0])


@pytest.mark.parametrize(
    ("sensor", "part"),
    [
        ("bearing_temp", "wheel-bearing"),
        ("hydraulic_pressure", "hydraulic-pump"),
        ("engine_temp", "coolant-pump"),
        ("oil_pressure", "oil-pump"),
    ],
)
def test_parts_by_sensor(sensor: str, part: str):
    _, incidents = run(BASELINE + [90.0] * 3, sensor=sensor)
    assert [i.part for i in incidents] == [part]


def test_apply_refuses_readings_of_two_series():
    mixed = series(BASELINE[:2]) + series([1.0], sensor="engine_temp")
    with pytest.raises(ValueError, match="engine_temp"):
        apply(SeriesState(), mixed, Rule())


def test_keys():
    assert stats_key("T-001", "bearing_temp") == "T-001#bearing_temp"


# -- replays ---------------------------------------------------------------------------------------------------


def test_a_replayed_batch_changes_nothing():
    batch = series(BASELINE + [80.0] * 3, shard="shardId-000000000000")
    state, incidents = apply(SeriesState(), batch, Rule())
    assert len(incidents) == 1 and state.positions == {"shardId-000000000000": 1032}
    again, replayed = apply(state, batch, Rule())
    assert again == state and replayed == []


def test_an_overlapping_batch_applies_only_the_new_readings():
    shard = "shardId-000000000000"
    state, _ = apply(SeriesState(), series(BASELINE[:25], shard=shard), Rule())
    overlap = series(BASELINE[20:30], first=20, shard=shard)  # 20..24 seen, 25..29 new
    state, _ = apply(state, overlap, Rule())
    assert state.stats.count == 30
    assert state.stats.mean == pytest.approx(statistics.fmean(BASELINE))
    assert state.positions == {shard: 1029}


def test_positions_compare_as_integers_per_shard():
    big = 49590338271490256608559692538361571095921575989136588898  # Kinesis sequence numbers run to 56 digits
    state = SeriesState(stats=Stats(), positions={"shardId-000000000000": big, "shardId-000000000001": 9})
    readings = [
        Reading("T-001", "bearing_temp", 55.0, "°C", ts(0), "shardId-000000000000", big),  # seen
        Reading("T-001", "bearing_temp", 55.0, "°C", ts(1), "shardId-000000000000", big - 1),  # older: seen
        Reading("T-001", "bearing_temp", 56.0, "°C", ts(2), "shardId-000000000001", 10),  # "10" < "9" as text
        Reading("T-001", "bearing_temp", 57.0, "°C", ts(3), "shardId-000000000002", 1),  # a new shard
        Reading("T-001", "bearing_temp", 58.0, "°C", ts(4)),  # no position: always applied
    ]
    state, _ = apply(state, readings, Rule())
    assert state.stats.count == 3 and state.stats.mean == pytest.approx(57.0)
    assert state.positions == {"shardId-000000000000": big, "shardId-000000000001": 10, "shardId-000000000002": 1}


# -- the simulated fleet ----------------------------------------------------------------------------------------


def detect(readings: list[dict[str, Any]], rule: Rule = DEFAULT_RULE) -> list[Incident]:
    """The pure detector over a whole fleet, one series at a time in ts order."""
    by_series: dict[tuple[str, str], list[Reading]] = defaultdict(list)
    for payload in readings:
        reading = parse_reading(payload)
        by_series[(reading.tractor_id, reading.sensor)].append(reading)
    incidents = []
    for group in by_series.values():
        incidents += apply(SeriesState(), group, rule)[1]
    return incidents


def test_fleet_readings_are_deterministic_and_ordered():
    readings = fleet_readings(4, 12, seed=3, faults={})
    assert readings == fleet_readings(4, 12, seed=3, faults={})
    assert readings != fleet_readings(4, 12, seed=4, faults={})
    assert len(readings) == 4 * 3 * 12 * 6
    assert [r["ts"] for r in readings] == sorted(r["ts"] for r in readings)
    assert readings[0]["ts"] == DEFAULT_START.strftime("%Y-%m-%dT%H:%M:%SZ")
    # a tractor's readings do not depend on the fleet's size
    assert [r for r in fleet_readings(8, 12, seed=3, faults={}) if r["tractor_id"] == "T-002"] == [
        r for r in readings if r["tractor_id"] == "T-002"
    ]


def test_fleet_readings_refuse_unknown_faults():
    with pytest.raises(ValueError, match="T-011"):
        fleet_readings(10, 30, 1, {"T-011": "bearing_heat"})
    with pytest.raises(ValueError, match="flat_tyre"):
        fleet_readings(10, 30, 1, {"T-001": "flat_tyre"})


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_the_default_faults_are_found_once_each_and_nothing_else(seed: int):
    readings = fleet_readings(10, 30, seed, faults=None)
    incidents = detect(readings)
    assert sorted((i.tractor_id, i.part) for i in incidents) == [
        ("T-003", "wheel-bearing"),
        ("T-007", "hydraulic-pump"),
    ]
    for incident in incidents:  # the incident starts inside the fault, not in the healthy warm-up
        fault = FAULTS["bearing_heat" if incident.tractor_id == "T-003" else "hydraulic_drop"]
        fault_start = DEFAULT_START + timedelta(seconds=max(WARMUP_S, 30 * 60 - fault.last_s))
        assert datetime.fromisoformat(incident.incident_id) >= fault_start
        assert incident.sensor == fault.sensor


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_a_healthy_fleet_has_no_incident_even_under_a_looser_rule(seed: int):
    readings = fleet_readings(10, 60, seed, faults={})
    assert detect(readings) == []
    assert detect(readings, Rule(z=3.5)) == []  # margin under the default z of 4
