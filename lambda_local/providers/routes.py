"""The template's `Api` (REST, payload 1.0) and `HttpApi` (HTTP API, payload 2.0 by default) events
as routes, with their API's authorizers and (REST) binary media types: what the local API Gateway serves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambda_local.providers.loader import TemplateError


@dataclass(frozen=True)
class Authorizer:
    name: str
    issuer: str | None
    audience: tuple[str, ...]


@dataclass(frozen=True)
class ApiRoute:
    kind: str  # "rest" | "http"
    api_id: str  # logical id of the API (ServerlessRestApi / ServerlessHttpApi when implicit)
    path: str  # as in the template: /items/{id}, /files/{proxy+}; "$default" for HttpApi's catch-all
    method: str  # upper case; ANY
    function: str  # Lambda name
    payload_version: str  # "1.0" | "2.0"
    authorizer: Authorizer | None
    # REST: the API's BinaryMediaTypes, `/` decoded (image/png, image/*, */*); HTTP APIs have none
    binary_media_types: tuple[str, ...] = ()

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    @property
    def starlette_path(self) -> str:
        if self.path == "$default":
            return "/{proxy:path}"
        return self.path.replace("+}", ":path}")

    @property
    def precedence(self) -> tuple[int, int, int]:
        """API Gateway's order: literal paths, then path parameters, then greedy ones, longest first."""
        segments = self.path.strip("/").split("/")
        greedy = sum(s.endswith("+}") for s in segments) + (self.path == "$default") * 10
        params = sum(s.startswith("{") for s in segments)
        return (greedy, params, -len(segments))


def _pool_id(value: Any, names: dict[str, str], at: str) -> str:
    """The user pool id of a `UserPoolArn`: a literal ARN, or `!GetAtt Pool.Arn` of the template's pool
    (its local name is the local pool id, e.g. us-east-1_localusers)."""
    if isinstance(value, str):
        return value.rsplit("/", 1)[-1]
    if isinstance(value, dict) and isinstance(value.get("Fn::GetAtt"), list) and value["Fn::GetAtt"][0] in names:
        return names[value["Fn::GetAtt"][0]]
    raise TemplateError(f"{at}.UserPoolArn: must be an ARN or !GetAtt <Pool>.Arn of a pool of the template")


def _binary_media_types(api: dict[str, Any], globals_api: dict[str, Any], at: str) -> tuple[str, ...]:
    """A REST API's `BinaryMediaTypes`: Globals.Api's then its own (SAM adds lists of Globals to the
    resource's), each with SAM's `~1` decoded to `/` (`image~1png` -> `image/png`)."""
    found: list[str] = []
    for where, props in (("Globals.Api", globals_api), (at, api)):
        types = props.get("BinaryMediaTypes", [])
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise TemplateError(f"{where}.BinaryMediaTypes: must be a list of media types (image~1png)")
        for media_type in types:
            decoded = media_type.replace("~1", "/").strip()
            kind, slash, subtype = decoded.partition("/")
            if not (kind and slash and subtype) or "/" in subtype:
                raise TemplateError(f"{where}.BinaryMediaTypes: {media_type!r} is not a media type (image~1png)")
            if decoded not in found:
                found.append(decoded)
    return tuple(found)


def _authorizers(
    api: dict[str, Any], kind: str, at: str, names: dict[str, str]
) -> tuple[str | None, dict[str, Authorizer]]:
    auth = api.get("Auth", {})
    found: dict[str, Authorizer] = {}
    for name, config in auth.get("Authorizers", {}).items():
        here = f"{at}.Auth.Authorizers.{name}"
        if kind == "rest":
            if "UserPoolArn" not in config:
                raise TemplateError(f"{here}: only Cognito user pool authorizers run locally")
            pool = _pool_id(config["UserPoolArn"], names, here)
            region = pool.split("_", 1)[0]
            found[name] = Authorizer(name, f"https://cognito-idp.{region}.amazonaws.com/{pool}", ())
        else:
            jwt_config = config.get("JwtConfiguration")
            if not jwt_config:
                raise TemplateError(f"{here}: only JWT authorizers run locally")
            audience = jwt_config.get("audience", [])
            found[name] = Authorizer(
                name, jwt_config.get("issuer"), tuple(audience if isinstance(audience, list) else [audience])
            )
    return auth.get("DefaultAuthorizer"), found


def api_route(
    function: str,
    event_type: str,
    props: dict[str, Any],
    at: str,
    data: dict[str, Any],
    names: dict[str, str],
) -> ApiRoute:
    """One `Api` / `HttpApi` event as a route, with its API's authorizer."""
    resources = data["Resources"]
    globals_ = data.get("Globals", {}) or {}
    kind = "rest" if event_type == "Api" else "http"
    key = "RestApiId" if kind == "rest" else "ApiId"
    reference = props.get(key)
    globals_api = globals_.get("Api" if kind == "rest" else "HttpApi", {}) or {}
    if reference is None:
        api_id = "ServerlessRestApi" if kind == "rest" else "ServerlessHttpApi"
        api = globals_api
        api_at = f"Globals.{'Api' if kind == 'rest' else 'HttpApi'}"
    else:
        ref = reference.get("Ref") if isinstance(reference, dict) else None
        if not isinstance(ref, str) or ref not in resources:
            raise TemplateError(f"{at}.{key}: must be !Ref <Api> of the template")
        api_id = ref
        api = resources[api_id].get("Properties", {})
        api_at = f"{at.split(':')[0]}: {api_id}.Properties"
    default, authorizers = _authorizers(api, kind, api_at, names)
    chosen = props.get("Auth", {}).get("Authorizer", default)
    if chosen in (None, "NONE"):
        authorizer = None
    elif chosen in authorizers:
        authorizer = authorizers[chosen]
    else:
        raise TemplateError(f"{at}.Auth.Authorizer: {chosen!r} is not declared on {api_id}")
    path, method = props.get("Path"), props.get("Method")
    if kind == "http" and path is None and method is None:
        path, method = "$default", "ANY"
    if not isinstance(path, str) or not isinstance(method, str):
        raise TemplateError(f"{at}: Path and Method are required")
    default_version = "1.0" if kind == "rest" else "2.0"
    version = str(props.get("PayloadFormatVersion", api.get("PayloadFormatVersion", default_version)))
    binary: tuple[str, ...] = ()
    if kind == "rest":  # the implicit API is Globals.Api itself: its list is read once
        binary = _binary_media_types({} if reference is None else api, globals_api, api_at)
    return ApiRoute(kind, api_id, path, method.upper(), function, version, authorizer, binary)


def ordered(routes: list[ApiRoute], template: str) -> tuple[ApiRoute, ...]:
    """The routes in API Gateway's matching order; two events on one method and path are refused."""
    seen: dict[tuple[str, str], ApiRoute] = {}
    for route in routes:
        key = (route.path, route.method)
        if key in seen and seen[key] != route:
            raise TemplateError(
                f"{template}: two events declare {route.method} {route.path} ({seen[key].function}, {route.function})"
            )
        seen[key] = route
    return tuple(sorted(routes, key=lambda r: r.precedence))
