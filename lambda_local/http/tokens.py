"""The local API Gateway's development tokens: JWTs signed with this stack's own key, and their checks."""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from pathlib import Path
from typing import Any

import jwt

from lambda_local.providers import Authorizer, Template, TemplateError
from lambda_local.settings import STATE

KEY_FILE = "jwt-dev-key"  # in the plane's state folder: one signing key per local stack, never in git


def dev_secret() -> str:
    """The key development tokens are signed with: LAMBDA_LOCAL_JWT_SECRET when set, else the stack's own,
    made at random on first use in its state folder (mode 600) and gone with `make down`. Tokens come from
    the running plane (`make token`, POST /_local/token), so Docker mode's key stays in its volume."""
    if given := os.environ.get("LAMBDA_LOCAL_JWT_SECRET"):
        return given
    path = Path(os.environ.get("LAMBDA_LOCAL_STATE") or STATE) / KEY_FILE
    with contextlib.suppress(FileNotFoundError):
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{KEY_FILE}.{os.getpid()}")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(32))
    with contextlib.suppress(FileExistsError):
        os.link(staged, path)  # the first writer wins; a concurrent one reads the winner's key
    staged.unlink()
    return path.read_text().strip()


def dev_token(claims: dict[str, Any], authorizer: Authorizer | None = None, lifetime_s: int = 3600) -> str:
    """A development token the local API accepts for `authorizer` (issuer and audience filled in)."""
    body = {"iat": int(time.time()), "exp": int(time.time()) + lifetime_s, "token_use": "id"} | claims
    if authorizer is not None and authorizer.issuer:
        body.setdefault("iss", authorizer.issuer)
    if authorizer is not None and authorizer.audience:
        body.setdefault("aud", authorizer.audience[0])
    return jwt.encode(body, dev_secret(), algorithm="HS256")


def template_token(template: Template, claims: dict[str, Any], authorizer: str | None = None) -> str:
    """A development token for the template's authorizers: the one named, or every one (they must then
    share an issuer; the token carries all their audiences)."""
    found = {r.authorizer.name: r.authorizer for r in template.routes if r.authorizer is not None}
    if not found:
        raise TemplateError("template.yaml declares no Cognito or JWT authorizer on an API event")
    if authorizer is not None:
        if authorizer not in found:
            raise TemplateError(f"no authorizer {authorizer!r}; the template has {', '.join(sorted(found))}")
        chosen = [found[authorizer]]
    else:
        chosen = list(found.values())
    issuers = {a.issuer for a in chosen}
    if len(issuers) > 1:
        raise TemplateError(f"the authorizers have different issuers: name one of {', '.join(sorted(found))}")
    audience = sorted({aud for a in chosen for aud in a.audience})
    body = dict(claims)
    if audience:
        body.setdefault("aud", audience if len(audience) > 1 else audience[0])
    return dev_token(body, Authorizer("any", issuers.pop(), ()))


def verify(header: str | None, authorizer: Authorizer) -> dict[str, Any]:
    """The claims of a valid `Bearer` token for `authorizer`; jwt.InvalidTokenError otherwise."""
    if not header:
        raise jwt.InvalidTokenError("no Authorization header")
    token = header.removeprefix("Bearer ").strip()
    options = {"require": ["exp"], "verify_aud": bool(authorizer.audience)}
    return dict(
        jwt.decode(
            token,
            dev_secret(),
            algorithms=["HS256"],
            audience=list(authorizer.audience) or None,
            issuer=authorizer.issuer,
            options=options,  # type: ignore[arg-type]
        )
    )
