"""A template's `AWS::Serverless::Function` resources as typed specs (Globals applied, SAM's defaults)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambda_local.providers.loader import TemplateError, known_mapping, shown, whole_number
from lambda_local.providers.properties import DurableConfig, durable_config, refuse_with_tenancy, tenant_isolation
from lambda_local.providers.triggers import Destination, EventSpec

FUNCTION_TYPE = "AWS::Serverless::Function"
# SAM's defaults where a function and Globals say nothing.
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_S = 3
DEFAULT_EPHEMERAL_MB = 512
DEFAULT_HANDLER = "app.handler"
# FunctionUrlConfig's values, as CloudFormation's AWS::Lambda::Url accepts them.
URL_AUTH_TYPES = ("NONE", "AWS_IAM")
URL_INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")
URL_CORS_METHODS = ("GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*")
URL_CORS_MAX_AGE_S = 86400


@dataclass(frozen=True)
class AsyncInvokeConfig:
    """`EventInvokeConfig`: what Lambda does with a failed asynchronous invocation, and with a successful one."""

    maximum_retry_attempts: int = 2
    maximum_event_age_s: int = 21600
    on_failure: Destination | None = None
    on_success: Destination | None = None


LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


@dataclass(frozen=True)
class LoggingSpec:
    """`LoggingConfig`: Text, or JSON lines filtered by level (the function's and the platform's)."""

    format: str = "Text"
    application_level: str | None = None  # JSON only; Lambda's default INFO
    system_level: str | None = None  # JSON only; Lambda's default INFO

    @property
    def json(self) -> bool:
        return self.format == "JSON"


def logging_spec(config: Any, at: str) -> LoggingSpec:
    if config is None:
        return LoggingSpec()
    if not isinstance(config, dict):
        raise TemplateError(f"{at}: must be a mapping (LogFormat, ApplicationLogLevel, SystemLogLevel)")
    log_format = config.get("LogFormat", "Text")
    if log_format not in ("Text", "JSON"):
        raise TemplateError(f"{at}.LogFormat: must be Text or JSON, got {log_format!r}")
    levels = {}
    for key in ("ApplicationLogLevel", "SystemLogLevel"):
        level = config.get(key)
        if level is not None and level not in LOG_LEVELS:
            raise TemplateError(f"{at}.{key}: must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
        if level is not None and log_format != "JSON":
            raise TemplateError(f"{at}.{key}: log levels need LogFormat: JSON (Lambda refuses them with Text)")
        levels[key] = level
    if log_format == "JSON":
        return LoggingSpec("JSON", levels["ApplicationLogLevel"] or "INFO", levels["SystemLogLevel"] or "INFO")
    return LoggingSpec()


@dataclass(frozen=True)
class UrlCors:
    """`FunctionUrlConfig.Cors`: what the function URL answers a browser's preflight with, and the CORS
    headers it adds to the function's responses."""

    allow_origins: tuple[str, ...] = ()  # `*` or origins (`https://app.example`), matched case-insensitively
    allow_methods: tuple[str, ...] = ()  # upper case; `*`
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    allow_credentials: bool = False
    max_age_s: int | None = None  # Access-Control-Max-Age; None: not sent


@dataclass(frozen=True)
class FunctionUrl:
    """`FunctionUrlConfig`: the function's URL (lambda_local/http/function_urls.py serves it)."""

    auth_type: str  # "NONE" | "AWS_IAM" (SigV4-signed requests only)
    cors: UrlCors | None = None
    invoke_mode: str = "BUFFERED"  # RESPONSE_STREAM is served buffered locally, with a warning


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
    url: FunctionUrl | None = None  # FunctionUrlConfig: served on the function URLs' port
    logging: LoggingSpec = LoggingSpec()  # LoggingConfig
    durable: DurableConfig | None = None  # DurableConfig: invoked as a durable execution
    tenant_isolation: bool = False  # TenancyConfig PER_TENANT: environments never shared across tenants

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


def _mapping(value: Any, at: str) -> dict[str, Any]:
    """A template value that must be a mapping (absent or null: an empty one)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TemplateError(f"{at}: must be a mapping, got {shown(value)}")
    return value


def _strings(value: Any, at: str, most: int, longest: int) -> tuple[str, ...]:
    """A literal list of at most `most` strings, each 1 to `longest` characters."""
    if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v.strip()) <= longest for v in value):
        raise TemplateError(f"{at}: must be a list of literal strings of 1 to {longest} characters, got {shown(value)}")
    if len(value) > most:
        raise TemplateError(f"{at}: at most {most} values, got {len(value)}")
    return tuple(v.strip() for v in value)


def url_cors(value: Any, at: str) -> UrlCors:
    """`FunctionUrlConfig.Cors` (AWS::Lambda::Url's Cors): literal values only."""
    known = ("AllowCredentials", "AllowHeaders", "AllowMethods", "AllowOrigins", "ExposeHeaders", "MaxAge")
    value = known_mapping(value, at, known)
    methods = _strings(value.get("AllowMethods", []), f"{at}.AllowMethods", 6, 6)
    if bad := [m for m in methods if m.upper() not in URL_CORS_METHODS]:
        raise TemplateError(f"{at}.AllowMethods: {bad[0]!r} is not one of {', '.join(URL_CORS_METHODS)}")
    credentials = value.get("AllowCredentials", False)
    if not isinstance(credentials, bool):
        raise TemplateError(f"{at}.AllowCredentials: must be true or false, got {shown(credentials)}")
    max_age = value.get("MaxAge")
    if max_age is not None:
        max_age = whole_number(max_age, f"{at}.MaxAge")
        if max_age > URL_CORS_MAX_AGE_S:
            raise TemplateError(f"{at}.MaxAge: at most {URL_CORS_MAX_AGE_S} seconds, got {max_age}")
    return UrlCors(
        allow_origins=_strings(value.get("AllowOrigins", []), f"{at}.AllowOrigins", 100, 253),
        allow_methods=tuple(dict.fromkeys(m.upper() for m in methods)),
        allow_headers=_strings(value.get("AllowHeaders", []), f"{at}.AllowHeaders", 100, 1024),
        expose_headers=_strings(value.get("ExposeHeaders", []), f"{at}.ExposeHeaders", 100, 1024),
        allow_credentials=credentials,
        max_age_s=max_age,
    )


def function_url(value: Any, at: str) -> FunctionUrl:
    """`FunctionUrlConfig`: `AuthType` (NONE | AWS_IAM), optional `Cors` and `InvokeMode`."""
    value = known_mapping(value, at, ("AuthType", "Cors", "InvokeMode"), "a mapping with AuthType (NONE or AWS_IAM)")
    if "AuthType" not in value:
        raise TemplateError(f"{at}.AuthType: required (NONE or AWS_IAM)")
    auth = value["AuthType"]
    if auth not in URL_AUTH_TYPES:
        raise TemplateError(f"{at}.AuthType: must be NONE or AWS_IAM, got {shown(auth)}")
    mode = value.get("InvokeMode", "BUFFERED")
    if mode not in URL_INVOKE_MODES:
        raise TemplateError(f"{at}.InvokeMode: must be BUFFERED or RESPONSE_STREAM, got {shown(mode)}")
    cors = value.get("Cors")
    return FunctionUrl(auth, url_cors(cors, f"{at}.Cors") if cors is not None else None, mode)


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
    shared = _mapping(globals_.get("Environment"), f"{template}: Globals.Function.Environment")
    own = _mapping(props.get("Environment"), f"{at}.Properties.Environment")
    environment = dict(_mapping(shared.get("Variables"), f"{template}: Globals.Function.Environment.Variables"))
    environment |= _mapping(own.get("Variables"), f"{at}.Properties.Environment.Variables")
    command = _mapping(props.get("ImageConfig"), f"{at}.Properties.ImageConfig").get("Command") or [DEFAULT_HANDLER]
    invoke = _mapping(props.get("EventInvokeConfig"), f"{at}.Properties.EventInvokeConfig")
    events = []
    for event_name, event in _mapping(props.get("Events"), f"{at}.Properties.Events").items():
        if not isinstance(event, dict) or not isinstance(event.get("Type"), str):
            raise TemplateError(f"{at}.Properties.Events.{event_name}: needs a Type")
        properties = _mapping(event.get("Properties"), f"{at}.Properties.Events.{event_name}.Properties")
        events.append(EventSpec(event_name, event["Type"], dict(properties)))
    destinations = _mapping(invoke.get("DestinationConfig"), f"{at}.Properties.EventInvokeConfig.DestinationConfig")
    on_failure = destinations.get("OnFailure")
    on_success = destinations.get("OnSuccess")
    reserved = props.get("ReservedConcurrentExecutions")
    if reserved is not None:
        reserved = whole_number(reserved, f"{at}.Properties.ReservedConcurrentExecutions")
    provisioned = _mapping(
        props.get("ProvisionedConcurrencyConfig"), f"{at}.Properties.ProvisionedConcurrencyConfig"
    ).get("ProvisionedConcurrentExecutions", 0)
    provisioned = whole_number(
        provisioned, f"{at}.Properties.ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions"
    )
    if provisioned and not setting("AutoPublishAlias", None):
        raise TemplateError(f"{at}.Properties.ProvisionedConcurrencyConfig: SAM needs AutoPublishAlias with it")
    if provisioned and reserved is not None and provisioned > reserved:
        raise TemplateError(f"{at}.Properties.ProvisionedConcurrencyConfig: more than ReservedConcurrentExecutions")
    alias = setting("AutoPublishAlias", None)
    url_config = globals_.get("FunctionUrlConfig")  # SAM merges Globals' keys with the function's own
    if isinstance(url_config, dict) and isinstance(props.get("FunctionUrlConfig"), dict):
        url_config = url_config | props["FunctionUrlConfig"]
    elif "FunctionUrlConfig" in props:
        url_config = props["FunctionUrlConfig"]
    isolated = tenant_isolation(setting("TenancyConfig", None), f"{at}.Properties.TenancyConfig")
    if isolated:
        refuse_with_tenancy(props, url_config, [event.type for event in events], f"{at}.Properties")
    if alias is not None and (not isinstance(alias, str) or not re.fullmatch(r"[a-zA-Z0-9_-]{1,128}", alias)):
        raise TemplateError(f"{at}.Properties.AutoPublishAlias: must be an alias name, got {alias!r}")
    return FunctionSpec(
        alias=alias,
        logging=logging_spec(setting("LoggingConfig", None), f"{at}.Properties.LoggingConfig"),
        logical_id=logical_id,
        lambda_name=name,
        directory=directory,
        port=port,
        handler=str(command[0]),
        memory_mb=whole_number(setting("MemorySize", DEFAULT_MEMORY_MB), f"{at}.Properties.MemorySize"),
        timeout_s=whole_number(setting("Timeout", DEFAULT_TIMEOUT_S), f"{at}.Properties.Timeout"),
        ephemeral_mb=whole_number(
            (setting("EphemeralStorage", {}) or {}).get("Size", DEFAULT_EPHEMERAL_MB),
            f"{at}.Properties.EphemeralStorage.Size",
        ),
        environment=environment,
        events=tuple(events),
        async_config=AsyncInvokeConfig(
            maximum_retry_attempts=whole_number(
                invoke.get("MaximumRetryAttempts", 2), f"{at}.Properties.EventInvokeConfig.MaximumRetryAttempts"
            ),
            maximum_event_age_s=whole_number(
                invoke.get("MaximumEventAgeInSeconds", 21600),
                f"{at}.Properties.EventInvokeConfig.MaximumEventAgeInSeconds",
            ),
            on_failure=destination(on_failure, f"{at}.Properties.EventInvokeConfig.DestinationConfig.OnFailure")
            if on_failure
            else None,
            on_success=destination(on_success, f"{at}.Properties.EventInvokeConfig.DestinationConfig.OnSuccess")
            if on_success
            else None,
        ),
        metadata=metadata,
        folder=folder,
        reserved_concurrency=reserved,
        provisioned_concurrency=provisioned,
        url=function_url(url_config, f"{at}.Properties.FunctionUrlConfig") if url_config is not None else None,
        durable=durable_config(setting("DurableConfig", None), f"{at}.Properties.DurableConfig"),
        tenant_isolation=isolated,
    )
