"""Exceptions whose class names become the Lambda `errorType` callers see."""


class LambdaError(Exception):
    """Base of the errors this project raises on purpose."""


class InvalidEventError(LambdaError):
    """The invocation event is malformed; the message names the field and the value."""


class ConfigError(LambdaError):
    """A required setting (environment variable or parameter) is missing or invalid."""


class DatabaseUnavailable(LambdaError):
    """The database could not be reached or queried. Never carries credentials or connection details."""

    def __init__(self, message: str, mysql_error: str = "") -> None:
        super().__init__(message)
        self.mysql_error = mysql_error


class DownstreamFunctionError(LambdaError):
    """A Lambda function this one invoked failed or answered something unusable."""


PREVIEW_CHARS = 40


def preview(value: object, limit: int = PREVIEW_CHARS) -> str:
    """`repr(value)` cut to `limit` characters, so an error never echoes a whole (huge) input."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} chars)"
