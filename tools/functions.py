"""The project's functions: one Lambda image each. compose.yaml mirrors this table (a test checks it)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Function:
    directory: str  # functions/<directory>, also the compose service, image and ECR repository name
    lambda_name: str
    port: int  # host port of its RIE endpoint, in compose and in host mode
    handler: str = "app.handler"


FUNCTIONS: tuple[Function, ...] = (
    Function("sales-data-extractor", "salesAnalysisReportDataExtractor", 9001),
    Function("sales-report", "salesAnalysisReport", 9002),
    Function("image-resize", "imageResize", 9003),
    Function("image-labels", "imageLabels", 9004),
)

DOCKERFILE = "images/lambda-python.Dockerfile"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"


def by_name(name: str) -> Function:
    """Find a function by directory or Lambda name."""
    for fn in FUNCTIONS:
        if name in (fn.directory, fn.lambda_name):
            return fn
    known = ", ".join(f"{f.directory} ({f.lambda_name})" for f in FUNCTIONS)
    raise SystemExit(f"unknown function {name!r}; known: {known}")
