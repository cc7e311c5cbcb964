"""The documents a user or the next engineer reads cover what the code uses.

Every issue and rule code qdx can report is explained in docs/rules.md, and every producer
quirk the code cites or labels is explained in docs/quirks.md. No comment, docstring or document
cites an internal tracker's issue number, which a reader cannot look up.
"""

from __future__ import annotations

import re
import tokenize
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


# "issue 15", "issues 9 and 15", "issue #16", "issue-14": a tracker's number, which a reader of the
# code or of the documents cannot look up. A comment says the reason instead.
_ISSUE_NUMBER = re.compile(r"\bissues?[\s#-]*\d+", re.I)


def _prose_of(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every comment and string (docstrings included) of a Python file."""
    with path.open("rb") as stream:
        tokens = tokenize.tokenize(stream.readline)
        # Python 3.12 splits f-strings into parts: their text is FSTRING_MIDDLE.
        kinds = (tokenize.COMMENT, tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING))
        return [(token.start[0], token.string) for token in tokens if token.type in kinds]


def test_the_issue_number_pattern_finds_what_it_must() -> None:
    found = [_ISSUE_NUMBER.search(text) is not None for text in (
        "# quadratic (issue 15).", "(Issues 9 and 15)", "see issue #16", "issue-14", "QDX410 issue",
        "issue QDX410", "an Issue(code, ...)", "QualCoder #744",
    )]
    assert found == [True, True, True, True, False, False, False, False]


def test_no_comment_or_document_cites_an_internal_issue_number() -> None:
    places = [
        f"{path.relative_to(ROOT)}:{line + text.count(chr(10), 0, match.start())}: {match.group()}"
        for path in sorted((ROOT / "qdx").rglob("*.py"))
        for line, text in _prose_of(path)
        for match in _ISSUE_NUMBER.finditer(text)
    ]
    for path in [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "CHANGELOG.md"]:
        for line, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            places += [f"{path.relative_to(ROOT)}:{line}: {m.group()}" for m in _ISSUE_NUMBER.finditer(text)]
    assert places == []
