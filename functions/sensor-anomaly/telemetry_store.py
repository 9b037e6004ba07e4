"""DynamoDB and Lambda for sensorAnomaly: per-series statistics items, and the start of each incident's
spare-part order (tractorPartsOrder, a durable workflow: it records the order and tells the dealer).

Statistics (STATS_TABLE, key `pk` = "<tractor_id>#<sensor>"): count, mean, m2, streak, incident, `positions`
(shard id -> last applied sequence number, kept as strings: Kinesis sequence numbers have up to 56 digits,
beyond DynamoDB's 38-digit numbers) and `version`. An update reads the item, folds the readings in with
`telemetry.apply` and writes it back on condition that `version` did not move; on a conflict it starts over
from a fresh read, and after MAX_ATTEMPTS conflicts raises StatsConflict.

The incidents an update yields are handed to `settle` BEFORE the conditional write. Had the orders come after
it, a crash between the two would lose them: the retried records are then replays and yield nothing. Starting
them first is safe because it is idempotent: the incident id comes from the data, the order's execution is
named after it (DurableExecutionName) with an input that is a function of the incident, and Lambda starts
one execution per name and input; the workflow records the order on condition that its id is new.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import ClientError

from shared.clients import client
from shared.dynamo_items import from_item, number, to_item
from shared.failures import error_code
from shared.log import get_logger
from telemetry import Incident, Reading, Rule, SeriesState, Stats, apply, execution_name, order_request, stats_key

logger = get_logger(child=True)

MAX_ATTEMPTS = 5
CONDITION_FAILED = "ConditionalCheckFailedException"
QUALIFIER = "$LATEST"
ALREADY_STARTED = "DurableExecutionAlreadyStartedException"


OrderOutcome = Literal["started", "already-started"]


class StatsConflict(Exception):
    """The statistics item kept changing under this update; the records must be retried."""


@dataclass(frozen=True)
class StoredSeries:
    state: SeriesState
    version: int | None  # None: no item yet


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def load_series(table: str, tractor_id: str, sensor: str) -> StoredSeries:
    """The stored state of one series (a fresh state when there is no item yet); strongly consistent."""
    response = client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": stats_key(tractor_id, sensor)}}, ConsistentRead=True
    )
    if "Item" not in response:
        return StoredSeries(SeriesState(), None)
    item = from_item(response["Item"])
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
        client("dynamodb").put_item(TableName=table, Item=to_item(values), **condition)
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


def start_order(function: str, incident: Incident) -> OrderOutcome:
    """Start tractorPartsOrder's durable execution for `incident`: an asynchronous Invoke of `function`
    ($LATEST: Lambda invokes a durable function by a qualified ARN only) named after the incident, with
    the incident's order request as its input.

    "started": Lambda accepted it: a new execution, or (same name, same input) the one an earlier delivery
    of the same readings started, which Lambda answers the same way. "already-started": an execution of
    that name exists with another input (an incident ordered before this code changed the request).
    """
    try:
        client("lambda").invoke(
            FunctionName=function,
            Qualifier=QUALIFIER,
            InvocationType="Event",
            DurableExecutionName=execution_name(incident),
            Payload=json.dumps(order_request(incident), ensure_ascii=False).encode(),
        )
    except ClientError as exc:
        if error_code(exc) != ALREADY_STARTED:
            raise
        return "already-started"
    return "started"
