"""README.md and docs/*.md hold together: every relative link resolves to a file of the repository
(and its `#anchor`, on a link to a markdown file, to a heading there, by GitHub's slug rules), and
every `make <target>` they name in code is a target of the Makefile."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^ {0,3}(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
# [text](target) and ![alt](target); the target up to a space (a title may follow) or the closing paren
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^)]*[\"'])?\s*\)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
# `make [-s] [VAR=value ...] target`: the first word that is neither an option nor an assignment
MAKE = re.compile(
    r"(?<![\w./-])make\s+(?:(?:-[A-Za-z]+|[A-Za-z_][A-Za-z0-9_]*=\S*)\s+)*([A-Za-z0-9][A-Za-z0-9_.*-]*)(?![\w.*=-])"
)
RULE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*(?:[ \t]+[A-Za-z0-9][A-Za-z0-9_.-]*)*)[ \t]*::?(?!=)")


def split_code(text: str) -> tuple[str, list[str]]:
    """The prose of a markdown text (code blocks and code spans blanked out) and its pieces of code."""
    prose_lines: list[str] = []
    code: list[str] = []
    block: list[str] | None = None
    for line in text.splitlines():
        if FENCE.match(line):
            if block is None:
                block = []
            else:
                code.append("\n".join(block))
                block = None
            prose_lines.append("")
        elif block is not None:
            block.append(line)
            prose_lines.append("")
        else:
            prose_lines.append(line)
    if block is not None:
        code.append("\n".join(block))
    prose = "\n".join(prose_lines)
    code.extend(match.group(2) for match in CODE_SPAN.finditer(prose))
    return CODE_SPAN.sub(" ", prose), code


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: markup dropped, lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text stays
    text = text.lower()
    text = re.sub(r"[^\w\- ]", "", text)  # `, *, :, ', →, ... go; letters, digits, _ and - stay
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    prose, _ = split_code(path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    found: set[str] = set()
    for line in prose.splitlines():
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> list[str]:
    prose, _ = split_code(path.read_text(encoding="utf-8"))
    return [match.group(1) for match in LINK.finditer(prose)]


def link_problems(path: Path) -> list[str]:
    problems = []
    for target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        name = f"{path.relative_to(ROOT)}: ({target})"
        if ROOT not in resolved.parents and resolved != ROOT:
            problems.append(f"{name}: outside the repository")
        elif not resolved.exists():
            problems.append(f"{name}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            problems.append(f"{name}: no heading #{anchor} in {resolved.relative_to(ROOT)}")
    return problems


def makefile_targets() -> set[str]:
    targets: set[str] = set()
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        match = RULE.match(line)
        if match:
            targets.update(name for name in match.group(1).split() if not name.startswith("."))
    return targets


def named_targets(path: Path) -> list[str]:
    _, code = split_code(path.read_text(encoding="utf-8"))
    return [match.group(1).rstrip(".") for piece in code for match in MAKE.finditer(piece)]


def target_problems(path: Path, targets: set[str]) -> list[str]:
    problems = []
    for name in named_targets(path):
        known = fnmatch.filter(targets, name) if "*" in name else [name] if name in targets else []
        if not known:
            problems.append(f"{path.relative_to(ROOT)}: make {name}: not a target of the Makefile")
    return problems


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(path):
    assert link_problems(path) == []


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_make_target_named_is_in_the_makefile(path):
    assert target_problems(path, makefile_targets()) == []


def test_the_readme_links_every_doc_and_stays_short():
    readme = ROOT / "README.md"
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in links(readme)}
    assert [p.name for p in DOCS[1:] if p.resolve() not in linked] == []
    assert len(readme.read_text(encoding="utf-8").splitlines()) <= 200


def test_the_checks_catch_a_broken_link_a_wrong_anchor_and_an_unknown_target(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "Makefile").write_text(".PHONY: up\nup: setup\n\t@echo up\nsetup:\nX := 1\n")
    (tmp_path / "docs" / "a.md").write_text("# Docker mode: the ports\n\n## What is locked, and how\n")
    page = tmp_path / "README.md"
    page.write_text(
        "[ok](docs/a.md#docker-mode-the-ports) [ok](docs/a.md#what-is-locked-and-how) [web](https://x.y/z)\n"
        "[gone](docs/b.md) [anchor](docs/a.md#ports) `[not a link](nowhere.md)`\n"
        "```sh\nmake up      # fine\nmake -s setup\nmake upp\n```\n"
        "and `make bench-*`, `make X=1 up` and `make X=1 nope`\n"
    )
    assert link_problems(page) == [
        "README.md: (docs/b.md): no such file",
        "README.md: (docs/a.md#ports): no heading #ports in docs/a.md",
    ]
    assert makefile_targets() == {"up", "setup"}
    assert target_problems(page, makefile_targets()) == [
        "README.md: make upp: not a target of the Makefile",
        "README.md: make bench-*: not a target of the Makefile",
        "README.md: make nope: not a target of the Makefile",
    ]


def test_github_slugs():
    assert slug("Weather: S3-hosted page → HTTP API") == "weather-s3-hosted-page--http-api"
    assert slug("The local plane's packages") == "the-local-planes-packages"
    assert slug("`make test`") == "make-test"
