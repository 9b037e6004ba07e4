"""What several suites' handlers share: the custom serdes the requirements describe, and the names of the
target functions a chained invoke calls (the template's, given to each function in its environment)."""

from __future__ import annotations

import json
import os
from typing import Any

from aws_durable_execution_sdk_python.serdes import SerDes, SerDesContext


class UppercaseSerDes(SerDes[Any]):
    """Serializes a value as JSON with every string in it upper-cased (a custom serdes that shows)."""

    def serialize(self, value: Any, serdes_context: SerDesContext) -> str:
        return json.dumps(upper(value))

    def deserialize(self, data: str, serdes_context: SerDesContext) -> Any:
        return json.loads(data)


class RawUppercaseSerDes(SerDes[str]):
    """Serializes a string as itself upper-cased (not as JSON): what a custom serdes checkpoints is its own."""

    def serialize(self, value: str, serdes_context: SerDesContext) -> str:
        return value.upper()

    def deserialize(self, data: str, serdes_context: SerDesContext) -> str:
        return data


def upper(value: Any) -> Any:
    if isinstance(value, str):
        return value.upper()
    if isinstance(value, list):
        return [upper(item) for item in value]
    if isinstance(value, dict):
        return {key: upper(item) for key, item in value.items()}
    return value


def target(variable: str = "TARGET_FUNCTION") -> str:
    """The function a chained invoke calls, qualified as Lambda wants a durable target named."""
    return os.environ[variable]


def crash() -> None:
    """The runtime dies mid-operation, as a process.exit would (Lambda: Runtime.ExitError)."""
    os._exit(1)


class Wrapped(SerDes[Any]):
    """Checkpoints a value as the envelope {"wrapped": value} and reads the value back out of it."""

    def serialize(self, value: Any, serdes_context: SerDesContext) -> str:
        return json.dumps({"wrapped": value})

    def deserialize(self, data: str, serdes_context: SerDesContext) -> Any:
        return json.loads(data)["wrapped"]
