"""CloudWatch metrics as embedded metric format (EMF) lines in the function's log (Powertools Metrics):
no API call, CloudWatch extracts them from the log group. `POWERTOOLS_METRICS_NAMESPACE` (the template's
Globals) and `POWERTOOLS_SERVICE_NAME` (a dimension) configure them."""

import warnings

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

# An invocation that fails before counting anything publishes nothing: Lambda's own Errors metric
# counts it, so Powertools' "No application metrics to publish" warning would only be noise in the log.
warnings.filterwarnings("ignore", message="No application metrics to publish")

__all__ = ["Metrics", "MetricUnit", "get_metrics"]


def get_metrics() -> Metrics:
    """The function's metrics; decorate the handler with `@metrics.log_metrics` to flush them per invocation."""
    return Metrics()
