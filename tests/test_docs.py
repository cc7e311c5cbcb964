"""The documents a user or the next engineer reads cover what the code uses.

Every issue and rule code qdx can report is explained in docs/rules.md, and every producer
quirk the code cites or labels is explained in docs/quirks.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
RULES = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
QUIRKS = (ROOT / "docs" / "quirks.md").read_text(encoding="utf-8")


def _code_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "qdx").rglob("*.py")))


def _documented(code: str) -> bool:
    """A row or heading of rules.md names the code."""
    return re.search(rf"^(\| {code} \||### {code}\b)", RULES, re.M) is not None


def test_every_issue_code_in_the_code_is_documented() -> None:
    used = set(re.findall(r"\bQDX\d{3}\b", _code_text()))
    assert len(used) > 40  # the scan sees the readers and the validators
    assert sorted(code for code in used if not _documented(code)) == []


@pytest.mark.parametrize("module", ["structure_profile", "audit"])
def test_every_structure_and_audit_rule_is_documented(module: str) -> None:
    source = (ROOT / "qdx" / "validation" / f"{module}.py").read_text(encoding="utf-8")
    rules = set(re.findall(r'^\s*"((?:GT|CB)\d+)":', source, re.M))
    assert rules
    assert sorted(rule for rule in rules if not _documented(rule)) == []


def _quirk_rows() -> set[int]:
    return {int(n) for n in re.findall(r"^\| (\d+) \|", QUIRKS, re.M)}


def test_the_quirk_table_has_every_quirk_once() -> None:
    rows = re.findall(r"^\| (\d+) \|", QUIRKS, re.M)
    assert [int(n) for n in rows] == list(range(1, 26))


def test_every_quirk_the_code_cites_is_explained() -> None:
    code = _code_text()
    cited: set[int] = set()
    for match in re.finditer(r"\bquirks? ((?:\d+(?:\s*(?:,|and|-|–)\s*)?)+)", code):
        cited.update(int(n) for n in re.findall(r"\d+", match.group(1)))
    assert len(cited) > 10
    assert sorted(cited - _quirk_rows()) == []


def test_every_quirk_label_the_reader_records_is_listed() -> None:
    labels = set(re.findall(r'"(quirk\d+:[A-Za-z0-9-]+)"', _code_text()))
    labels |= {"quirk7:codebook-ns-1:0", "quirk7:codebook-ns-0:4"}  # built with an f-string
    assert len(labels) > 15
    assert sorted(label for label in labels if f"`{label}`" not in QUIRKS) == []


def _citations() -> list[tuple[Path, str]]:
    """(citing file, cited name) for every ``*.md`` named in qdx/, docs/ and the top-level guides."""
    files = [*sorted((ROOT / "qdx").rglob("*.py")), *sorted((ROOT / "docs").glob("*.md"))]
    files += [ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
    return [
        (path, name)
        for path in files
        for name in re.findall(r"[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b", path.read_text(encoding="utf-8"))
    ]


def test_every_cited_document_is_in_the_repository() -> None:
    cited = _citations()
    assert len(cited) > 100
    missing = sorted(
        f"{path.relative_to(ROOT)} cites {name}"
        for path, name in cited
        if not any((base / name).is_file() for base in (ROOT, path.parent, ROOT / "docs"))
    )
    assert missing == []
