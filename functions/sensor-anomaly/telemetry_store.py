"""DynamoDB and SNS for sensorAnomaly: per-series statistics items, spare-part orders, dealer notices.

Statistics (STATS_TABLE, key `pk` = "<tractor_id>#<sensor>"): count, mean, m2, streak, incident, `positions`
(shard id -> last applied sequence number, kept as strings: Kinesis sequence numbers have up to 56 digits,
beyond DynamoDB's 38-digit numbers) and `version`. An update reads the item, folds the readings in with
`telemetry.apply` and writes it back on condition that `version` did not move; on a conflict it starts over
from a fresh read, and after MAX_ATTEMPTS conflicts raises StatsConflict.

The incidents an update yields are handed to `settle` BEFORE the conditional write. Had the orders come after
it, a crash between the two would lose them: the retried records are then replays and yield nothing. Placing
them first is safe because it is idempotent: the incident id comes from the data, the order put is conditional
on the order id, and the dealer is told only while the order is not marked `notified` (at least once: two
invocations racing on the same incident can both publish).
"""

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from shared.clients import client
from shared.failures import error_code
from shared.log import get_logger
from telemetry import Incident, Reading, Rule, SeriesState, Stats, apply, order_id, stats_key

logger = get_logger(child=True)

MAX_ATTEMPTS = 5
CONDITION_FAILED = "ConditionalCheckFailedException"
SUBJECT_LIMIT = 100  # SNS subjects: ASCII, under 100 characters

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

OrderOutcome = Literal["ordered", "notified", "already-notified"]


class StatsConflict(Exception):
    """The statistics item kept changing under this update; the records must be retried."""


@dataclass(frozen=True)
class StoredSeries:
    state: SeriesState
    version: int | None  # None: no item yet


def number(value: float) -> Decimal:
    """A float as the Decimal DynamoDB stores: its shortest round-tripping repr, not the binary expansion."""
    return Decimal(repr(value))


def _to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


def _from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def load_series(table: str, tractor_id: str, sensor: str) -> StoredSeries:
    """The stored state of one series (a fresh state when there is no item yet); strongly consistent."""
    response = client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": stats_key(tractor_id, sensor)}}, ConsistentRead=True
    )
    if "Item" not in response:
        return StoredSeries(SeriesState(), None)
    item = _from_item(response["Item"])
    state = SeriesState(
        stats=Stats(int(item["count"]), float(item["mean"]), float(item["m2"])),
        streak=int(item.get("streak", 0)),
        incident=item.get("incident"),
        positions={shard: int(sequence) for shard, sequence in item.get("positions", {}).items()},
    )
    return StoredSeries(state, int(item["version"]))


def save_series(table: str, tractor_id: str, sensor: str, state: SeriesState, expected_version: int | None) -> bool:
    """Write `state` if the item is still at `expected_version` (absent for None); False on a conflict."""
    values: dict[str, Any] = {
        "pk": stats_key(tractor_id, sensor),
        "tractor_id": tractor_id,
        "sensor": sensor,
        "count": state.stats.count,
        "mean": number(state.stats.mean),
        "m2": number(state.stats.m2),
        "streak": state.streak,
        "positions": {shard: str(sequence) for shard, sequence in state.positions.items()},
        "version": (expected_version or 0) + 1,
        "updated_at": now_iso(),
    }
    if state.incident is not None:
        values["incident"] = state.incident
    if expected_version is None:
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
    else:
        condition = {
            "ConditionExpression": "#version = :expected",
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
        }
    try:
        client("dynamodb").put_item(TableName=table, Item=_to_item(values), **condition)
    except ClientError as exc:
        if error_code(exc) == CONDITION_FAILED:
            return False
        raise
    return True


def update_series(
    table: str, readings: list[Reading], rule: Rule, settle: Callable[[list[Incident]], None]
) -> tuple[SeriesState, list[Incident]]:
    """Apply one series' readings (stream order) to its stored state; `settle` gets the incidents before the
    write (see the module docstring). Returns the written state and the incidents. Raises StatsConflict after
    MAX_ATTEMPTS lost races, and whatever DynamoDB or `settle` raises."""
    tractor_id, sensor = readings[0].tractor_id, readings[0].sensor
    for attempt in range(1, MAX_ATTEMPTS + 1):
        stored = load_series(table, tractor_id, sensor)
        state, incidents = apply(stored.state, readings, rule)
        if state == stored.state:  # every reading was a replay
            return state, []
        if incidents:
            settle(incidents)
        if save_series(table, tractor_id, sensor, state, stored.version):
            return state, incidents
        logger.info(
            "stats item changed concurrently; re-reading",
            extra={"pk": stats_key(tractor_id, sensor), "attempt": attempt},
        )
    raise StatsConflict(f"{stats_key(tractor_id, sensor)}: the stats item changed under {MAX_ATTEMPTS} attempts")


def order_message(incident: Incident) -> dict[str, Any]:
    """The dealer notice (SNS message body, JSON)."""
    return {
        "order_id": order_id(incident),
        "tractor": incident.tractor_id,
        "part": incident.part,
        "sensor": incident.sensor,
        "incident": incident.incident_id,
        "detected_at": incident.detected_ts,
        "z": round(incident.z, 2) if math.isfinite(incident.z) else None,  # None: the baseline had no spread
        "value": incident.value,
        "unit": incident.unit,
        "baseline": {"mean": round(incident.mean, 3), "stddev": round(incident.stddev, 3), "samples": incident.samples},
    }


def order_subject(incident: Incident) -> str:
    return f"Spare part order: {incident.part} for tractor {incident.tractor_id}"[:SUBJECT_LIMIT]


def place_order(table: str, topic_arn: str, incident: Incident) -> OrderOutcome:
    """Record the order for `incident` once, and tell the dealer unless an earlier attempt already did.

    "ordered": new order, dealer told; "notified": the order existed without its notice, now sent;
    "already-notified": nothing to do (a replay).
    """
    oid = order_id(incident)
    message = order_message(incident)
    values: dict[str, Any] = {
        "order_id": oid,
        "tractor_id": incident.tractor_id,
        "part": incident.part,
        "sensor": incident.sensor,
        "incident": incident.incident_id,
        "detected_at": incident.detected_ts,
        "value": number(incident.value),
        "unit": incident.unit,
        "notified": False,
        "created_at": now_iso(),
    }
    if math.isfinite(incident.z):
        values["z"] = number(round(incident.z, 3))
    dynamodb = client("dynamodb")
    try:
        dynamodb.put_item(TableName=table, Item=_to_item(values), ConditionExpression="attribute_not_exists(order_id)")
        outcome: OrderOutcome = "ordered"
    except ClientError as exc:
        if error_code(exc) != CONDITION_FAILED:
            raise
        existing = dynamodb.get_item(TableName=table, Key={"order_id": {"S": oid}}, ConsistentRead=True).get("Item", {})
        if existing.get("notified", {}).get("BOOL"):
            return "already-notified"
        outcome = "notified"
    published = client("sns").publish(
        TopicArn=topic_arn, Subject=order_subject(incident), Message=json.dumps(message, ensure_ascii=False)
    )
    dynamodb.update_item(
        TableName=table,
        Key={"order_id": {"S": oid}},
        UpdateExpression="SET notified = :true, notified_at = :now, message_id = :message_id",
        ExpressionAttributeValues=_to_item({":true": True, ":now": now_iso(), ":message_id": published["MessageId"]}),
    )
    return outcome
