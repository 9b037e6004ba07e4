"""Development tokens from a running plane (POST /_local/token): signed with that stack's own key, as
`make token` gets them, so the same test works in host and Docker mode."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from stack.common import LAMBDA_PORT


def plane_token(claims: dict[str, Any], authorizer: str | None = None, port: int = LAMBDA_PORT) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/_local/token",
        data=json.dumps({"claims": claims, "authorizer": authorizer}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["token"])
