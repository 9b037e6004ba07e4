"""The template's resources under their local names, and its intrinsic functions evaluated to the
values the local stack has (`!Ref Topic` -> the local topic's ARN, `!GetAtt Queue.Arn`, `!Sub ...`).

A resource's local name is, in this order: its entry in `Metadata.LocalNames`, its literal name
property (`BucketName`, `TableName`, ...), or its logical id in kebab case (`OrdersTable` ->
`orders-table`). A name property computed by an intrinsic (`!Sub ${AWS::StackName}-uploads`) needs a
`Metadata.LocalNames` entry: the stack name and account differ locally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lambda_local.providers.loader import TemplateError, shown, where
from lambda_local.settings import AWS_ENDPOINT

LOCAL_ACCOUNT = "123456789012"  # moto's default account: the local stack's account
LOCAL_REGION = "us-east-1"
LOCAL_STACK_NAME = "local"
# The origin the local S3 endpoint serves website buckets from, as a browser on this machine sees it.
LOCAL_WEBSITE_ORIGIN = AWS_ENDPOINT

NAME_PROPERTIES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Events::Rule": "Name",
    "AWS::Cognito::UserPool": None,  # the local name is the pool id (region_xxx)
}


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()


def kebab(logical_id: str) -> str:
    """`OrdersTable` -> `orders-table`, `FIFOQueue` -> `fifo-queue`."""
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1-\2", logical_id)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", spaced).lower()


@dataclass(frozen=True)
class LocalResource:
    """One resource of the template, with the physical name it has in the local stack."""

    logical_id: str
    type: str
    name: str
    properties: dict[str, Any]


def local_names(data: dict[str, Any], template: str) -> dict[str, str]:
    """Every resource's local name (see the module's docstring)."""
    declared = data.get("Metadata", {}).get("LocalNames", {}) or {}
    if not isinstance(declared, dict):
        raise TemplateError(where(template, "Metadata", "LocalNames") + " must be a mapping of logical id to name")
    resources = data["Resources"]
    for logical_id in declared:
        if logical_id not in resources:
            raise TemplateError(where(template, "Metadata", "LocalNames", logical_id) + ": no such resource")
    names: dict[str, str] = {}
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise TemplateError(where(template, logical_id) + ": a resource needs a Type")
        if logical_id in declared:
            names[logical_id] = str(declared[logical_id])
            continue
        kind = resource["Type"]
        prop = NAME_PROPERTIES.get(kind)
        value = (resource.get("Properties") or {}).get(prop) if prop else None
        if isinstance(value, str):
            names[logical_id] = value
        elif value is not None:
            raise TemplateError(
                where(template, logical_id, "Properties", prop or "")
                + f": the name is computed by an intrinsic; give {logical_id} a local name in Metadata.LocalNames"
            )
        elif kind == "AWS::Cognito::UserPool":
            names[logical_id] = f"{LOCAL_REGION}_{logical_id}"
        else:
            names[logical_id] = kebab(logical_id)
        fifo = (resource.get("Properties") or {}).get("FifoQueue") or (resource.get("Properties") or {}).get(
            "FifoTopic"
        )
        if fifo is True and not names[logical_id].endswith(".fifo"):
            names[logical_id] += ".fifo"  # SQS and SNS require the suffix of a FIFO queue or topic
    return names


class Resolver:
    """Evaluates intrinsic functions to local values (for the region, account and AWS endpoint given)."""

    def __init__(
        self,
        data: dict[str, Any],
        names: dict[str, str],
        template: str,
        region: str = LOCAL_REGION,
        account: str = LOCAL_ACCOUNT,
        aws_endpoint: str = LOCAL_WEBSITE_ORIGIN,
    ) -> None:
        self.resources: dict[str, Any] = data["Resources"]
        self.parameters: dict[str, Any] = data.get("Parameters", {}) or {}
        self.local_parameters: dict[str, Any] = data.get("Metadata", {}).get("LocalParameters", {}) or {}
        self.names = names
        self.template = template
        self.region = region
        self.account = account
        self.aws_endpoint = aws_endpoint.rstrip("/")

    def pseudo(self, name: str, at: str) -> Any:
        values = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::StackName": LOCAL_STACK_NAME,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{LOCAL_STACK_NAME}/local",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        if name not in values:
            raise TemplateError(f"{at}: unknown pseudo parameter {name}")
        return values[name]

    def parameter(self, name: str, at: str) -> Any:
        if name in self.local_parameters:
            value = self.local_parameters[name]
        elif "Default" in self.parameters[name]:
            value = self.parameters[name]["Default"]
        else:
            raise TemplateError(
                f"{at}: parameter {name} has no Default; give it a local value in Metadata.LocalParameters"
            )
        if self.parameters[name].get("Type") == "CommaDelimitedList" and isinstance(value, str):
            return [v for v in value.split(",") if v]
        return value

    def arn(self, logical_id: str, at: str) -> str:
        kind, name = self.resources[logical_id]["Type"], self.names[logical_id]
        r, a = self.region, self.account
        arns = {
            "AWS::SQS::Queue": f"arn:aws:sqs:{r}:{a}:{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{r}:{a}:{name}",
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{r}:{a}:table/{name}",
            "AWS::Kinesis::Stream": f"arn:aws:kinesis:{r}:{a}:stream/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::Serverless::Function": f"arn:aws:lambda:{r}:{a}:function:{name}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{r}:{a}:function:{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{r}:{a}:log-group:{name}:*",
            "AWS::Events::Rule": f"arn:aws:events:{r}:{a}:rule/{name}",
            "AWS::Cognito::UserPool": f"arn:aws:cognito-idp:{r}:{a}:userpool/{name}",
        }
        if kind not in arns:
            raise TemplateError(f"{at}: the ARN of a {kind} is not known locally")
        return arns[kind]

    def ref(self, name: str, at: str) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo(name, at)
        if name in self.parameters:
            return self.parameter(name, at)
        if name not in self.resources:
            raise TemplateError(f"{at}: !Ref {name}: no such parameter or resource")
        kind = self.resources[name]["Type"]
        if kind == "AWS::SNS::Topic":
            return self.arn(name, at)
        if kind == "AWS::SQS::Queue":
            return f"{self.aws_endpoint}/{self.account}/{self.names[name]}"
        return self.names[name]

    def get_att(self, logical_id: str, attribute: str, at: str) -> Any:
        if logical_id not in self.resources:
            raise TemplateError(f"{at}: !GetAtt {logical_id}.{attribute}: no such resource")
        kind, name = self.resources[logical_id]["Type"], self.names[logical_id]
        if attribute == "Arn" or (kind == "AWS::SNS::Topic" and attribute == "TopicArn"):
            return self.arn(logical_id, at)
        simple = {
            ("AWS::SQS::Queue", "QueueName"): name,
            ("AWS::SQS::Queue", "QueueUrl"): f"{self.aws_endpoint}/{self.account}/{name}",
            ("AWS::SNS::Topic", "TopicName"): name,
            ("AWS::S3::Bucket", "DomainName"): f"{name}.s3.amazonaws.com",
            ("AWS::S3::Bucket", "WebsiteURL"): LOCAL_WEBSITE_ORIGIN,
            ("AWS::Cognito::UserPool", "ProviderName"): f"cognito-idp.{self.region}.amazonaws.com/{name}",
        }
        if (kind, attribute) not in simple:
            raise TemplateError(
                f"{at}: !GetAtt {logical_id}.{attribute} has no local value"
                + (" (a stream's ARN is known only once the table exists)" if attribute == "StreamArn" else "")
            )
        return simple[(kind, attribute)]

    def resolve(self, value: Any, at: str) -> Any:
        """`value` with every intrinsic evaluated; TemplateError naming `at` for what has no local value."""
        if isinstance(value, list):
            return [self.resolve(v, at) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v, f"{at}.{k}") for k, v in value.items()}
        ((key, arg),) = value.items()
        if key == "Ref":
            if not isinstance(arg, str):
                raise TemplateError(f"{at}: !Ref needs the name of a parameter or resource, got {shown(arg)}")
            return self.ref(arg, at)
        if key == "Fn::GetAtt":
            parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
            if len(parts) != 2:
                raise TemplateError(f"{at}: !GetAtt needs Resource.Attribute, got {shown(arg)}")
            return self.get_att(str(parts[0]), str(parts[1]), at)
        if key == "Fn::Sub":
            return self._sub(arg, at)
        if key == "Fn::Join":
            delimiter, items = arg
            return str(delimiter).join(str(self.resolve(i, at)) for i in self.resolve(items, at))
        if key == "Fn::Select":
            index, items = arg
            return self.resolve(items, at)[int(self.resolve(index, at))]
        if key.startswith("Fn::") or key == "Condition":
            raise TemplateError(f"{at}: {key} is not evaluated locally; use a literal, !Ref, !GetAtt or !Sub")
        return {key: self.resolve(arg, f"{at}.{key}")}

    def _sub(self, arg: Any, at: str) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name], at))
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return str(self.get_att(logical_id, attribute, at))
            return str(self.ref(name, at))

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))

    def logical_id(self, value: Any, at: str, kinds: tuple[str, ...] = ()) -> str:
        """The resource `!Ref X` / `!GetAtt X.Attr` names, of one of `kinds` when given."""
        found: str | None = None
        if isinstance(value, dict) and isinstance(value.get("Ref"), str):
            found = value["Ref"]
        elif isinstance(value, dict) and isinstance(value.get("Fn::GetAtt"), list):
            found = str(value["Fn::GetAtt"][0])
        if found is None or found not in self.resources:
            raise TemplateError(f"{at}: must be !Ref or !GetAtt of a resource of the template, got {shown(value)}")
        if kinds and self.resources[found]["Type"] not in kinds:
            raise TemplateError(f"{at}: {found} is a {self.resources[found]['Type']}, not a {' or '.join(kinds)}")
        return found
