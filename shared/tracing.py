"""X-Ray tracing (Powertools Tracer). With `Tracing: Active` (template Globals) Lambda starts each
invocation's trace; the Tracer adds the handler's subsegment (`## handler`, with its exception if it
raises) and one subsegment per AWS call, and per SQL query where a function uses PyMySQL.

Only the libraries a function uses are patched: patching everything the X-Ray SDK knows imports each
of those libraries, about 130 ms more per cold start. `POWERTOOLS_TRACE_DISABLED=true` locally
(local.env: no X-Ray daemon there). Handler responses are not recorded
(`POWERTOOLS_TRACER_CAPTURE_RESPONSE=false`): they can be large, and a trace is no place for data.
"""

import os
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

__all__ = ["Tracer", "get_tracer"]


def get_tracer(*patch_modules: str) -> Tracer:
    """The function's tracer; botocore is always patched, `patch_modules` adds others (e.g. "pymysql").

    With tracing disabled the tracer gets a provider that records nothing: Powertools' default
    provider imports the X-Ray SDK (about 45 ms of every cold start) even when it is off."""
    if resolve_truthy_env_var_choice(env=os.environ.get("POWERTOOLS_TRACE_DISABLED", "false")):
        return Tracer(disabled=True, provider=_Untraced())
    return Tracer(patch_modules=("botocore", *patch_modules))


class _UntracedSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class _Untraced(BaseProvider):
    """A tracing provider that records nothing, for tracing switched off."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield _UntracedSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncIterator[BaseSegment]:
        yield _UntracedSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass
