"""template.yaml as plain data: CloudFormation's short tags (`!Ref X`, `!GetAtt A.B`, `!Sub ...`) load
as their long forms (`{"Ref": "X"}`, `{"Fn::GetAtt": ["A", "B"]}`, `{"Fn::Sub": ...}`), the shape
CloudFormation, the SAM translator and cfn-lint work on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class TemplateError(Exception):
    """The template is missing or misstates something the local stack needs. The message starts with
    the file and the place (`template.yaml: Resource.Properties.Name: ...`)."""


def where(template: str, *path: object) -> str:
    """`template.yaml: A.B.C`: the place a TemplateError names."""
    return f"{template}: " + ".".join(str(p) for p in path if p != "")


def shown(value: Any) -> str:
    """A template value as the template writes it, for an error message: `!Ref X`, `!GetAtt A.B`, YAML."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        short = key.removeprefix("Fn::")
        if key == "Ref" or key.startswith("Fn::"):
            if key == "Fn::GetAtt" and isinstance(arg, list) and all(isinstance(a, str) for a in arg):
                return f"!GetAtt {'.'.join(arg)}"
            return f"!{short} {shown(arg)}"
    if isinstance(value, str):
        return value if value.strip() and value == value.strip() else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {shown(v)}" for k, v in value.items()) + "}"
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


class _CfnLoader(yaml.SafeLoader):
    pass


def _intrinsic(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    key = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {key: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_yaml(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as plain data, intrinsic functions in their long form."""
    try:
        data = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    except FileNotFoundError:
        raise TemplateError(f"{path}: no such template") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path.name}: no Resources")
    return data


def whole_number(value: Any, at: str) -> int:
    """A template value that must be a whole number (an int, or a string of ASCII digits: '²'.isdigit()
    is true and int('²') raises)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | str)
        or not (str(value).isascii() and str(value).isdigit())
    ):
        raise TemplateError(f"{at}: must be a whole number, got {value!r}")
    return int(value)


def known_mapping(value: Any, at: str, known: tuple[str, ...], what: str = "") -> dict[str, Any]:
    """A template value that must be a mapping of the `known` properties only (`what` says what it must be
    in the error; by default "a mapping of" them)."""
    if not isinstance(value, dict):
        raise TemplateError(f"{at}: must be {what or 'a mapping of ' + ', '.join(known)}, got {shown(value)}")
    if unknown := sorted(set(value) - set(known)):
        raise TemplateError(f"{at}: unknown property {unknown[0]} (known: {', '.join(known)})")
    return value
