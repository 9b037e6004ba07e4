"""template.yaml -> typed function specs: the one reader of the template that the local stack, the
tools and the tests use.

CloudFormation's short tags (`!Ref X`, `!GetAtt A.B`, `!Sub ...`) load as their long forms
(`{"Ref": "X"}`, `{"Fn::GetAtt": ["A", "B"]}`, `{"Fn::Sub": ...}`), the shape CloudFormation,
the SAM translator and cfn-lint work on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
FUNCTION_TYPE = "AWS::Serverless::Function"
# SAM's defaults where a function and Globals say nothing.
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_S = 3
DEFAULT_EPHEMERAL_MB = 512
DEFAULT_HANDLER = "app.handler"


class TemplateError(Exception):
    """template.yaml is missing something the local stack needs; the message names it."""


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
    data = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path.name} has no Resources")
    return data


@dataclass(frozen=True)
class EventSpec:
    """One entry of a function's `Events`: its name, SAM type (Schedule, SNS, S3, ...) and properties."""

    name: str
    type: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class AsyncInvokeConfig:
    """`EventInvokeConfig`: what Lambda does with a failed asynchronous invocation."""

    maximum_retry_attempts: int = 2
    maximum_event_age_s: int = 21600
    on_failure: dict[str, Any] | None = None  # {"Type": "SQS", "Destination": <intrinsic>}


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    lambda_name: str  # FunctionName
    directory: str  # functions/<directory>: the image's build arg, compose service and ECR repository
    port: int  # Metadata.LocalPort: host port of its local endpoint
    handler: str
    memory_mb: int
    timeout_s: int
    ephemeral_mb: int
    environment: dict[str, Any]  # template values: strings or intrinsics
    events: tuple[EventSpec, ...]
    async_config: AsyncInvokeConfig
    metadata: dict[str, Any] = field(repr=False)
    folder: Path = field(default=ROOT / "functions", repr=False)  # functions/<directory> beside the template

    @property
    def code(self) -> Path:
        """The function's folder (app.py, requirements.txt)."""
        return self.folder / self.directory

    @property
    def dockerfile(self) -> str:
        return str(self.metadata["Dockerfile"])

    @property
    def build_args(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.metadata.get("DockerBuildArgs", {}).items()}


def _function(
    logical_id: str, resource: dict[str, Any], globals_: dict[str, Any], folder: Path = ROOT / "functions"
) -> FunctionSpec:
    props = resource.get("Properties", {})
    metadata = resource.get("Metadata", {})

    def setting(name: str, default: Any) -> Any:
        return props.get(name, globals_.get(name, default))

    where = f"template.yaml: {logical_id}"
    if props.get("PackageType") != "Image":
        raise TemplateError(f"{where} must be PackageType: Image")
    name = props.get("FunctionName")
    if not isinstance(name, str):
        raise TemplateError(f"{where} needs a literal FunctionName")
    directory = metadata.get("DockerBuildArgs", {}).get("FUNCTION")
    if not isinstance(directory, str) or not (folder / directory).is_dir():
        raise TemplateError(f"{where}: Metadata.DockerBuildArgs.FUNCTION must name a folder under functions/")
    port = metadata.get("LocalPort")
    if not isinstance(port, int):
        raise TemplateError(f"{where}: Metadata.LocalPort (the local endpoint's port) is missing")
    environment = dict(globals_.get("Environment", {}).get("Variables", {}))
    environment |= props.get("Environment", {}).get("Variables", {})
    command = props.get("ImageConfig", {}).get("Command") or [DEFAULT_HANDLER]
    invoke = props.get("EventInvokeConfig", {})
    return FunctionSpec(
        logical_id=logical_id,
        lambda_name=name,
        directory=directory,
        port=port,
        handler=command[0],
        memory_mb=int(setting("MemorySize", DEFAULT_MEMORY_MB)),
        timeout_s=int(setting("Timeout", DEFAULT_TIMEOUT_S)),
        ephemeral_mb=int(setting("EphemeralStorage", {}).get("Size", DEFAULT_EPHEMERAL_MB)),
        environment=environment,
        events=tuple(
            EventSpec(event_name, event["Type"], dict(event.get("Properties", {})))
            for event_name, event in props.get("Events", {}).items()
        ),
        async_config=AsyncInvokeConfig(
            maximum_retry_attempts=int(invoke.get("MaximumRetryAttempts", 2)),
            maximum_event_age_s=int(invoke.get("MaximumEventAgeInSeconds", 21600)),
            on_failure=invoke.get("DestinationConfig", {}).get("OnFailure"),
        ),
        metadata=metadata,
        folder=folder,
    )


@dataclass(frozen=True)
class Template:
    data: dict[str, Any]
    functions: tuple[FunctionSpec, ...]

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.data["Resources"])

    def function(self, name: str) -> FunctionSpec:
        """A function by its Lambda name, folder or logical id."""
        for fn in self.functions:
            if name in (fn.lambda_name, fn.directory, fn.logical_id):
                return fn
        known = ", ".join(f"{f.directory} ({f.lambda_name})" for f in self.functions)
        raise TemplateError(f"unknown function {name!r}; known: {known}")


def parse(data: dict[str, Any], folder: Path = ROOT / "functions") -> Template:
    globals_ = data.get("Globals", {}).get("Function", {})
    functions = tuple(
        _function(logical_id, resource, globals_, folder)
        for logical_id, resource in data["Resources"].items()
        if resource.get("Type") == FUNCTION_TYPE
    )
    ports = [fn.port for fn in functions]
    if len(set(ports)) != len(ports):
        raise TemplateError(f"template.yaml: two functions share a LocalPort ({sorted(ports)})")
    return Template(data, functions)


@cache
def load(path: Path = TEMPLATE) -> Template:
    """A template (the project's by default), read once per process; its functions' code is in
    `functions/` beside it, or in the folder its `Metadata.FunctionsFolder` names (relative to it)."""
    data = load_yaml(path)
    folder = data.get("Metadata", {}).get("FunctionsFolder", "functions")
    return parse(data, (path.parent / folder).resolve())
