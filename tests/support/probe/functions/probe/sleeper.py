"""A stdlib-only handler (nothing to import at Init): the concurrency tests and bench measure the
plane's environments, not a function's imports."""

import os
import time
from typing import Any


def sleep(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Sleeps `seconds` (default 0.5) and says which process served it (one per execution environment)."""
    time.sleep(float(event.get("seconds", 0.5)))
    return {"pid": os.getpid(), "request_id": context.aws_request_id, "tag": event.get("tag")}
