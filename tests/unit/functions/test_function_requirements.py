"""Every third-party import a function makes (its own modules and the shared/ modules they reach)
is installed in its image: listed in functions/<name>/requirements.txt or shared/requirements.txt.

Host mode runs all functions from one virtualenv, so a missing requirement would only show in Docker
mode or in AWS; this catches it here.
"""

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

from stack import ROOT
from stack.functions import functions

DISTRIBUTIONS = metadata.packages_distributions()


def normalise(name: str) -> str:
    return re.split(r"[<>=!~\[; (]", name.strip(), maxsplit=1)[0].lower().replace("_", "-")


def requirement_names(path: Path) -> set[str]:
    """The distributions a requirements file installs, with their own dependencies (what pip brings)."""
    pending = [normalise(line.split("#")[0]) for line in path.read_text().splitlines() if line.split("#")[0].strip()]
    names: set[str] = set()
    while pending:
        name = pending.pop()
        if name in names:
            continue
        names.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        pending += [normalise(r) for r in requires if "extra ==" not in r]
    return names


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def third_party_imports(function_dir: Path) -> set[str]:
    """Third-party modules the function imports (full dotted names), its shared/ modules' included."""
    local = {p.stem for p in function_dir.glob("*.py")}
    pending = list(function_dir.glob("*.py"))
    seen: set[Path] = set()
    third_party = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in imports_of(path):
            top = module.split(".")[0]
            if top == "shared":
                source = ROOT / (module.replace(".", "/") + ".py")
                if source.is_file():
                    pending.append(source)
            elif top not in local and top not in sys.stdlib_module_names:
                third_party.add(module)
    return third_party


@pytest.mark.parametrize("fn", functions(), ids=lambda f: f.directory)
def test_function_imports_are_in_its_image_requirements(fn):
    function_dir = ROOT / "functions" / fn.directory
    allowed = requirement_names(ROOT / "shared" / "requirements.txt") | requirement_names(
        function_dir / "requirements.txt"
    )
    imports = {module.split(".")[0] for module in third_party_imports(function_dir)}
    assert imports, "the scan found no third-party import at all"
    for top in sorted(imports):
        dists = {d.lower().replace("_", "-") for d in DISTRIBUTIONS.get(top, [])}
        assert dists & allowed, (
            f"{fn.directory} imports {top} ({', '.join(dists) or '?'}) but no requirement installs it"
        )


@pytest.mark.parametrize("fn", functions(), ids=lambda f: f.directory)
def test_powertools_parameters_come_with_a_pinned_boto3(fn):
    # The parameters utility imports boto3, which Powertools leaves to an extra: without a pin the
    # image would run the base image's boto3 (/var/runtime) against the pinned botocore.
    function_dir = ROOT / "functions" / fn.directory
    if any(m.startswith("aws_lambda_powertools.utilities.parameters") for m in third_party_imports(function_dir)):
        assert "boto3" in requirement_names(function_dir / "requirements.txt")
