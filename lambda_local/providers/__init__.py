"""The provider layer: the only code that reads template.yaml (see template.py)."""

from lambda_local.providers.functions import AsyncInvokeConfig, FunctionSpec, FunctionUrl, UrlCors
from lambda_local.providers.loader import TemplateError, load_yaml
from lambda_local.providers.resources import LOCAL_ACCOUNT, LOCAL_REGION, LocalResource, kebab
from lambda_local.providers.routes import ApiRoute, Authorizer
from lambda_local.providers.template import TEMPLATE, Template, load, parse
from lambda_local.providers.triggers import (
    Destination,
    EventSpec,
    MappingSettings,
    QueueTrigger,
    Schedule,
    ScheduleError,
    SqsSettings,
    SqsTrigger,
    StreamTrigger,
)
from lambda_local.settings import ROOT

__all__ = [
    "LOCAL_ACCOUNT",
    "LOCAL_REGION",
    "ROOT",
    "TEMPLATE",
    "ApiRoute",
    "AsyncInvokeConfig",
    "Authorizer",
    "Destination",
    "EventSpec",
    "FunctionSpec",
    "FunctionUrl",
    "LocalResource",
    "MappingSettings",
    "QueueTrigger",
    "Schedule",
    "ScheduleError",
    "SqsSettings",
    "SqsTrigger",
    "StreamTrigger",
    "Template",
    "TemplateError",
    "UrlCors",
    "kebab",
    "load",
    "load_yaml",
    "parse",
]
