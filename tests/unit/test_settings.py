"""One home for each setting: the stack's ports are written in lambda_local/settings.py alone; the plane,
compose rendering, the stack commands, the tools, the benches and the tests' support import them from there.
(The tests themselves may state an expected value literally: `127.0.0.1:3307:3306` is what compose must
publish, whatever the settings say.)"""

import ast
import io
import re
import tokenize
from pathlib import Path

from lambda_local import settings

ROOT = Path(__file__).resolve().parents[2]
PORTS = {
    settings.INVOKE_PORT,
    settings.API_PORT,
    settings.URL_PORT,
    settings.SYSLOG_PORT,
    settings.AWS_PORT,
    settings.DB_PORT,
    settings.DEBUG_PORT,
    settings.RIE_PORT,
}
# Run outside this project's Python, each in another image, and so with a copy of their port: said there.
STANDALONE = {"stack/aws_endpoint.py", "lambda_local/environments/debug_guard.py", "lambda_local/settings.py"}
ADDRESS = re.compile(r"(?:127\.0\.0\.1|localhost|\baws|\blambda|\])[:](\d{4,5})\b")


def docstring_lines(tree: ast.AST) -> set[int]:
    """The lines of every docstring (documentation may name a port)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                lines.update(range(value.lineno, (value.end_lineno or value.lineno) + 1))
    return lines


def literal_ports(path: Path) -> list[str]:
    """`line: text` of every number or string in code (not a comment, not a docstring) that is a port of the stack."""
    text = path.read_text()
    skip = docstring_lines(ast.parse(text))
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.keyword)
        and "port"
        in (
            ast.unparse(
                node.target
                if not isinstance(node, ast.Assign | ast.keyword)
                else (node.targets[0] if isinstance(node, ast.Assign) else ast.Name(node.arg or ""))
            ).lower()
        )
        and isinstance(node.value, ast.Constant)
        and node.value.value in PORTS
    ]
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        line = token.start[0]
        if line in skip:
            continue
        if token.type in (tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", -1)) and any(
            int(port) in PORTS for port in ADDRESS.findall(token.string)
        ):
            found.append(f"{path.relative_to(ROOT)}:{line}: {token.line.strip()}")
    return found


def test_no_port_of_the_stack_is_written_outside_the_settings_module() -> None:
    sources = [
        path
        for folder in ("lambda_local", "stack", "tools", "bench", "tests/support")
        for path in (ROOT / folder).rglob("*.py")
        if str(path.relative_to(ROOT)) not in STANDALONE and "standins" not in path.parts
    ]
    assert len(sources) > 80
    found = [hit for path in sources for hit in literal_ports(path)]
    assert found == [], "ports written outside lambda_local/settings.py:\n" + "\n".join(found)


def test_the_check_finds_a_literal_port(tmp_path: Path) -> None:
    probe = ROOT / "tests" / "unit" / "_port_probe.py"
    try:
        probe.write_text(
            '"""The Invoke API on 3001 (documentation may say so)."""\nURL = "http://127.0.0.1:3001/x"\nPORT = 5000\n'
        )
        assert sorted(hit.split(":")[1] for hit in literal_ports(probe)) == ["2", "3"]
    finally:
        probe.unlink()


def test_the_plane_reads_its_settings_once_from_its_environment() -> None:
    read = settings.Settings.from_env({"LAMBDA_LOCAL_PORT": "4001", "LAMBDA_LOCAL_LOG_LEVEL": "debug"})
    assert read.invoke_port == 4001 and read.lambda_endpoint.endswith(":4001") and read.log_level == "DEBUG"
    assert settings.Settings.from_env({}).aws_endpoint == settings.AWS_ENDPOINT


def test_a_plane_in_docker_mode_is_reached_by_its_service_name_and_may_run_without_compose_functions() -> None:
    default = settings.Settings.from_env({})
    assert default.compose_functions and default.function_lambda_endpoint == settings.COMPOSE_LAMBDA_ENDPOINT
    assert default.syslog_address == settings.COMPOSE_SYSLOG_ADDRESS
    probe = settings.Settings.from_env(
        {
            "LAMBDA_LOCAL_SERVICE": "lambda-probe",
            "LAMBDA_LOCAL_COMPOSE_FUNCTIONS": "0",
            "LAMBDA_LOCAL_SYSLOG_PORT": "3614",
        }
    )
    assert not probe.compose_functions
    assert probe.function_lambda_endpoint == f"http://lambda-probe:{settings.INVOKE_PORT}"
    assert probe.syslog_address == "udp://127.0.0.1:3614"
