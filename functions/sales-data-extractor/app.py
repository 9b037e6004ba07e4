"""salesAnalysisReportDataExtractor: sold quantities per product for one day, from the café database."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from sales_query import DAILY_SALES_SQL, query_args, to_rows
from shared import db
from shared.config import report_timezone
from shared.dates import resolve_report_date
from shared.log import get_logger
from shared.metrics import MetricUnit, get_metrics
from shared.tracing import get_tracer

logger = get_logger()
metrics = get_metrics()
tracer = get_tracer("pymysql")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    tz = report_timezone()
    day = resolve_report_date(event, tz)
    rows = to_rows(db.query_with_settings(DAILY_SALES_SQL, query_args(day, tz)))
    logger.info("extracted daily sales", extra={"date": day.isoformat(), "timezone": str(tz), "rows": len(rows)})
    metrics.add_metric(name="ReportRows", unit=MetricUnit.Count, value=len(rows))
    return {"statusCode": 200, "body": rows}
