"""X-Ray tracing (Powertools Tracer). With `Tracing: Active` (template Globals) Lambda starts each
invocation's trace; the Tracer adds the handler's subsegment (`## handler`, with its exception if it
raises) and one subsegment per AWS call, and per SQL query where a function uses PyMySQL.

Only the libraries a function uses are patched: patching everything the X-Ray SDK knows imports each
of those libraries, about 130 ms more per cold start. `POWERTOOLS_TRACE_DISABLED=true` locally
(local.env: no X-Ray daemon there). Handler responses are not recorded
(`POWERTOOLS_TRACER_CAPTURE_RESPONSE=false`): they can be large, and a trace is no place for data.
"""

from aws_lambda_powertools import Tracer

__all__ = ["Tracer", "get_tracer"]


def get_tracer(*patch_modules: str) -> Tracer:
    """The function's tracer; botocore is always patched, `patch_modules` adds others (e.g. "pymysql")."""
    return Tracer(patch_modules=("botocore", *patch_modules))
