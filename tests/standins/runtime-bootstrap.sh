#!/bin/sh
# The Python runtime: awslambdaric and the runtime's boto3 live in /var/runtime, seen by the
# runtime only; the function's own packages in /var/task come first (awslambdaric puts the task
# root at the front of sys.path).
export AWS_EXECUTION_ENV="${AWS_EXECUTION_ENV:-AWS_Lambda_python3.13}"
export PYTHONPATH="/var/runtime${PYTHONPATH:+:$PYTHONPATH}"
cd "${LAMBDA_TASK_ROOT}" || exit 1
exec /var/lang/bin/python3 -m awslambdaric "${_HANDLER}"
