"""A handler that tries what Lambda's sandbox forbids; mounted into a function's container by
test_sandbox.py and run there as that function (same image, user, limits and environment)."""

import os
import time
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    action = event["action"]
    if action == "whoami":
        return {
            "uid": os.getuid(),
            "gid": os.getgid(),
            "env": {k: v for k, v in os.environ.items() if "SECRET" not in k},
        }
    if action == "write":  # raises where the file system is read-only or full: the Lambda error
        try:
            with open(event["path"], "wb") as f:
                chunk = b"\0" * (1 << 20)
                for _ in range(int(event.get("mb", 1))):
                    f.write(chunk)
            return {"written": os.path.getsize(event["path"])}
        finally:  # /tmp outlives the invocation, as in Lambda: leave it empty
            if os.path.exists(event["path"]):
                os.remove(event["path"])
    if action == "sleep":
        time.sleep(float(event["seconds"]))
        return {"slept": event["seconds"]}
    if action == "allocate":  # touches every page, so the memory is really used
        block = bytearray(int(event["mb"]) << 20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        return {"allocated_mb": len(block) >> 20}
    raise ValueError(f"unknown action {action!r}")
