"""A function whose runtime exits while it starts (a crash in Init): supervision's back-off probe."""

import os

os._exit(3)


def handler(event: object, context: object) -> None:  # never reached
    return None
