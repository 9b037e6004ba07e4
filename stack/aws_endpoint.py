"""The local AWS endpoint: moto's server behind the same doors as the plane.

    python stack/aws_endpoint.py [-H 127.0.0.1] [-p 5000]

moto takes unsigned requests and, by default, answers CORS for every origin, so any web page could
drive it from the user's browser: store a page in a bucket and have moto serve it from a loopback
origin, or read the database password from the local Parameter Store. Here moto's global CORS is off
(`MOTO_DISABLE_GLOBAL_CORS`: a bucket's own CORS rules still apply) and a WSGI guard answers 403 to
- a `Host` that is not a loopback name (or a name in LAMBDA_LOCAL_ALLOWED_HOSTS, e.g. Docker mode's
  `aws`): DNS rebinding (boto3 addresses S3 path-style on such an endpoint);
- a browser request from another origin (`Origin` not this endpoint's own, nor in
  LAMBDA_LOCAL_ALLOWED_ORIGINS; or `Sec-Fetch-Site: cross-site`/`same-site` without one), but for a
  plain navigation (a link the user follows: GET, `Sec-Fetch-Mode: navigate`).
SDKs and curl send no browser headers and are served as before.

Standalone on purpose: Docker mode runs this file in moto's own image (compose.yaml mounts it), where
only moto and the standard library are installed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def _names(variable: str) -> frozenset[str]:
    return frozenset(n.strip().lower() for n in os.environ.get(variable, "").split(",") if n.strip())


def hostname(host: str) -> str:
    """`host` of a Host header without its port: `[::1]:5000` -> `::1`, `aws:5000` -> `aws`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def refusal(environ: Environ, names: frozenset[str], origins: frozenset[str]) -> str | None:
    """Why the request of `environ` is refused, or None."""
    raw_host = str(environ.get("HTTP_HOST", ""))
    if hostname(raw_host) not in LOOPBACK | names:
        return (
            f"Host {raw_host!r} is not served here (loopback names only; add it to LAMBDA_LOCAL_ALLOWED_HOSTS "
            "to open it)"
        )
    origin = environ.get("HTTP_ORIGIN")
    own = f"{environ.get('wsgi.url_scheme', 'http')}://{raw_host.lower()}"
    if origin is not None and origin.lower() not in (origins | {own}):
        return f"request from Origin {origin!r} refused: another site may not use the local AWS endpoint"
    site, mode = environ.get("HTTP_SEC_FETCH_SITE"), environ.get("HTTP_SEC_FETCH_MODE")
    navigation = mode == "navigate" and environ.get("REQUEST_METHOD") in ("GET", "HEAD")
    if origin is None and site in ("cross-site", "same-site") and not navigation:
        return "cross-site request refused (Sec-Fetch-Site)"
    return None


def guarded(app: WSGIApp, names: Iterable[str] = (), origins: Iterable[str] = ()) -> WSGIApp:
    """`app` behind the guard: a refused request gets 403 with the reason and never reaches it."""
    hosts = frozenset(n.lower() for n in names) | _names("LAMBDA_LOCAL_ALLOWED_HOSTS")
    allowed = frozenset(o.lower() for o in origins) | _names("LAMBDA_LOCAL_ALLOWED_ORIGINS")

    def guard(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        why = refusal(environ, hosts, allowed)
        if why is None:
            return app(environ, start_response)
        body = json.dumps({"message": why}).encode()
        start_response("403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return guard


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("-H", "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("-p", "--port", type=int, default=5000, help="port (default 5000)")
    args = parser.parse_args(argv)
    # Read by moto when its server modules are imported: set before.
    os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"
    os.environ.setdefault("MOTO_PORT", str(args.port))
    from moto.moto_server.threaded_moto_server import MotoRequestHandler  # type: ignore[attr-defined]
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, guarded(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    # Run as a file, its folder leads sys.path: in host mode that is stack/, whose moto.py would shadow moto.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    main()
