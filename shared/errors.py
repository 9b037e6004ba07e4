"""Exceptions whose class names become the Lambda `errorType` callers see."""


class LambdaError(Exception):
    """Base of the errors this project raises on purpose."""


class InvalidEventError(LambdaError):
    """The invocation event is malformed; the message names the field and the value."""


class ConfigError(LambdaError):
    """A required setting (environment variable or parameter) is missing or invalid."""


class DatabaseUnavailable(LambdaError):
    """The database could not be reached or queried. Never carries credentials."""


class DownstreamFunctionError(LambdaError):
    """A Lambda function this one invoked failed or answered something unusable."""
