"""A template's `AWS::Serverless::Function` resources as typed specs (Globals applied, SAM's defaults)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambda_local.providers.loader import TemplateError
from lambda_local.providers.triggers import Destination, EventSpec

FUNCTION_TYPE = "AWS::Serverless::Function"
# SAM's defaults where a function and Globals say nothing.
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_S = 3
DEFAULT_EPHEMERAL_MB = 512
DEFAULT_HANDLER = "app.handler"


@dataclass(frozen=True)
class AsyncInvokeConfig:
    """`EventInvokeConfig`: what Lambda does with a failed asynchronous invocation."""

    maximum_retry_attempts: int = 2
    maximum_event_age_s: int = 21600
    on_failure: Destination | None = None


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    lambda_name: str  # FunctionName
    directory: str  # functions/<directory>: the image's build arg, compose service and ECR repository
    port: int | None  # Metadata.LocalPort: a host port of its own (besides the Invoke API), if any
    handler: str
    memory_mb: int
    timeout_s: int
    ephemeral_mb: int
    environment: dict[str, Any]  # template values: strings or intrinsics (Template.function_env resolves them)
    events: tuple[EventSpec, ...]
    async_config: AsyncInvokeConfig
    metadata: dict[str, Any] = field(repr=False)
    folder: Path = field(repr=False)  # the functions' folder beside the template
    reserved_concurrency: int | None = None  # ReservedConcurrentExecutions: its cap (0 = throttled)
    provisioned_concurrency: int = 0  # ProvisionedConcurrencyConfig: environments kept warm from the start
    alias: str | None = None  # AutoPublishAlias: a qualifier the Invoke API accepts besides $LATEST

    @property
    def code(self) -> Path:
        """The function's folder (app.py, requirements.txt)."""
        return self.folder / self.directory

    @property
    def dockerfile(self) -> str:
        return str(self.metadata.get("Dockerfile", "images/lambda-python.Dockerfile"))

    @property
    def build_args(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.metadata.get("DockerBuildArgs", {}).items()}

    @property
    def image(self) -> str:
        """The local image's name: `<folder>:<DockerTag>` (compose and `make build` tag it so)."""
        return f"{self.directory}:{self.metadata.get('DockerTag', 'local')}"


def _integer(value: Any, at: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise TemplateError(f"{at}: must be a whole number, got {value!r}")
    return int(value)


def function_spec(
    logical_id: str,
    resource: dict[str, Any],
    globals_: dict[str, Any],
    folder: Path,
    template: str,
    destination: Any,
) -> FunctionSpec:
    """`destination(value, at)` turns an on-failure `Destination` into a typed one (or None)."""
    props = resource.get("Properties") or {}
    metadata = resource.get("Metadata") or {}
    at = f"{template}: {logical_id}"

    def setting(name: str, default: Any) -> Any:
        return props.get(name, globals_.get(name, default))

    if props.get("PackageType") != "Image":
        raise TemplateError(f"{at}.Properties.PackageType: must be Image (a container-image function)")
    name = props.get("FunctionName")
    if not isinstance(name, str):
        raise TemplateError(f"{at}.Properties.FunctionName: needs a literal name")
    directory = metadata.get("DockerBuildArgs", {}).get("FUNCTION")
    if not isinstance(directory, str) or not (folder / directory).is_dir():
        raise TemplateError(
            f"{at}.Metadata.DockerBuildArgs.FUNCTION: must name a folder under {folder.name}/, got {directory!r}"
        )
    port = metadata.get("LocalPort")
    if port is not None and (not isinstance(port, int) or not 1024 <= port <= 65535):
        raise TemplateError(f"{at}.Metadata.LocalPort: must be a port number 1024..65535, got {port!r}")
    environment = dict((globals_.get("Environment") or {}).get("Variables") or {})
    environment |= (props.get("Environment") or {}).get("Variables") or {}
    command = (props.get("ImageConfig") or {}).get("Command") or [DEFAULT_HANDLER]
    invoke = props.get("EventInvokeConfig") or {}
    events = []
    for event_name, event in (props.get("Events") or {}).items():
        if not isinstance(event, dict) or not isinstance(event.get("Type"), str):
            raise TemplateError(f"{at}.Properties.Events.{event_name}: needs a Type")
        events.append(EventSpec(event_name, event["Type"], dict(event.get("Properties") or {})))
    on_failure = (invoke.get("DestinationConfig") or {}).get("OnFailure")
    reserved = props.get("ReservedConcurrentExecutions")
    if reserved is not None:
        reserved = _integer(reserved, f"{at}.Properties.ReservedConcurrentExecutions")
    provisioned = (props.get("ProvisionedConcurrencyConfig") or {}).get("ProvisionedConcurrentExecutions", 0)
    provisioned = _integer(provisioned, f"{at}.Properties.ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions")
    if provisioned and not setting("AutoPublishAlias", None):
        raise TemplateError(f"{at}.Properties.ProvisionedConcurrencyConfig: SAM needs AutoPublishAlias with it")
    if provisioned and reserved is not None and provisioned > reserved:
        raise TemplateError(f"{at}.Properties.ProvisionedConcurrencyConfig: more than ReservedConcurrentExecutions")
    alias = setting("AutoPublishAlias", None)
    if alias is not None and (not isinstance(alias, str) or not re.fullmatch(r"[a-zA-Z0-9_-]{1,128}", alias)):
        raise TemplateError(f"{at}.Properties.AutoPublishAlias: must be an alias name, got {alias!r}")
    return FunctionSpec(
        alias=alias,
        logical_id=logical_id,
        lambda_name=name,
        directory=directory,
        port=port,
        handler=str(command[0]),
        memory_mb=_integer(setting("MemorySize", DEFAULT_MEMORY_MB), f"{at}.Properties.MemorySize"),
        timeout_s=_integer(setting("Timeout", DEFAULT_TIMEOUT_S), f"{at}.Properties.Timeout"),
        ephemeral_mb=_integer(
            (setting("EphemeralStorage", {}) or {}).get("Size", DEFAULT_EPHEMERAL_MB),
            f"{at}.Properties.EphemeralStorage.Size",
        ),
        environment=environment,
        events=tuple(events),
        async_config=AsyncInvokeConfig(
            maximum_retry_attempts=_integer(
                invoke.get("MaximumRetryAttempts", 2), f"{at}.Properties.EventInvokeConfig.MaximumRetryAttempts"
            ),
            maximum_event_age_s=_integer(
                invoke.get("MaximumEventAgeInSeconds", 21600),
                f"{at}.Properties.EventInvokeConfig.MaximumEventAgeInSeconds",
            ),
            on_failure=destination(on_failure, f"{at}.Properties.EventInvokeConfig.DestinationConfig.OnFailure")
            if on_failure
            else None,
        ),
        metadata=metadata,
        folder=folder,
        reserved_concurrency=reserved,
        provisioned_concurrency=provisioned,
    )
