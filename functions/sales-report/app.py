"""salesAnalysisReport: runs daily on a schedule, asks the extractor for the day's sales, emails the report via SNS."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from sales_report import SUBJECT, format_report, rows_from_extractor
from shared.clients import client, invoke_function
from shared.config import env, report_timezone
from shared.dates import resolve_report_date, today
from shared.log import get_logger
from shared.metrics import MetricUnit, get_metrics
from shared.tracing import get_tracer

logger = get_logger()
metrics = get_metrics()
tracer = get_tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    tz = report_timezone()
    day = resolve_report_date(event, tz)
    extractor = env("EXTRACTOR_FUNCTION_NAME", "salesAnalysisReportDataExtractor")
    rows = rows_from_extractor(extractor, invoke_function(extractor, {"date": day.isoformat()}))
    report = format_report(rows, day, today(tz))
    message_id = client("sns").publish(TopicArn=env("TOPIC_ARN"), Subject=SUBJECT, Message=report.text)["MessageId"]
    logger.info("published report", extra={"date": day.isoformat(), "groups": report.groups, "message_id": message_id})
    metrics.add_metric(name="ReportsPublished", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="ReportItems", unit=MetricUnit.Count, value=report.items)
    return {"date": day.isoformat(), "groups": report.groups, "items": report.items, "messageId": message_id}
