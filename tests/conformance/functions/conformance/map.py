"""The map suite's handlers (requirements/map/9-N.yaml): items run one at a time (max_concurrency=1)
wherever the requirement asks for a deterministic history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aws_durable_execution_sdk_python.concurrency.models import BatchItem, BatchResult, CompletionReason
from aws_durable_execution_sdk_python.config import BatchItemStatus, CompletionConfig, Duration, MapConfig, NestingType
from aws_durable_execution_sdk_python.context import DurableContext
from aws_durable_execution_sdk_python.execution import durable_execution
from aws_durable_execution_sdk_python.serdes import JsonSerDes, SerDes, SerDesContext

LARGE_ITEM_BYTES = 70_000  # four of them: past the 256 KB a checkpoint holds (the map's result is replayed)

Item = Callable[[DurableContext, Any, int, Sequence[Any]], Any]


def one_at_a_time(completion: CompletionConfig | None = None, **more: Any) -> MapConfig[Any]:
    return MapConfig(max_concurrency=1, completion_config=completion or CompletionConfig(), **more)


def projection(result: BatchResult[Any], *keys: str) -> dict[str, Any]:
    found = {
        "completionReason": result.completion_reason.value,
        "status": result.status.value,
        "successCount": result.success_count,
        "failureCount": result.failure_count,
        "totalCount": result.total_count,
    }
    return {k: v for k, v in found.items() if not keys or k in keys}


def fails_at(*indexes: int) -> Item:
    def item(ctx: DurableContext, value: Any, index: int, items: Sequence[Any]) -> Any:
        if index in indexes:
            raise RuntimeError(f"item {index} fails")
        return "ok"

    return item


def upper(ctx: DurableContext, value: str, index: int, items: Sequence[Any]) -> str:
    return value.upper()


@durable_execution
def basic(event: Any, context: DurableContext) -> Any:  # 9-1
    def greet(ctx: DurableContext, name: str, index: int, items: Sequence[Any]) -> str:
        return ctx.step(lambda _: f"Hello, {name}!")

    return context.map(event, greet, name="map", config=one_at_a_time()).get_results()


@durable_execution
def items_only(event: Any, context: DurableContext) -> Any:  # 9-2
    return context.map(event, lambda ctx, n, i, items: n * 2, config=one_at_a_time()).get_results()


@durable_execution
def item_and_index(event: Any, context: DurableContext) -> Any:  # 9-3
    return context.map(event, lambda ctx, n, i, items: n + i, config=one_at_a_time()).get_results()


@durable_execution
def empty(event: Any, context: DurableContext) -> Any:  # 9-4
    return context.map(event, lambda ctx, n, i, items: n, config=one_at_a_time()).get_results()


@durable_execution
def fail_fast(event: Any, context: DurableContext) -> Any:  # 9-5
    config = one_at_a_time(CompletionConfig(tolerated_failure_count=0))
    return projection(context.map(["a", "b", "c"], fails_at(1), config=config))


@durable_execution
def rethrow(event: Any, context: DurableContext) -> Any:  # 9-6
    config = one_at_a_time(CompletionConfig(tolerated_failure_count=0))
    result: BatchResult[Any] = context.map(["a", "b"], fails_at(0), config=config)
    result.throw_if_error()
    return result.get_results()


@durable_execution
def min_successful(event: Any, context: DurableContext) -> Any:  # 9-7
    config = one_at_a_time(CompletionConfig(min_successful=2))
    result: BatchResult[Any] = context.map(["a", "b", "c", "d"], fails_at(), config=config)
    return projection(result, "completionReason", "successCount", "totalCount")


@durable_execution
def tolerated_failure(event: Any, context: DurableContext) -> Any:  # 9-8
    config = one_at_a_time(CompletionConfig(tolerated_failure_count=1))
    return projection(context.map(["a", "b", "c"], fails_at(1), config=config))


@durable_execution
def tolerance_exceeded(event: Any, context: DurableContext) -> Any:  # 9-9
    result: BatchResult[Any] = context.map(
        ["a", "b", "c"], fails_at(0, 1), config=one_at_a_time(CompletionConfig(tolerated_failure_count=1))
    )
    return projection(result, "completionReason", "successCount", "failureCount", "totalCount")


@durable_execution
def percentage_exceeded(event: Any, context: DurableContext) -> Any:  # 9-10
    config = one_at_a_time(CompletionConfig(tolerated_failure_percentage=25))
    result: BatchResult[Any] = context.map(["a", "b", "c", "d"], fails_at(0, 1), config=config)
    return projection(result, "completionReason", "successCount", "failureCount", "totalCount")


@durable_execution
def concurrent(event: Any, context: DurableContext) -> Any:  # 9-11
    config: MapConfig[Any] = MapConfig(max_concurrency=2)
    return context.map([0, 1, 2], lambda ctx, n, i, items: f"r{n}", config=config).get_results()


@durable_execution
def flat(event: Any, context: DurableContext) -> Any:  # 9-12
    def step(ctx: DurableContext, value: str, index: int, items: Sequence[Any]) -> str:
        return ctx.step(lambda _: value)

    config = one_at_a_time(nesting_type=NestingType.FLAT)
    return context.map(["fa", "fb"], step, config=config).get_results()


@durable_execution
def item_namer(event: Any, context: DurableContext) -> Any:  # 9-13
    config = one_at_a_time(item_namer=lambda item, index: f"item-{item}")
    return context.map(event, lambda ctx, n, i, items: n * 10, config=config).get_results()


class Prefixed(SerDes[str]):
    """Each item's result checkpointed as `wrapped:<value>`, and read back without the prefix."""

    def serialize(self, value: str, serdes_context: SerDesContext) -> str:
        return f"wrapped:{value}"

    def deserialize(self, data: str, serdes_context: SerDesContext) -> str:
        return data.removeprefix("wrapped:")


@durable_execution
def item_serdes(event: Any, context: DurableContext) -> Any:  # 9-14
    return context.map(["x", "y"], upper, config=one_at_a_time(item_serdes=Prefixed())).get_results()


@durable_execution
def wait_in_an_item(event: Any, context: DurableContext) -> Any:  # 9-15
    def item(ctx: DurableContext, value: str, index: int, items: Sequence[Any]) -> str:
        if index == 1:
            ctx.wait(Duration.from_seconds(1))
        return ctx.step(lambda _: value)

    return context.map(["r0", "r1"], item, config=one_at_a_time()).get_results()


@durable_execution
def large_result(event: Any, context: DurableContext) -> Any:  # 9-16
    large: Item = lambda ctx, n, i, items: "x" * LARGE_ITEM_BYTES  # noqa: E731
    result: BatchResult[Any] = context.map([0, 1, 2, 3], large, config=one_at_a_time())
    return projection(result, "successCount", "totalCount")


@durable_execution
def wait_after(event: Any, context: DurableContext) -> Any:  # 9-17
    result: BatchResult[Any] = context.map(["a", "b"], upper, config=one_at_a_time())
    context.wait(Duration.from_seconds(1))
    return result.get_results()


@durable_execution
def wait_after_a_failure(event: Any, context: DurableContext) -> Any:  # 9-18
    config = one_at_a_time(CompletionConfig(tolerated_failure_count=1))
    result: BatchResult[Any] = context.map(["a", "b"], fails_at(1), config=config)
    context.wait(Duration.from_seconds(1))
    return projection(result)


class OperationSerDes(SerDes[BatchResult[Any]]):
    """The whole map result as `OPSERDE:` and its results joined with commas, and back."""

    def serialize(self, value: BatchResult[Any], serdes_context: SerDesContext) -> str:
        return "OPSERDE:" + ",".join(str(result) for result in value.get_results())

    def deserialize(self, data: str, serdes_context: SerDesContext) -> BatchResult[Any]:
        results = data.removeprefix("OPSERDE:").split(",")
        items = [BatchItem(index=n, status=BatchItemStatus.SUCCEEDED, result=r) for n, r in enumerate(results)]
        return BatchResult(items, CompletionReason.ALL_COMPLETED)


def whole_result_serdes() -> MapConfig[Any]:
    """The custom serdes for the map's result; each item's result keeps the default (JSON), which the SDK
    would otherwise take from the map's serdes too."""
    return one_at_a_time(serdes=OperationSerDes(), item_serdes=JsonSerDes())


@durable_execution
def operation_serdes(event: Any, context: DurableContext) -> Any:  # 9-19
    return context.map(["x", "y"], upper, config=whole_result_serdes()).get_results()


@durable_execution
def operation_serdes_replayed(event: Any, context: DurableContext) -> Any:  # 9-20
    result: BatchResult[Any] = context.map(["x", "y"], upper, config=whole_result_serdes())
    context.wait(Duration.from_seconds(1))
    return result.get_results()
