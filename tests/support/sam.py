"""template.yaml translated to plain CloudFormation by aws-sam-translator, the library behind the
`AWS::Serverless-2016-10-31` transform."""

from functools import cache
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from lambda_local.providers import load_yaml

REGION = "us-east-1"


@cache
def translated(region: str = REGION) -> dict[str, Any]:
    """The CloudFormation template the SAM transform makes of template.yaml (no AWS call: the
    template names no managed policy by name, so no policy map is needed)."""
    session = boto3.session.Session(region_name=region)
    translator = Translator(managed_policy_map={}, sam_parser=Parser(), boto_session=session)
    return translator.translate(load_yaml(), parameter_values={})


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}
