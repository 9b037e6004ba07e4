"""The parallel suite's handlers (requirements/parallel/8-N.yaml): branches run one at a time
(max_concurrency=1) wherever the requirement asks for a deterministic history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_durable_execution_sdk_python.concurrency.models import BatchResult
from aws_durable_execution_sdk_python.config import (
    CompletionConfig,
    Duration,
    NestingType,
    ParallelBranch,
    ParallelConfig,
)
from aws_durable_execution_sdk_python.context import DurableContext
from aws_durable_execution_sdk_python.execution import durable_execution
from probes import Wrapped

ONE_AT_A_TIME = ParallelConfig(max_concurrency=1)


def step_returning(value: Any) -> Callable[[DurableContext], Any]:
    return lambda ctx: ctx.step(lambda _: value)


def returning(value: Any) -> Callable[[DurableContext], Any]:
    return lambda ctx: value


def failing(ctx: DurableContext) -> Any:
    raise RuntimeError("the branch fails")


def one_at_a_time(completion: CompletionConfig | None = None, **more: Any) -> ParallelConfig:
    return ParallelConfig(max_concurrency=1, completion_config=completion or CompletionConfig(), **more)


def projection(result: BatchResult[Any]) -> dict[str, Any]:
    return {
        "completionReason": result.completion_reason.value,
        "status": result.status.value,
        "successCount": result.success_count,
        "failureCount": result.failure_count,
        "totalCount": result.total_count,
    }


@durable_execution
def basic(event: Any, context: DurableContext) -> Any:  # 8-1
    branches = [step_returning("task-1"), step_returning("task-2")]
    return context.parallel(branches, name="parallel", config=ONE_AT_A_TIME).get_results()


@durable_execution
def branches_only(event: Any, context: DurableContext) -> Any:  # 8-2
    return context.parallel([returning("alpha"), returning("beta")], config=ONE_AT_A_TIME).get_results()


@durable_execution
def named_branches(event: Any, context: DurableContext) -> Any:  # 8-3
    branches: list[ParallelBranch[Any]] = [
        ParallelBranch(returning("one"), name="first"),
        ParallelBranch(returning("two"), name="second"),
    ]
    return context.parallel(branches, name="named", config=ONE_AT_A_TIME).get_results()


@durable_execution
def mixed_types(event: Any, context: DurableContext) -> Any:  # 8-4
    branches = [returning("hello"), returning(42), returning({"k": "v"})]
    return context.parallel(branches, config=ONE_AT_A_TIME).get_results()


@durable_execution
def empty(event: Any, context: DurableContext) -> Any:  # 8-5
    return context.parallel([], config=ONE_AT_A_TIME).get_results()


@durable_execution
def fail_fast(event: Any, context: DurableContext) -> Any:  # 8-6
    branches = [returning("ok"), failing, returning("never")]
    return projection(context.parallel(branches, config=one_at_a_time(CompletionConfig(tolerated_failure_count=0))))


@durable_execution
def rethrow(event: Any, context: DurableContext) -> Any:  # 8-7
    result = context.parallel(
        [failing, returning("never")], config=one_at_a_time(CompletionConfig(tolerated_failure_count=0))
    )
    result.throw_if_error()
    return result.get_results()


@durable_execution
def min_successful(event: Any, context: DurableContext) -> Any:  # 8-8
    branches = [returning(f"b{n}") for n in range(4)]
    result = context.parallel(branches, config=one_at_a_time(CompletionConfig(min_successful=2)))
    return {k: v for k, v in projection(result).items() if k in ("completionReason", "successCount", "totalCount")}


def counts(result: BatchResult[Any]) -> dict[str, Any]:
    keys = ("completionReason", "successCount", "failureCount", "totalCount")
    return {k: v for k, v in projection(result).items() if k in keys}


@durable_execution
def tolerated_failure(event: Any, context: DurableContext) -> Any:  # 8-9
    branches = [returning("a"), failing, returning("c")]
    return projection(context.parallel(branches, config=one_at_a_time(CompletionConfig(tolerated_failure_count=1))))


@durable_execution
def tolerance_exceeded(event: Any, context: DurableContext) -> Any:  # 8-10
    branches = [failing, failing, returning("never")]
    return counts(context.parallel(branches, config=one_at_a_time(CompletionConfig(tolerated_failure_count=1))))


@durable_execution
def concurrent(event: Any, context: DurableContext) -> Any:  # 8-11
    branches = [returning(f"r{n}") for n in range(3)]
    return context.parallel(branches, config=ParallelConfig(max_concurrency=2)).get_results()


@durable_execution
def flat(event: Any, context: DurableContext) -> Any:  # 8-12
    branches = [step_returning("fa"), step_returning("fb")]
    return context.parallel(branches, config=one_at_a_time(nesting_type=NestingType.FLAT)).get_results()


@durable_execution
def percentage_exceeded(event: Any, context: DurableContext) -> Any:  # 8-13
    branches = [failing, failing, returning("c"), returning("d")]
    completion = CompletionConfig(tolerated_failure_percentage=25)
    return counts(context.parallel(branches, config=one_at_a_time(completion)))


@durable_execution
def suspends_on_a_wait(event: Any, context: DurableContext) -> Any:  # 8-14
    def waits(ctx: DurableContext) -> str:
        ctx.wait(Duration.from_seconds(2))
        return "b1"

    return context.parallel([step_returning("b0"), waits], config=ONE_AT_A_TIME).get_results()


@durable_execution
def item_serdes(event: Any, context: DurableContext) -> Any:  # 8-15
    config = one_at_a_time(item_serdes=Wrapped())
    return context.parallel([returning("x"), returning("y")], config=config).get_results()


@durable_execution
def all_fail_within_tolerance(event: Any, context: DurableContext) -> Any:  # 8-16
    completion = CompletionConfig(tolerated_failure_count=3)
    return projection(context.parallel([failing, failing, failing], config=one_at_a_time(completion)))


@durable_execution
def min_successful_not_reached(event: Any, context: DurableContext) -> Any:  # 8-17
    branches = [returning("a"), failing, returning("c")]
    return projection(context.parallel(branches, config=one_at_a_time(CompletionConfig(min_successful=3))))


@durable_execution
def tolerance_before_min_successful(event: Any, context: DurableContext) -> Any:  # 8-18
    branches = [failing, failing, returning("c"), returning("d")]
    completion = CompletionConfig(min_successful=3, tolerated_failure_count=1)
    return counts(context.parallel(branches, config=one_at_a_time(completion)))


@durable_execution
def zero_concurrency(event: Any, context: DurableContext) -> Any:  # 8-19
    return context.parallel([returning(1), returning(2)], config=ParallelConfig(max_concurrency=0)).get_results()


@durable_execution
def accessors(event: Any, context: DurableContext) -> Any:  # 8-20
    branches = [returning("a"), failing, returning("c")]
    result = context.parallel(branches, config=one_at_a_time(CompletionConfig(tolerated_failure_count=1)))
    return {
        "hasFailure": result.has_failure,
        "successCount": len(result.succeeded()),
        "failureCount": len(result.failed()),
        "errorCount": len(result.get_errors()),
    }


@durable_execution
def nested(event: Any, context: DurableContext) -> Any:  # 8-21
    def inner(ctx: DurableContext) -> Any:
        return ctx.parallel([step_returning("i1"), step_returning("i2")], config=ONE_AT_A_TIME).get_results()

    return context.parallel([inner], config=ONE_AT_A_TIME).get_results()


@durable_execution
def percentage_equal(event: Any, context: DurableContext) -> Any:  # 8-22
    branches = [failing, returning("b"), returning("c"), returning("d")]
    completion = CompletionConfig(tolerated_failure_percentage=25)
    return projection(context.parallel(branches, config=one_at_a_time(completion)))
