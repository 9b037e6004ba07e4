"""template.yaml -> typed objects: functions, their triggers, API routes, destinations and the local
resources. The one reader of the template: the plane, the bootstrap, host mode, compose rendering,
push, deploy, the tests and the benches all take what they need from a `Template`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from lambda_local.providers.functions import FUNCTION_TYPE, FunctionSpec, function_spec
from lambda_local.providers.loader import TemplateError, load_yaml, shown
from lambda_local.providers.properties import unrun_warnings
from lambda_local.providers.resources import (
    LOCAL_ACCOUNT,
    LOCAL_REGION,
    LOCAL_WEBSITE_ORIGIN,
    NO_VALUE,
    LocalResource,
    Resolver,
    local_names,
)
from lambda_local.providers.routes import ApiRoute, api_route, ordered
from lambda_local.providers.triggers import (
    API_TYPES,
    KNOWN_TYPES,
    QUEUE_TYPES,
    SCHEDULE_TYPES,
    SQS_TYPES,
    STREAM_TYPES,
    Destination,
    MappingSettings,
    QueueTrigger,
    Schedule,
    SqsSettings,
    SqsTrigger,
    StreamTrigger,
    schedule_of,
)
from lambda_local.settings import PLANE_PORTS, ROOT

TEMPLATE = ROOT / "template.yaml"
# A destination's Type (SAM's names) and the resources of the template it may name.
DESTINATION_KINDS = {
    "SQS": ("AWS::SQS::Queue",),
    "SNS": ("AWS::SNS::Topic",),
    "Lambda": ("AWS::Serverless::Function", "AWS::Lambda::Function"),
}


@dataclass(frozen=True)
class Template:
    data: dict[str, Any]
    functions: tuple[FunctionSpec, ...]
    names: dict[str, str]  # logical id -> local name, for every resource
    schedules: tuple[Schedule, ...] = ()
    queue_triggers: tuple[QueueTrigger, ...] = ()
    stream_triggers: tuple[StreamTrigger, ...] = ()
    sqs_triggers: tuple[SqsTrigger, ...] = ()
    routes: tuple[ApiRoute, ...] = ()
    warnings: tuple[str, ...] = ()  # what the template declares that does not run locally
    file: str = "template.yaml"
    path: Path = field(default=TEMPLATE, repr=False)

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.data["Resources"])

    def local_resources(self, *types: str) -> list[LocalResource]:
        """The template's resources (of `types`, when given) with their local names."""
        return [
            LocalResource(logical_id, r["Type"], self.names[logical_id], dict(r.get("Properties") or {}))
            for logical_id, r in self.data["Resources"].items()
            if not types or r["Type"] in types
        ]

    def local_name(self, logical_id: str) -> str:
        if logical_id not in self.names:
            raise TemplateError(f"{self.file}: no resource {logical_id}")
        return self.names[logical_id]

    def function(self, name: str) -> FunctionSpec:
        """A function by its Lambda name, folder or logical id."""
        for fn in self.functions:
            if name in (fn.lambda_name, fn.directory, fn.logical_id):
                return fn
        known = ", ".join(f"{f.directory} ({f.lambda_name})" for f in self.functions)
        raise TemplateError(f"unknown function {name!r}; known: {known}")

    def resolver(
        self, aws_endpoint: str = LOCAL_WEBSITE_ORIGIN, region: str = LOCAL_REGION, account: str = LOCAL_ACCOUNT
    ) -> Resolver:
        return Resolver(self.data, self.names, self.file, region, account, aws_endpoint)

    def resolve(self, value: Any, at: str, aws_endpoint: str = LOCAL_WEBSITE_ORIGIN) -> Any:
        return self.resolver(aws_endpoint).resolve(value, f"{self.file}: {at}")

    def ref(self, logical_id: str, aws_endpoint: str = LOCAL_WEBSITE_ORIGIN) -> Any:
        """What `!Ref <logical_id>` is locally: a topic's ARN, a queue's URL, a table's or bucket's name..."""
        return self.resolver(aws_endpoint).ref(logical_id, f"{self.file}: !Ref {logical_id}")

    def parameter(self, name: str) -> Any:
        """A parameter's local value (Metadata.LocalParameters, else its Default)."""
        return self.resolver().ref(name, f"{self.file}: Parameters.{name}")

    def function_env(self, fn: FunctionSpec, aws_endpoint: str = LOCAL_WEBSITE_ORIGIN) -> dict[str, str]:
        """`fn`'s template variables with their local values (`!Ref Table` -> its local name, ...)."""
        resolver = self.resolver(aws_endpoint)
        env: dict[str, str] = {}
        for key, value in fn.environment.items():
            at = f"{self.file}: {fn.logical_id}.Properties.Environment.Variables.{key}"
            resolved = resolver.resolve(value, at)
            if resolved is NO_VALUE:
                continue
            if isinstance(resolved, dict | list):
                raise TemplateError(f"{at}: an environment value must be a string, got {shown(resolved)}")
            env[key] = "true" if resolved is True else "false" if resolved is False else str(resolved)
        return env


def _destination(resolver: Resolver, names: dict[str, str], warnings: list[str]) -> Any:
    def destination(value: Any, at: str) -> Destination | None:
        if not isinstance(value, dict) or "Destination" not in value:
            raise TemplateError(f"{at}: needs Type and Destination")
        kind = value.get("Type", "SQS")
        if kind not in DESTINATION_KINDS:
            local = ", ".join(DESTINATION_KINDS)
            warnings.append(f"{at}: {kind} destinations are not delivered locally ({local} are)")
            return None
        kinds = DESTINATION_KINDS[kind]
        logical_id = resolver.logical_id(value["Destination"], f"{at}.Destination", kinds)
        return Destination(kind, logical_id, names[logical_id])

    return destination


def parse(data: dict[str, Any], folder: Path = ROOT / "functions", file: str = "template.yaml") -> Template:
    names = local_names(data, file)
    resolver = Resolver(data, names, file)
    warnings: list[str] = unrun_warnings(data, file, FUNCTION_TYPE)
    destination = _destination(resolver, names, warnings)
    globals_ = (data.get("Globals") or {}).get("Function") or {}
    functions = tuple(
        function_spec(logical_id, resource, globals_, folder, file, destination)
        for logical_id, resource in data["Resources"].items()
        if resource.get("Type") == FUNCTION_TYPE
    )
    ports = [fn.port for fn in functions if fn.port is not None]
    if len(set(ports)) != len(ports):
        raise TemplateError(f"{file}: two functions share a Metadata.LocalPort ({sorted(ports)})")
    if clash := PLANE_PORTS & set(ports):
        raise TemplateError(
            f"{file}: Metadata.LocalPort {min(clash)} is the plane's own (the Invoke API's or API Gateway's)"
        )
    lambda_names = [fn.lambda_name for fn in functions]
    if len(set(lambda_names)) != len(lambda_names):
        raise TemplateError(f"{file}: two functions share a FunctionName")
    schedules, queues, streams, routes, sqs = [], [], [], [], []
    for fn in functions:
        for event in fn.events:
            at = f"{file}: {fn.logical_id}.Properties.Events.{event.name}"
            props = event.properties
            if event.type in SCHEDULE_TYPES:
                schedules.append(schedule_of(fn.lambda_name, fn.logical_id, event, at))
            elif event.type in QUEUE_TYPES:
                key, kinds = (
                    ("Topic", ("AWS::SNS::Topic",)) if event.type == "SNS" else ("Bucket", ("AWS::S3::Bucket",))
                )
                source = resolver.logical_id(props.get(key), f"{at}.Properties.{key}", kinds)
                retries = fn.async_config.maximum_retry_attempts
                queues.append(QueueTrigger(fn.lambda_name, event, source, names[source], fn.timeout_s, retries))
            elif event.type in STREAM_TYPES:
                kinds = ("AWS::DynamoDB::Table",) if event.type == "DynamoDB" else ("AWS::Kinesis::Stream",)
                stream = resolver.logical_id(props.get("Stream"), f"{at}.Properties.Stream", kinds)
                if event.type == "DynamoDB" and not data["Resources"][stream].get("Properties", {}).get(
                    "StreamSpecification"
                ):
                    raise TemplateError(f"{at}.Properties.Stream: table {stream} has no StreamSpecification")
                settings = MappingSettings.of(event, f"{at}.Properties")
                on_failure = (props.get("DestinationConfig") or {}).get("OnFailure")
                target = destination(on_failure, f"{at}.Properties.DestinationConfig.OnFailure") if on_failure else None
                streams.append(StreamTrigger(fn.lambda_name, event, stream, names[stream], settings, target))
            elif event.type in API_TYPES:
                routes.append(api_route(fn.lambda_name, event.type, props, at, data, names))
            elif event.type in SQS_TYPES:
                queue = resolver.logical_id(props.get("Queue"), f"{at}.Properties.Queue", ("AWS::SQS::Queue",))
                queue_props = data["Resources"][queue].get("Properties") or {}
                fifo = queue_props.get("FifoQueue") is True or names[queue].endswith(".fifo")
                sqs.append(
                    SqsTrigger(
                        fn.lambda_name,
                        event,
                        queue,
                        names[queue],
                        SqsSettings.of(event, f"{at}.Properties", fifo),
                        fifo,
                    )
                )
                visibility = queue_props.get("VisibilityTimeout", 30)
                if isinstance(visibility, int) and visibility < fn.timeout_s:
                    warnings.append(
                        f"{at}: queue {queue}'s VisibilityTimeout ({visibility} s) is shorter than the function's "
                        f"Timeout ({fn.timeout_s} s): Lambda refuses this mapping; locally a batch still running "
                        "when its messages reappear is delivered again"
                    )
            elif event.type not in KNOWN_TYPES:
                warnings.append(f"{at}: {event.type} events are not delivered locally")
    template = Template(
        data=data,
        functions=functions,
        names=names,
        schedules=tuple(schedules),
        queue_triggers=tuple(queues),
        stream_triggers=tuple(streams),
        sqs_triggers=tuple(sqs),
        routes=ordered(routes, file),
        warnings=tuple(warnings),
        file=file,
    )
    for fn in functions:  # every variable must have a local value: found now, not when the function starts
        template.function_env(fn)
    return template


@cache
def load(path: Path = TEMPLATE) -> Template:
    """A template (the project's by default), read once per process; its functions' code is in
    `functions/` beside it, or in the folder its `Metadata.FunctionsFolder` names (relative to it)."""
    data = load_yaml(path)
    folder = (data.get("Metadata") or {}).get("FunctionsFolder", "functions")
    template = parse(data, (path.parent / folder).resolve(), path.name)
    return Template(**{**template.__dict__, "path": path})
