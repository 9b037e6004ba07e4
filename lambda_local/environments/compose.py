"""compose.yaml's function services and the `lambda` service, rendered from the template.

The file's hand-written part (the database, the AWS endpoint, its bootstrap, the sandbox anchor)
stays as it is; the part between the two marker lines is rendered here and committed, so
`docker compose up` works from a clone. `python -m lambda_local render-compose` rewrites it;
tests/unit/lambda_local/environments/test_compose.py fails while the committed file is stale.
"""

from __future__ import annotations

import json
from pathlib import Path

from lambda_local.environments.sandbox import AWS_ENDPOINT, SHIM, SHIM_SOURCE, sandbox
from lambda_local.providers import ROOT, FunctionSpec, Template, TemplateError
from lambda_local.settings import API_PORT, INVOKE_PORT, SYSLOG_PORT, URL_PORT

COMPOSE = ROOT / "compose.yaml"
BEGIN = "  # >>> rendered from template.yaml by `make compose`: edit the template, not this part >>>"
END = "  # <<< rendered from template.yaml <<<"


def _quote(value: str) -> str:
    return json.dumps(value)  # a JSON string is a YAML double-quoted scalar


def function_service(template: Template, fn: FunctionSpec) -> list[str]:
    box = sandbox(template, fn)
    lines = [
        f"  {fn.directory}:",
        "    <<: *function",
        "    build:",
        f"      context: {fn.metadata.get('DockerContext', '.')}",
        f"      dockerfile: {fn.dockerfile}",
    ]
    if fn.build_args:
        lines.append("      args:")
        lines += [f"        {key}: {_quote(value)}" for key, value in fn.build_args.items()]
    lines += [
        f"    image: {box.image}",
        f"    entrypoint: [{', '.join(_quote(c) for c in box.entrypoint)}]",
        f"    command: [{', '.join(_quote(c) for c in box.command)}]",
        "    volumes:",
        f"      - ./{SHIM_SOURCE}:{SHIM}:ro",
        f"    user: {_quote(box.user)}",
        f"    read_only: {str(box.read_only).lower()}",
        f"    mem_limit: {box.memory_mb}m",
        f"    memswap_limit: {box.memory_mb}m",
        "    tmpfs:",
        f"      - /tmp:size={box.ephemeral_mb}m",
        "    environment:",
    ]
    lines += [f"      {key}: {_quote(value)}" for key, value in box.environment.items()]
    return lines


def lambda_service(template: Template) -> list[str]:
    lines = [
        "  # The local Lambda plane: the Invoke API (3001), API Gateway (3000), every function's own port,",
        "  # and the queue in front of each function's container (the RIE takes one invocation at a time).",
        "  lambda:",
        "    image: lambda-local:local",
        "    build:",
        "      context: .",
        "      dockerfile: images/lambda-local.Dockerfile",
        '    command: ["python", "-m", "lambda_local"]',
        "    restart: unless-stopped",
        "    env_file: local.env",
        "    environment:",
        f"      AWS_ENDPOINT_URL: {AWS_ENDPOINT}",
        "      LAMBDA_LOCAL_MODE: docker",
        "      LAMBDA_LOCAL_BIND: 0.0.0.0",
        "      LAMBDA_LOCAL_ALLOWED_HOSTS: lambda # the name the functions call it by (lambda_local/http/doors.py)",
        "      LAMBDA_LOCAL_WATCH: ${LAMBDA_LOCAL_WATCH:-1} # hot reload: an edit rebuilds that function's image",
        "      LAMBDA_LOCAL_LOG_LEVEL: ${LAMBDA_LOCAL_LOG_LEVEL:-INFO} # the plane's own lines: DEBUG, INFO, WARNING",
        "    # The engine's socket: the plane starts a function's further execution environments as",
        "    # containers (lambda_local/environments/). Whoever holds it is root on the host: docs/modes.md.",
        '    user: "0"',
        "    volumes:",
        "      - lambda-state:/project/.stack # stream checkpoints and logs outlive the container",
        "      # The code as you edit it, for hot reload (environments/reload.py): read only, built into images.",
        "      - ./functions:/project/functions:ro",
        "      - ./shared:/project/shared:ro",
        "      - ./images:/project/images:ro",
        "      - ${DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock",
        "    healthcheck:",
        '      test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('
        f"'http://127.0.0.1:{INVOKE_PORT}/_local/functions', timeout=3)\"]",
        "      interval: 5s",
        "      timeout: 5s",
        "      retries: 24",
        "    ports:",
        f'      - "127.0.0.1:{SYSLOG_PORT}:{SYSLOG_PORT}/udp" # the function containers\' logs (syslog)',
    ]
    ports = ([API_PORT] if template.routes else []) + [INVOKE_PORT]
    ports += [URL_PORT] if any(fn.url is not None for fn in template.functions) else []
    ports += sorted(fn.port for fn in template.functions if fn.port is not None)
    lines += [f'      - "127.0.0.1:{port}:{port}"' for port in ports]
    if template.functions:
        lines.append("    depends_on:")
        for fn in template.functions:
            lines += [f"      {fn.directory}:", "        condition: service_healthy"]
    return lines


def rendered_part(template: Template) -> str:
    lines = [BEGIN]
    for fn in template.functions:
        lines += function_service(template, fn) + [""]
    lines += lambda_service(template) + [END]
    return "\n".join(lines) + "\n"


def render(template: Template, current: str) -> str:
    """`current` (compose.yaml's text) with its rendered part made anew from `template`."""
    if current.count(BEGIN) != 1 or current.count(END) != 1:
        raise TemplateError(f"compose.yaml: the marker lines of the rendered part are missing ({BEGIN.strip()!r})")
    head, rest = current.split(BEGIN + "\n", 1)
    _, tail = rest.split(END + "\n", 1)
    return head + rendered_part(template) + tail


def write(template: Template, path: Path = COMPOSE) -> bool:
    """Rewrite `path`'s rendered part; whether it changed."""
    current = path.read_text()
    fresh = render(template, current)
    if fresh != current:
        path.write_text(fresh)
    return fresh != current
