"""Simulate a tractor fleet's telemetry into the Kinesis stream of the local stack (tractorSensorAnomaly's input).

    python -m tools.simulate_tractors [--tractors N] [--minutes M] [--seed S] [--stream NAME]

Every simulated 10 s each tractor reports bearing_temp (~55 °C), hydraulic_pressure (~180 bar) and engine_temp
(~88 °C): a per-tractor offset plus Gaussian noise (sd 1.5 °C, 3 bar, 1.5 °C). Injected faults (default: T-003
a heating wheel bearing in the last 5 minutes, T-007 a hydraulic pressure drop in the last 8) start after a
5-minute healthy warm-up (30 samples, over ANOMALY_MIN_SAMPLES) and move the sensor fast, by more than 4 sd
within a few readings, then stay there: the default rule sees each as one sustained anomaly.

Records go with PutRecords in chunks of 500, partition key = tractor_id. PutRecords does not promise order
within a request and its retried failures land later; moto keeps the order, AWS under throttling may not.
"""

import argparse
import json
import random
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from stack import moto

INTERVAL_S = 10
WARMUP_S = 300  # healthy readings before any fault (30 samples)
CHUNK = 500  # PutRecords' limit
DEFAULT_START = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Sensor:
    unit: str
    baseline: float
    noise_sd: float
    tractor_spread: float  # per-tractor offset drawn from ±this


@dataclass(frozen=True)
class Fault:
    sensor: str
    per_reading: float  # change added at each reading once the fault started
    limit: float  # the largest total change
    last_s: int  # the fault covers the run's last `last_s` seconds (never the warm-up)
    description: str
    part: str  # what the function should order


SENSORS = {
    "bearing_temp": Sensor("°C", 55.0, 1.5, 2.0),
    "hydraulic_pressure": Sensor("bar", 180.0, 3.0, 4.0),
    "engine_temp": Sensor("°C", 88.0, 1.5, 2.0),
}
FAULTS = {
    "bearing_heat": Fault("bearing_temp", +2.5, +35.0, 300, "wheel bearing heating up", "wheel-bearing"),
    "hydraulic_drop": Fault("hydraulic_pressure", -6.0, -60.0, 480, "hydraulic pressure dropping", "hydraulic-pump"),
}
DEFAULT_FAULTS = {"T-003": "bearing_heat", "T-007": "hydraulic_drop"}
MIN_FAULT_MINUTES = 10  # warm-up plus room for the fault to develop


def tractor_ids(tractors: int) -> list[str]:
    return [f"T-{n:03d}" for n in range(1, tractors + 1)]


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fault_offset(fault: Fault, elapsed_s: int, total_s: int) -> float:
    """The fault's change to its sensor at `elapsed_s` into a run of `total_s` seconds."""
    start = max(WARMUP_S, total_s - fault.last_s)
    if elapsed_s < start:
        return 0.0
    change = fault.per_reading * (1 + (elapsed_s - start) // INTERVAL_S)
    return max(change, fault.limit) if fault.limit < 0 else min(change, fault.limit)


def fleet_readings(
    tractors: int,
    minutes: int,
    seed: int,
    faults: Mapping[str, str] | None = None,
    start: datetime = DEFAULT_START,
) -> list[dict[str, Any]]:
    """The fleet's readings, ordered by ts (then tractor, sensor); the same for the same arguments.

    `faults`: tractor id -> a FAULTS name (None: DEFAULT_FAULTS, {}: a healthy fleet). Each tractor has its
    own random stream, so adding tractors does not change the others' readings.
    """
    faults = DEFAULT_FAULTS if faults is None else faults
    ids = tractor_ids(tractors)
    unknown = sorted(set(faults) - set(ids)) + sorted(kind for kind in faults.values() if kind not in FAULTS)
    if unknown:
        raise ValueError(f"faults name tractors or kinds that do not exist: {', '.join(unknown)}")
    if faults and minutes < MIN_FAULT_MINUTES:
        raise ValueError(f"faults need at least {MIN_FAULT_MINUTES} minutes, got {minutes}")
    total_s = minutes * 60
    rngs = {tid: random.Random(f"{seed}:{tid}") for tid in ids}  # noqa: S311 - test data, not security
    offsets = {
        tid: {name: rngs[tid].uniform(-s.tractor_spread, s.tractor_spread) for name, s in SENSORS.items()}
        for tid in ids
    }
    readings = []
    for elapsed_s in range(0, total_s, INTERVAL_S):
        ts = iso(start + timedelta(seconds=elapsed_s))
        for tid in ids:
            fault = FAULTS[faults[tid]] if tid in faults else None
            for name, sensor in SENSORS.items():
                value = sensor.baseline + offsets[tid][name] + rngs[tid].gauss(0.0, sensor.noise_sd)
                if fault is not None and fault.sensor == name:
                    value += fault_offset(fault, elapsed_s, total_s)
                readings.append(
                    {"tractor_id": tid, "sensor": name, "value": round(value, 2), "unit": sensor.unit, "ts": ts}
                )
    return readings


def put_all(kinesis: Any, stream: str, readings: list[dict[str, Any]]) -> int:
    """Write `readings` in chunks of CHUNK, retrying throttled entries; returns the records written."""
    written = 0
    for first in range(0, len(readings), CHUNK):
        entries = [
            {"Data": json.dumps(r, ensure_ascii=False).encode(), "PartitionKey": r["tractor_id"]}
            for r in readings[first : first + CHUNK]
        ]
        for attempt in range(5):
            answer = kinesis.put_records(StreamName=stream, Records=entries)
            failed = [entry for entry, result in zip(entries, answer["Records"], strict=True) if "ErrorCode" in result]
            written += len(entries) - len(failed)
            if not failed:
                break
            entries = failed
            time.sleep(0.2 * 2**attempt)
        else:
            sys.exit(f"simulate_tractors: {len(entries)} records still refused after 5 attempts")
        print(f"    {written:>7,} / {len(readings):,} records", flush=True)
    return written


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.simulate_tractors", description=__doc__.split("\n")[0])
    parser.add_argument("--tractors", type=int, default=10, help="fleet size (T-001, T-002, ...)")
    parser.add_argument("--minutes", type=int, default=30, help="simulated minutes (a reading every 10 s)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same values)")
    parser.add_argument("--stream", default="tractor-telemetry", help="Kinesis stream on the local endpoint")
    args = parser.parse_args(argv)
    if args.tractors <= 0 or args.minutes <= 0:
        sys.exit("--tractors and --minutes must be positive")
    faults = {tid: kind for tid, kind in DEFAULT_FAULTS.items() if tid in tractor_ids(args.tractors)}
    if faults and args.minutes < MIN_FAULT_MINUTES:
        sys.exit(f"--minutes must be at least {MIN_FAULT_MINUTES} for the faults to show")
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(minutes=args.minutes, seconds=now.second % INTERVAL_S)
    readings = fleet_readings(args.tractors, args.minutes, args.seed, faults, start)
    kinesis = moto.client("kinesis")
    try:
        kinesis.describe_stream_summary(StreamName=args.stream)
    except kinesis.exceptions.ResourceNotFoundException:
        sys.exit(f"simulate_tractors: stream {args.stream} does not exist on the local endpoint (is the stack up?)")
    print(f"==> {len(readings):,} readings of {args.tractors} tractors over {args.minutes} min -> {args.stream}")
    written = put_all(kinesis, args.stream, readings)
    print(f"==> wrote {written:,} records ({iso(start)} .. {readings[-1]['ts']}, seed {args.seed})")
    for tid, kind in sorted(faults.items()):
        fault = FAULTS[kind]
        print(f"    {tid}: {fault.description} ({fault.sensor}) -> expect an order for {fault.part}")
    healthy = [tid for tid in tractor_ids(args.tractors) if tid not in faults]
    print(f"    healthy ({len(healthy)}): {', '.join(healthy) or 'none'}")


if __name__ == "__main__":
    main(sys.argv[1:])
