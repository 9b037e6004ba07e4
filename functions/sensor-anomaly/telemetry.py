"""Tractor telemetry: reading validation, per-(tractor, sensor) running statistics and the anomaly rule.

Pure: no AWS calls. `apply(state, readings, rule)` is the whole state transition the store runs between
reading an item and writing it back conditionally.

A reading is anomalous when the baseline has at least `rule.min_samples` samples and
|value - mean| / stddev >= `rule.z` (population stddev). Anomalous readings are kept out of the baseline,
so a slowly heating bearing never becomes "normal". `rule.sustained` consecutive anomalous readings make an
incident, identified by the `ts` of the first of them: the id is a function of the data, so a replay of the
same readings gives the same id (and the same order id). A normal reading ends the streak.
"""

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.errors import InvalidEventError, preview

PARTS = {
    "bearing_temp": "wheel-bearing",
    "hydraulic_pressure": "hydraulic-pump",
    "engine_temp": "coolant-pump",
    "oil_pressure": "oil-pump",
}

# Ids become parts of DynamoDB keys ("<tractor>#<sensor>", "<tractor>#<part>#<ts>") and of SNS subjects (ASCII).
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")
MAX_UNIT_CHARS = 32
MAX_TS_CHARS = 40
# Far beyond any sensor; keeps mean, m2 and the order's value inside DynamoDB's number range (|x| < 1e126).
MAX_ABS_VALUE = 1e9


@dataclass(frozen=True)
class Reading:
    tractor_id: str
    sensor: str
    value: float
    unit: str
    ts: str  # as sent: the incident id when this reading starts an anomalous streak
    shard_id: str | None = None  # where the reading sits in the stream; None: always applied
    sequence: int | None = None


@dataclass(frozen=True)
class Stats:
    """Welford's running count, mean and sum of squared deviations (m2)."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0

    @property
    def variance(self) -> float:
        """Population variance (0 before the first sample)."""
        return self.m2 / self.count if self.count else 0.0

    @property
    def stddev(self) -> float:
        return math.sqrt(self.variance)


@dataclass(frozen=True)
class Rule:
    z: float = 4.0
    min_samples: int = 20
    sustained: int = 3

    def __post_init__(self) -> None:
        if not (math.isfinite(self.z) and self.z > 0):
            raise ValueError(f"ANOMALY_Z must be a positive number, got {self.z!r}")
        if self.min_samples < 2:
            raise ValueError(f"ANOMALY_MIN_SAMPLES must be at least 2, got {self.min_samples!r}")
        if self.sustained < 1:
            raise ValueError(f"ANOMALY_SUSTAINED must be at least 1, got {self.sustained!r}")


@dataclass(frozen=True)
class SeriesState:
    """What is kept per (tractor, sensor): the baseline, the current anomalous streak, the stream positions."""

    stats: Stats = Stats()
    streak: int = 0
    incident: str | None = None  # ts of the streak's first anomalous reading
    positions: Mapping[str, int] = field(default_factory=dict)  # shard id -> last applied sequence number


@dataclass(frozen=True)
class Incident:
    tractor_id: str
    sensor: str
    part: str | None  # None: a sensor without a known part
    incident_id: str  # ts of the first anomalous reading of the streak
    detected_ts: str  # ts of the reading that made the streak sustained
    value: float
    unit: str
    z: float  # of the detecting reading; inf when the baseline has no spread
    mean: float  # the baseline it was measured against
    stddev: float
    samples: int


def _id_field(payload: Mapping[str, Any], name: str) -> str:
    value = payload[name]
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidEventError(
            f"reading.{name} must be 1-64 characters of letters, digits and _ . : - (starting with a letter "
            f"or digit), got {preview(value)}"
        )
    return value


def parse_reading(payload: Any, shard_id: str | None = None, sequence: int | None = None) -> Reading:
    """Validate one decoded reading; InvalidEventError names the first bad field."""
    if not isinstance(payload, Mapping):
        raise InvalidEventError(f"reading must be a JSON object, got {preview(payload)}")
    for name in ("tractor_id", "sensor", "value", "unit", "ts"):
        if name not in payload:
            raise InvalidEventError(f"reading.{name} is missing")
    tractor_id = _id_field(payload, "tractor_id")
    sensor = _id_field(payload, "sensor")
    value = payload["value"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidEventError(f"reading.value must be a number, got {preview(value)}")
    if not math.isfinite(value) or abs(value) > MAX_ABS_VALUE:
        raise InvalidEventError(f"reading.value {preview(value)} is out of range (finite, |value| <= 1e9)")
    unit = payload["unit"]
    if not isinstance(unit, str) or not unit.strip() or len(unit) > MAX_UNIT_CHARS:
        raise InvalidEventError(
            f"reading.unit must be a non-empty string of at most 32 characters, got {preview(unit)}"
        )
    ts = payload["ts"]
    if not isinstance(ts, str) or len(ts) > MAX_TS_CHARS:
        raise InvalidEventError(f"reading.ts must be an ISO 8601 timestamp string, got {preview(ts)}")
    try:
        parsed = datetime.fromisoformat(ts)
    except ValueError:
        raise InvalidEventError(f"reading.ts {preview(ts)} is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise InvalidEventError(f"reading.ts {preview(ts)} has no timezone (add Z or an offset such as +00:00)")
    return Reading(tractor_id, sensor, float(value), unit, ts, shard_id, sequence)


def decode_reading(data: bytes, shard_id: str | None = None, sequence: int | None = None) -> Reading:
    """A reading from a stream record's (already base64-decoded) bytes: UTF-8 JSON."""
    try:
        payload = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidEventError(f"record data is not UTF-8 JSON: {preview(data)}") from None
    return parse_reading(payload, shard_id, sequence)


def welford(stats: Stats, value: float) -> Stats:
    """`stats` with one more sample (numerically stable online update)."""
    count = stats.count + 1
    delta = value - stats.mean
    mean = stats.mean + delta / count
    return Stats(count, mean, stats.m2 + delta * (value - mean))


def z_score(stats: Stats, value: float) -> float:
    """|value - mean| / stddev; inf for any departure from a baseline without spread."""
    deviation = abs(value - stats.mean)
    stddev = stats.stddev
    if stddev == 0:
        return math.inf if deviation else 0.0
    return deviation / stddev


def is_anomalous(stats: Stats, value: float, rule: Rule) -> bool:
    return stats.count >= rule.min_samples and z_score(stats, value) >= rule.z


def part_for(sensor: str) -> str | None:
    """The spare part a sustained anomaly of `sensor` calls for, or None for a sensor we cannot map."""
    return PARTS.get(sensor)


def stats_key(tractor_id: str, sensor: str) -> str:
    return f"{tractor_id}#{sensor}"


def order_id(incident: Incident) -> str:
    """One order per (tractor, part, incident)."""
    if incident.part is None:
        raise ValueError(f"sensor {incident.sensor} has no spare part to order")
    return f"{incident.tractor_id}#{incident.part}#{incident.incident_id}"


def order_request(incident: Incident) -> dict[str, Any]:
    """What tractorPartsOrder's execution starts with for `incident` (its OrderRequest). A function of the
    incident only, so a replayed incident asks for the same execution with the same input."""
    return {
        "order_id": order_id(incident),
        "tractor": incident.tractor_id,
        "part": incident.part,
        "sensor": incident.sensor,
        "incident": incident.incident_id,
        "detected_at": incident.detected_ts,
        "value": incident.value,
        "unit": incident.unit,
        "z": round(incident.z, 3) if math.isfinite(incident.z) else None,  # None: the baseline had no spread
        "baseline": {"mean": round(incident.mean, 3), "stddev": round(incident.stddev, 3), "samples": incident.samples},
    }


def execution_name(incident: Incident) -> str:
    """The order's durable execution name (DurableExecutionName: 1-64 of [A-Za-z0-9_-]): the tractor and part,
    readable in listings, and a digest of the order id, so each incident names one execution."""
    readable = _NAME_UNSAFE.sub("-", f"{incident.tractor_id}-{incident.part}")[:40].strip("-")
    digest = hashlib.sha256(order_id(incident).encode()).hexdigest()[:20]
    return f"{readable}-{digest}" if readable else digest


def is_replay(positions: Mapping[str, int], reading: Reading) -> bool:
    """Whether `reading` sits at or before the last applied position of its shard."""
    if reading.shard_id is None or reading.sequence is None:
        return False
    last = positions.get(reading.shard_id)
    return last is not None and reading.sequence <= last


def apply(state: SeriesState, readings: Iterable[Reading], rule: Rule) -> tuple[SeriesState, list[Incident]]:
    """Fold `readings` (one tractor and sensor, in stream order) into `state`.

    Returns the new state and the incidents that became sustained. Readings at or before the state's
    position for their shard are skipped, so applying a batch twice changes nothing the second time.
    """
    stats, streak, incident_ts = state.stats, state.streak, state.incident
    positions = dict(state.positions)
    incidents: list[Incident] = []
    key: tuple[str, str] | None = None
    for reading in readings:
        if key is None:
            key = (reading.tractor_id, reading.sensor)
        elif key != (reading.tractor_id, reading.sensor):
            raise ValueError(f"apply got readings of {key} and of {(reading.tractor_id, reading.sensor)}")
        if is_replay(positions, reading):
            continue
        if reading.shard_id is not None and reading.sequence is not None:
            positions[reading.shard_id] = reading.sequence
        if not is_anomalous(stats, reading.value, rule):
            stats, streak, incident_ts = welford(stats, reading.value), 0, None
            continue
        streak += 1
        if streak == 1:
            incident_ts = reading.ts
        if streak == rule.sustained:
            incidents.append(
                Incident(
                    tractor_id=reading.tractor_id,
                    sensor=reading.sensor,
                    part=part_for(reading.sensor),
                    incident_id=incident_ts or reading.ts,
                    detected_ts=reading.ts,
                    value=reading.value,
                    unit=reading.unit,
                    z=z_score(stats, reading.value),
                    mean=stats.mean,
                    stddev=stats.stddev,
                    samples=stats.count,
                )
            )
    return SeriesState(stats, streak, incident_ts, positions), incidents
