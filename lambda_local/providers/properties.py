"""What the plane makes of each `AWS::Serverless::Function` property: run locally, deploy-only, or said
to be not run. A property the plane does not run is never ignored silently: it gets one warning line
naming it and the functions that set it (`make check-template`, `make up`). Also the two execution
models of 2025 that change how a function is invoked: `DurableConfig` and `TenancyConfig`.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lambda_local.providers.loader import TemplateError, known_mapping, shown, whole_number

# How the plane runs a property (the rest of providers/ reads them into FunctionSpec).
RUN = frozenset(
    {
        "Architectures",  # checked against this machine below
        "AutoPublishAlias",
        "DurableConfig",
        "Environment",
        "EphemeralStorage",
        "EventInvokeConfig",
        "Events",
        "FunctionName",
        "FunctionUrlConfig",
        "ImageConfig",  # Command; EntryPoint and WorkingDirectory are said below
        "LoggingConfig",
        "MemorySize",
        "PackageType",
        "ProvisionedConcurrencyConfig",
        "RecursiveLoop",  # Terminate is what the plane does; Allow is said below
        "ReservedConcurrentExecutions",
        "TenancyConfig",
        "Timeout",
        "Tracing",  # the plane collects every function's traces (lambda_local/traces)
    }
)
# No effect on how a function runs: names, tags, versions, code signing, deployment: nothing to say.
DEPLOY_ONLY = frozenset(
    {
        "AssumeRolePolicyDocument",
        "AutoPublishAliasAllProperties",
        "AutoPublishCodeSha256",
        "CodeSigningConfigArn",
        "CodeUri",
        "DeploymentPreference",
        "Description",
        "ImageUri",
        "KmsKeyArn",
        "PermissionsBoundary",
        "PropagateTags",
        "PublishToLatestPublished",
        "RolePath",
        "RuntimeManagementConfig",
        "SourceKMSKeyArn",
        "Tags",
        "VersionDeletionPolicy",
        "VersionDescription",
    }
)
# Properties that change what a function may do or how it runs in the account, and which the plane
# does not run: each with what happens locally instead.
NOT_RUN = {
    "CapacityProviderConfig": "Lambda Managed Instances are not emulated: the function runs in ordinary environments",
    "DeadLetterQueue": "a failed asynchronous event goes to EventInvokeConfig's on-failure destination only, "
    "never to a DeadLetterQueue",
    "FileSystemConfigs": "no EFS file system is mounted",
    "FunctionScalingConfig": "environments scale by the plane's own limits",
    "Handler": "an image function's handler is its ImageConfig.Command (Handler is for .zip functions)",
    "InlineCode": "inline code is for .zip functions",
    "Layers": "an image function takes no layers (Lambda refuses them)",
    "Policies": "IAM is not enforced: a function may call every local resource",
    "Role": "IAM is not enforced: a function may call every local resource",
    "Runtime": "an image function's runtime is its image's",
    "SnapStart": "no snapshots: every new environment runs its Init",
    "VpcConfig": "there is no VPC: the function reaches whatever this machine reaches",
}
KNOWN = RUN | DEPLOY_ONLY | frozenset(NOT_RUN)
IMAGE_SETTINGS = ("Command", "EntryPoint", "WorkingDirectory")
# Architectures' names -> what platform.machine() says on such a machine
MACHINES = {"x86_64": ("x86_64", "amd64"), "arm64": ("aarch64", "arm64")}
# DurableConfig, as CloudFormation's AWS::Lambda::Function takes it
DURABLE_TIMEOUT_MAX_S = 31_622_400  # a 366-day year
DURABLE_RETENTION_DAYS = (1, 90)
DURABLE_RETENTION_DEFAULT_DAYS = 14
TENANT_ISOLATION_MODES = ("PER_TENANT",)
# The only event sources Lambda accepts for a function in tenant isolation mode
TENANT_EVENT_TYPES = ("Api",)  # an HTTP API cannot set the X-Amz-Tenant-Id header Lambda needs


@dataclass(frozen=True)
class DurableConfig:
    """`DurableConfig`: the function runs as a durable execution (checkpointed, replayed)."""

    execution_timeout_s: int  # the whole execution's, not one invocation's
    retention_days: int = DURABLE_RETENTION_DEFAULT_DAYS  # history kept after it closes


def _whole(value: Any, at: str, lowest: int, highest: int) -> int:
    number = whole_number(value, at)
    if not lowest <= number <= highest:
        raise TemplateError(f"{at}: must be {lowest} to {highest}, got {number}")
    return number


def durable_config(value: Any, at: str) -> DurableConfig | None:
    """`DurableConfig` (ExecutionTimeout required, RetentionPeriodInDays 1..90, 14 by default)."""
    if value is None:
        return None
    value = known_mapping(value, at, ("ExecutionTimeout", "RetentionPeriodInDays"))
    if "ExecutionTimeout" not in value:
        raise TemplateError(f"{at}.ExecutionTimeout: required (seconds, 1 to {DURABLE_TIMEOUT_MAX_S})")
    return DurableConfig(
        execution_timeout_s=_whole(value["ExecutionTimeout"], f"{at}.ExecutionTimeout", 1, DURABLE_TIMEOUT_MAX_S),
        retention_days=_whole(
            value.get("RetentionPeriodInDays", DURABLE_RETENTION_DEFAULT_DAYS),
            f"{at}.RetentionPeriodInDays",
            *DURABLE_RETENTION_DAYS,
        ),
    )


def tenant_isolation(value: Any, at: str) -> bool:
    """`TenancyConfig: {TenantIsolationMode: PER_TENANT}`: environments never shared across tenants."""
    if value is None:
        return False
    if not isinstance(value, dict) or set(value) != {"TenantIsolationMode"}:
        raise TemplateError(f"{at}: must be a mapping with TenantIsolationMode: PER_TENANT, got {shown(value)}")
    if value["TenantIsolationMode"] not in TENANT_ISOLATION_MODES:
        raise TemplateError(f"{at}.TenantIsolationMode: must be PER_TENANT, got {shown(value['TenantIsolationMode'])}")
    return True


def refuse_with_tenancy(props: dict[str, Any], url_config: Any, event_types: Iterable[str], at: str) -> None:
    """What Lambda refuses beside tenant isolation: provisioned concurrency, function URLs, SnapStart and
    event sources other than API Gateway."""
    if props.get("ProvisionedConcurrencyConfig"):
        raise TemplateError(
            f"{at}.ProvisionedConcurrencyConfig: Lambda refuses it with TenancyConfig (tenant isolation)"
        )
    if url_config is not None:
        raise TemplateError(
            f"{at}.FunctionUrlConfig: Lambda refuses a function URL with TenancyConfig (tenant isolation)"
        )
    snap = props.get("SnapStart")
    if isinstance(snap, dict) and snap.get("ApplyOn") not in (None, "None"):
        raise TemplateError(f"{at}.SnapStart: Lambda refuses SnapStart with TenancyConfig (tenant isolation)")
    if bad := [kind for kind in event_types if kind not in TENANT_EVENT_TYPES]:
        raise TemplateError(
            f"{at}.Events: a {bad[0]} event source cannot invoke a function in tenant isolation mode "
            "(Lambda takes only a REST API's (Api) events: an HTTP API cannot pass the X-Amz-Tenant-Id header)"
        )


def _said(properties: dict[str, Any], machine: str) -> list[tuple[str, str]]:
    """(property, what happens locally) for one function's properties (Globals applied) that are not run."""
    said = [(name, NOT_RUN[name]) for name in properties if name in NOT_RUN]
    said += [
        (name, "not a property of AWS::Serverless::Function that SAM knows (misspelt?): nothing is done with it")
        for name in properties
        if name not in KNOWN
    ]
    image = properties.get("ImageConfig")
    if isinstance(image, dict):
        said += [
            (f"ImageConfig.{key}", "the image's own is used locally (only Command is overridden)")
            for key in IMAGE_SETTINGS[1:]
            if key in image
        ]
    if properties.get("RecursiveLoop") == "Allow":
        said.append(
            ("RecursiveLoop", "Allow is not run: the plane stops a recursive loop after 16 rounds as with Terminate")
        )
    arches = properties.get("Architectures")
    arch = arches[0] if isinstance(arches, list) and arches and isinstance(arches[0], str) else None
    if arch is not None and machine not in MACHINES.get(arch, (arch, arch)):
        said.append(
            ("Architectures", f"{arch} is not this machine's ({machine}): images are built and run for {machine}")
        )
    return said


def unrun_warnings(data: dict[str, Any], file: str, function_type: str, machine: str | None = None) -> list[str]:
    """One warning line per property (or sub-property) the plane does not run, naming the functions that set it
    (Globals.Function counted for every function)."""
    globals_ = (data.get("Globals") or {}).get("Function") or {}
    machine = machine or platform.machine()
    found: dict[str, tuple[str, list[str]]] = {}
    for logical_id, resource in (data.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != function_type:
            continue
        props = resource.get("Properties") or {}
        merged = {**globals_, **props} if isinstance(props, dict) and isinstance(globals_, dict) else {}
        for name, what in _said(merged, machine):
            found.setdefault(name, (what, []))[1].append(logical_id)
    lines = []
    for name, (what, ids) in sorted(found.items()):
        who = ", ".join(ids) if len(ids) <= 3 else f"{', '.join(ids[:3])} and {len(ids) - 3} more"
        lines.append(f"{file}: {name} ({who}) is not run locally: {what}")
    return lines
