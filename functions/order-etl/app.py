"""orderEtl: DynamoDB stream of `orders` -> the café warehouse (cafe_dw), one load per batch.

Each record is transformed on its own; one that cannot be (a malformed order) is reported in
`batchItemFailures` and the others are loaded. The load of the whole batch is one transaction of
three upserts: if it fails (database away, throttled), the invocation fails and Lambda retries the
batch; upserts keyed by (order_id, line_number) and guarded by the stream sequence number make
every retry and replay idempotent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import db
from shared.config import env
from shared.log import get_logger
from shared.metrics import MetricUnit, get_metrics
from shared.tracing import get_tracer
from warehouse import Load, UntransformableRecord, change_rows
from warehouse_load import statements

if TYPE_CHECKING:
    # Types only: importing the batch utility at run time brings asyncio with it, about 25 ms of a cold start.
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse, PartialItemFailures

logger = get_logger()
metrics = get_metrics()
tracer = get_tracer("pymysql")
WAREHOUSE_PREFIX = "WAREHOUSE_PARAMETER_PREFIX"  # Parameter Store path of the warehouse's dbUrl, dbName, ...


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context: LambdaContext) -> PartialItemFailureResponse:
    load = Load()
    failures: list[PartialItemFailures] = []
    records = list(event.records)
    for record in records:
        change = record.dynamodb
        sequence = change.sequence_number if change else None
        try:
            if change is None or sequence is None or record.event_name is None:
                raise UntransformableRecord("the record has no dynamodb change")
            rows = change_rows(record.event_name.name, change.new_image, change.old_image, int(sequence))
        except UntransformableRecord as exc:
            logger.warning("record not loaded", extra={"sequence_number": sequence, "reason": str(exc)})
            failures.append({"itemIdentifier": sequence or ""})
            continue
        load.add(rows)
    row_by_row = env("LOAD_MODE", "batch") == "row"
    db.with_settings(lambda settings: db.write(settings, statements(load), row_by_row), WAREHOUSE_PREFIX)
    logger.info(
        "batch loaded",
        extra={"records": len(records), "fact_rows": len(load.facts), "failed": len(failures)},
    )
    metrics.add_metric(name="RecordsLoaded", unit=MetricUnit.Count, value=len(records) - len(failures))
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=len(failures))
    metrics.add_metric(name="FactRowsLoaded", unit=MetricUnit.Count, value=len(load.facts))
    return {"batchItemFailures": failures}
