"""`make new-function NAME=<kebab-name>`: scaffold a function, its two steps done for you.

Writes functions/<name>/ (app.py, a thin handler over a pure module, requirements.txt), a sample
event under events/<name>/, and its template entry in template.yaml (the function, its ImageUri
parameter and its log group). Nothing else needs an edit: compose.yaml's service is rendered at
`make up` (or `make compose`), host mode reads the template, the tests walk functions/.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from lambda_local.providers import ROOT

NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")

APP = '''"""{lambda_name}: {description}"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from {module} import answer
from shared.log import get_logger
from shared.metrics import get_metrics
from shared.tracing import get_tracer

logger = get_logger()
metrics = get_metrics()
tracer = get_tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer(event)
'''

LOGIC = '''"""{lambda_name}'s logic: pure and typed, tested without Lambda or AWS."""

import json
from typing import Any


def answer(event: dict[str, Any]) -> dict[str, Any]:
    """What the function returns for `event`: the top-level keys it received, in the shape an API
    Gateway route needs (a proxy response), which any other trigger takes as a plain result."""
    body = {{"received": sorted(event)}}
    return {{"statusCode": 200, "headers": {{"content-type": "application/json"}}, "body": json.dumps(body)}}
'''

PARAMETER = """  {stem}ImageUri:
    Type: String
    Default: {name}:local
"""

RESOURCES = """  {stem}Function:
    Type: AWS::Serverless::Function
    Metadata:
      Dockerfile: images/lambda-python.Dockerfile
      DockerContext: .
      DockerTag: local
      DockerBuildArgs:
        FUNCTION: {name}
        AWS_SERVICES: "" # the services its Policies allow (a test holds them equal)
    Properties:
      PackageType: Image
      FunctionName: {lambda_name}
      Description: {description}
      ImageUri: !Ref {stem}ImageUri
      MemorySize: 256
      Timeout: 10
      LoggingConfig:
        LogGroup: !Ref {stem}LogGroup
      Environment:
        Variables:
          POWERTOOLS_SERVICE_NAME: {name}

  {stem}LogGroup:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /aws/lambda/{lambda_name}
      RetentionInDays: !Ref LogRetentionInDays

"""


def insert_before_top_level_key(text: str, after_key: str, block: str) -> str:
    """`block` at the end of the top-level mapping `after_key` (before the next top-level key)."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == f"{after_key}:"), None)
    if start is None:
        raise SystemExit(f"template.yaml has no top-level {after_key}:")
    end = next(
        (i for i in range(start + 1, len(lines)) if re.match(r"[A-Za-z]", lines[i])),
        len(lines),
    )
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    glue = "" if block.startswith("\n") or after_key == "Parameters" else "\n"
    return "".join(lines[:end]) + glue + block + "".join(lines[end:])


def scaffold(name: str, description: str, root: Path = ROOT) -> list[Path]:
    if not NAME.fullmatch(name):
        raise SystemExit(f"NAME must be kebab-case letters and digits (like order-audit), got {name!r}")
    folder = root / "functions" / name
    if folder.exists():
        raise SystemExit(f"functions/{name} exists already")
    words = name.split("-")
    stem = "".join(w.capitalize() for w in words)
    lambda_name = words[0] + "".join(w.capitalize() for w in words[1:])
    module = name.replace("-", "_")
    template = root / "template.yaml"
    text = template.read_text()
    if f"  {stem}Function:" in text or f"FunctionName: {lambda_name}\n" in text:
        raise SystemExit(f"template.yaml declares {stem}Function or {lambda_name} already")
    values = {"name": name, "stem": stem, "lambda_name": lambda_name, "module": module, "description": description}
    text = insert_before_top_level_key(text, "Parameters", PARAMETER.format(**values))
    text = insert_before_top_level_key(text, "Resources", RESOURCES.format(**values).rstrip("\n") + "\n")
    folder.mkdir(parents=True)
    written = [folder / "app.py", folder / f"{module}.py", folder / "requirements.txt"]
    written[0].write_text(APP.format(**values))
    written[1].write_text(LOGIC.format(**values))
    written[2].write_text("# Only the shared library's requirements (shared/requirements.txt).\n")
    events = root / "events" / name
    events.mkdir(parents=True, exist_ok=True)
    written.append(events / "hello.json")
    written[-1].write_text(json.dumps({"hello": "world"}, indent=2) + "\n")
    template.write_text(text)
    return [*written, template]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="make new-function", description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="the function's folder, kebab-case (e.g. order-audit)")
    parser.add_argument("--description", default="A new function.", help="its template Description")
    args = parser.parse_args(argv)
    for path in scaffold(args.name, args.description):
        print(f"wrote {path.relative_to(ROOT)}")
    print(
        f"next: add its Events and Policies in template.yaml, then `make up` and\n"
        f"  make invoke FUNCTION={args.name} EVENT=events/{args.name}/hello.json"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
