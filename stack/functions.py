"""The project's functions, as template.yaml declares them (one Lambda image each).

compose.yaml and host mode are checked against this table (tests/unit/lambda_local/environments/test_compose.py).
"""

from lambda_local.environments.instance import RIE_INVOKE_PATH as INVOKE_PATH
from lambda_local.providers import FunctionSpec, TemplateError, load

Function = FunctionSpec
__all__ = ["INVOKE_PATH", "Function", "by_name", "functions"]


def functions() -> tuple[Function, ...]:
    """The template's functions, read when first asked for (not at import: a broken template is then
    one line where it is used, and importing the stack's modules costs nothing)."""
    return load().functions


def by_name(name: str) -> Function:
    """Find a function by folder, Lambda name or logical id; exits with the known names otherwise."""
    try:
        return load().function(name)
    except TemplateError as exc:
        raise SystemExit(str(exc)) from None
