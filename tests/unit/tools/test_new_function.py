"""`make new-function` writes the folder, a sample event and the template entry, and nothing else is
needed: the provider reads the new function and compose.yaml's rendered part gains its service."""

import json
import shutil
from pathlib import Path

import pytest
import yaml

from lambda_local.environments import compose
from lambda_local.providers import ROOT, load
from tools.new_function import scaffold


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "template.yaml", tmp_path / "template.yaml")
    shutil.copytree(ROOT / "functions", tmp_path / "functions", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_scaffolded_function_is_read_by_the_provider_and_rendered_into_compose(project: Path):
    written = scaffold("order-audit", "Audits orders.", project)
    assert {p.relative_to(project).as_posix() for p in written} == {
        "functions/order-audit/app.py",
        "functions/order-audit/order_audit.py",
        "functions/order-audit/requirements.txt",
        "events/order-audit/hello.json",
        "template.yaml",
    }
    template = load(project / "template.yaml")
    fn = template.function("order-audit")
    assert (fn.lambda_name, fn.logical_id, fn.memory_mb, fn.timeout_s) == ("orderAudit", "OrderAuditFunction", 256, 10)
    assert template.data["Parameters"]["OrderAuditImageUri"]["Default"] == "order-audit:local"
    assert template.data["Resources"]["OrderAuditLogGroup"]["Properties"]["LogGroupName"] == "/aws/lambda/orderAudit"
    assert len(template.functions) == len(load().functions) + 1  # the others are untouched
    services = yaml.safe_load(compose.render(template, (ROOT / "compose.yaml").read_text()))["services"]
    assert services["order-audit"]["environment"]["AWS_LAMBDA_FUNCTION_NAME"] == "orderAudit"
    assert "@tracer.capture_lambda_handler" in (project / "functions" / "order-audit" / "app.py").read_text()


def test_the_logic_module_answers_without_lambda(project: Path, monkeypatch: pytest.MonkeyPatch):
    scaffold("order-audit", "Audits orders.", project)
    monkeypatch.syspath_prepend(str(project / "functions" / "order-audit"))
    import order_audit

    answer = order_audit.answer({"b": 1, "a": 2})
    assert answer["statusCode"] == 200 and json.loads(answer["body"]) == {"received": ["a", "b"]}


@pytest.mark.parametrize(("name", "message"), [("Order_Audit", "kebab-case"), ("weather-api", "exists already")])
def test_bad_or_taken_names_are_refused_and_nothing_is_written(project: Path, name: str, message: str):
    before = (project / "template.yaml").read_text()
    with pytest.raises(SystemExit, match=message):
        scaffold(name, "x", project)
    assert (project / "template.yaml").read_text() == before
