"""tractorSensorAnomaly: Kinesis tractor telemetry -> per-(tractor, sensor) baselines in DynamoDB -> for a
sustained anomaly, one spare-part order: the start of tractorPartsOrder's durable workflow (it records the
order, tells the dealer, waits for the supplier's confirmation and escalates when none comes).

Two passes over a batch. First Powertools' batch processor decodes every record; a malformed one (not JSON,
a bad field) is logged with its reason and reported in `batchItemFailures`, the others go on. Then the valid
readings are grouped by (tractor, sensor), in record order, and each group is folded into its stats item
(telemetry_store.update_series); the incidents it finds get their orders started (before the stats write: see
telemetry_store.py). A group that fails (a DynamoDB or Lambda error, lost races) is logged and all of its records
are reported as failures too; the other groups go on.

Lambda retries a Kinesis batch from the lowest reported sequence number, so records that did succeed come
back as well: the per-shard positions in each stats item make them no-ops, and starting an order is
idempotent (one durable execution per incident, named after it; the order is recorded once). A
missing setting (ConfigError) fails the whole invocation. With the defaults Lambda retries a failing record
until it expires from the stream: the event source mapping needs MaximumRetryAttempts (and an on-failure
destination) so that a malformed record does not hold its shard up.
"""

from functools import cache, partial
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse, PartialItemFailures
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.config import env
from shared.errors import ConfigError, InvalidEventError
from shared.log import get_logger
from shared.metrics import MetricUnit, get_metrics
from shared.tracing import get_tracer
from telemetry import Incident, Reading, Rule, decode_reading
from telemetry_store import start_order, update_series

logger = get_logger()
metrics = get_metrics()
tracer = get_tracer()


@cache
def rule() -> Rule:
    try:
        return Rule(
            z=float(env("ANOMALY_Z", "4.0")),
            min_samples=int(env("ANOMALY_MIN_SAMPLES", "20")),
            sustained=int(env("ANOMALY_SUSTAINED", "3")),
        )
    except ValueError as exc:
        raise ConfigError(f"sensor-anomaly settings: {exc}") from None


def group_by_series(readings: list[tuple[str, Reading]]) -> dict[tuple[str, str], list[tuple[str, Reading]]]:
    """(sequence number, reading) pairs per (tractor, sensor), each group in record order."""
    groups: dict[tuple[str, str], list[tuple[str, Reading]]] = {}
    for sequence, reading in readings:
        groups.setdefault((reading.tractor_id, reading.sensor), []).append((sequence, reading))
    return groups


def order_parts(incidents: list[Incident], function: str) -> None:
    for incident in incidents:
        about = {"tractor_id": incident.tractor_id, "sensor": incident.sensor, "incident": incident.incident_id}
        if incident.part is None:
            logger.warning("sustained anomaly on a sensor without a known part; nothing ordered", extra=about)
            continue
        outcome = start_order(function, incident)
        logger.info("spare part order", extra=about | {"part": incident.part, "z": incident.z, "outcome": outcome})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    stats_table, orders_function = env("STATS_TABLE"), env("PARTS_ORDER_FUNCTION")
    anomaly_rule = rule()
    settle = partial(order_parts, function=orders_function)
    readings: list[tuple[str, Reading]] = []

    def parse(record: KinesisStreamRecord) -> None:
        sequence = record.kinesis.sequence_number
        try:
            shard_id = record.event_id.split(":", 1)[0]
            readings.append((sequence, decode_reading(record.kinesis.data_as_bytes(), shard_id, int(sequence))))
        except (InvalidEventError, ValueError) as exc:
            logger.warning("malformed reading", extra={"event_id": record.event_id, "reason": str(exc)})
            raise

    # raise_on_entire_batch_failure=False: a batch of only malformed records is reported, not an error.
    processor = BatchProcessor(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)
    response = process_partial_response(event=event, record_handler=parse, processor=processor, context=context)
    failures: list[PartialItemFailures] = list(response.get("batchItemFailures", []))
    incidents = 0
    for (tractor_id, sensor), group in group_by_series(readings).items():
        try:
            _, found = update_series(stats_table, [reading for _, reading in group], anomaly_rule, settle=settle)
        except Exception:
            logger.exception(
                "series update failed; its records are reported for a retry",
                extra={"tractor_id": tractor_id, "sensor": sensor, "records": len(group)},
            )
            failures += [{"itemIdentifier": sequence} for sequence, _ in group]
            continue
        incidents += len(found)
    logger.info(
        "batch done",
        extra={
            "records": len(event.get("Records", [])),
            "readings": len(readings),
            "incidents": incidents,
            "failed": len(failures),
        },
    )
    metrics.add_metric(name="ReadingsProcessed", unit=MetricUnit.Count, value=len(readings))
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=len(failures))
    metrics.add_metric(name="Incidents", unit=MetricUnit.Count, value=incidents)
    return {"batchItemFailures": failures}
