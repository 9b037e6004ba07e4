"""DynamoDB items in attribute-value form and back, with boto3's own type (de)serializers, and floats as
the Decimals DynamoDB stores. For a function whose requirements include boto3 (its Lambda runtime copy is
not relied on: shared/requirements.txt says why)."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def number(value: float) -> Decimal:
    """A float as the Decimal DynamoDB stores: its shortest round-tripping repr, not the binary expansion."""
    return Decimal(repr(value))


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values (str, Decimal, bool, lists, maps, ...) -> an item in attribute-value form."""
    return {name: _serializer.serialize(value) for name, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item in attribute-value form -> plain values (numbers as Decimal)."""
    return {name: _deserializer.deserialize(value) for name, value in item.items()}
