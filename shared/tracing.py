"""Tracing with OpenTelemetry: one span per invocation, one per AWS call (and per SQL query where a
function asks for PyMySQL), exported over OTLP/HTTP, with trace ids and context in X-Ray's format so a
trace joins Lambda's own (`Tracing: Active`) and the services' in AWS (docs/tracing.md).

    tracer = get_tracer()            # or get_tracer("pymysql")

    @tracer.capture_lambda_handler
    def handler(event, context): ...

On when an OTLP traces endpoint is configured (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
`OTEL_EXPORTER_OTLP_ENDPOINT`; the local stack sets one for every function) and `OTEL_SDK_DISABLED`
is not `true`; off otherwise, and then the handler is returned as it is: nothing recorded, nothing
imported. This module imports only the standard library: the SDK and the instrumentations
(shared/otel.py) are imported at the first invocation and the exporter at its end, never at Init
(together about 90-160 ms of that first invocation here; `make bench-imports` measures both).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from shared.otel import Pipeline

__all__ = ["Tracer", "enabled", "get_tracer"]

F = TypeVar("F", bound=Callable[..., Any])
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
INSTRUMENTABLE = frozenset({"botocore", "pymysql"})
_log = logging.getLogger(__name__)


def enabled() -> bool:
    """Whether spans are recorded and exported: an OTLP traces endpoint is set and the SDK not disabled."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(os.environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


class Tracer:
    """The function's tracer (one per process, as the pipeline it starts)."""

    def __init__(self, instrument: tuple[str, ...]) -> None:
        unknown = set(instrument) - INSTRUMENTABLE
        if unknown:
            raise ValueError(f"cannot instrument {sorted(unknown)}: one of {sorted(INSTRUMENTABLE)}")
        self.instrument = ("botocore", *(name for name in instrument if name != "botocore"))
        self.enabled = enabled()

    def capture_lambda_handler(self, handler: F) -> F:
        """One SERVER span per invocation, child of the invocation's X-Ray trace header, exported
        before the handler returns (Lambda freezes the process after)."""
        if not self.enabled:
            return handler

        @functools.wraps(handler)
        def traced(event: Any, context: Any) -> Any:
            pipeline = _pipeline(self.instrument)
            if pipeline is None:
                return handler(event, context)
            return pipeline.invoke(handler, event, context)

        return traced  # type: ignore[return-value]

    def capture_method(self, method: F) -> F:
        """A span (INTERNAL, named after `method`) around each call made inside an invocation."""
        if not self.enabled:
            return method

        @functools.wraps(method)
        def traced(*args: Any, **kwargs: Any) -> Any:
            pipeline = _started
            if pipeline is None:  # Init, before the first invocation started the pipeline
                return method(*args, **kwargs)
            with pipeline.tracer.start_as_current_span(method.__qualname__):
                return method(*args, **kwargs)

        return traced  # type: ignore[return-value]


def get_tracer(*instrument: str) -> Tracer:
    """The function's tracer; AWS calls (botocore) are always traced, `instrument` adds "pymysql"."""
    return Tracer(instrument)


_started: Pipeline | None = None
_failed = False


def _pipeline(instrument: tuple[str, ...]) -> Pipeline | None:
    """The process's tracing pipeline, started at the first invocation (None if it cannot start: the
    invocation then runs untraced rather than fail)."""
    global _started, _failed
    if _started is None and not _failed:
        try:
            from shared.otel import Pipeline

            _started = Pipeline(instrument)
        except Exception:
            _failed = True
            _log.warning("tracing could not start; invocations run untraced", exc_info=True)
    elif _started is not None:
        _started.instrument(instrument)
    return _started
