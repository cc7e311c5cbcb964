"""``References K-L`` (several users coded one passage, NVivo does not name them) and placeholder users.

Oracle: the export text itself. The head's range ``K-L`` says how many references NVivo counts for
the passage (L - K + 1), the body line is the passage, and the source header's ``§ N`` is the
total for the source; all three are read here with a regular expression of their own, not with
qdx's parser. The rule under test (docs/rules.md "Placeholder users"): each merged reference is a
coding by its own placeholder user, and no analysis treats a placeholder as a coder.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import qdx
from qdx.analysis.agreement import agree
from qdx.cli import main
from qdx.errors import NoDataError, Severity
from qdx.formats import ReadOptions
from qdx.formats.nvivo import export_files, rebuild
from qdx.model import Project, TextSource, is_placeholder_user, iter_selections
from qdx.segment import segments
from tests.conftest import FIXTURES

FX = FIXTURES / "nvivo"
ACCESS = FX / "export" / "Access.txt"


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _merged_head() -> tuple[int, str, int]:
    """(references counted by the merged head, its passage, the header's § count) from Access.txt."""
    lines = [ln.strip() for ln in ACCESS.read_bytes().decode("utf-16").splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        head = re.fullmatch(r"References (\d+)-(\d+) - [\d.]+% Coverage", line)
        if head:
            header = next(h for h in reversed(lines[:i]) if "§" in h)
            declared = re.search(r"§ (\d+) reference", header)
            assert declared is not None
            return int(head.group(2)) - int(head.group(1)) + 1, lines[i + 1], int(declared.group(1))
    raise AssertionError("the fixture has no merged head")


def _rebuilt() -> Project:
    return rebuild(_tree(FX / "export"), _tree(FX / "sources"), ReadOptions(label="export"))


def test_each_merged_reference_is_a_coding_by_its_own_placeholder() -> None:
    count, passage, declared = _merged_head()
    assert count == 2  # the fixture's head is "References 2-3"
    project = _rebuilt()
    access = [s for s in segments(project) if s.code == "Access" and s.source == "Interview 01"]
    on_passage = [s for s in access if s.text == passage]
    assert len(on_passage) == count
    coders = [s.coder for s in on_passage]
    assert len(set(coders)) == count and all(is_placeholder_user(c) for c in coders)
    assert len(access) == declared  # NVivo's § count survives: 1 + 2
    # The other references name no coder, and are not given a made-up one.
    assert [s.coder for s in access if s.text != passage] == [None]
    # QualCoder reads the coder from the selection, qdx from the coding: both carry it.
    for sel in (x for source in project.sources for x in iter_selections(source)):
        if sel.codings[0].creating_user is not None:
            assert sel.creating_user == sel.codings[0].creating_user
    names = sorted(u.name or "" for u in project.users)
    assert names == [
        "NVivo user 1 of 2 (not named in the export)",
        "NVivo user 2 of 2 (not named in the export)",
    ]
    (info,) = [i for i in project.provenance.issues if i.code == "QDX411"]  # type: ignore[union-attr]
    assert info.severity is Severity.INFO and "1 merged reference head" in info.message


def test_placeholders_survive_a_refi_round_trip_and_stay_distinct(tmp_path: Path) -> None:
    project = _rebuilt()
    out = tmp_path / "rebuilt.qdpx"
    qdx.write(project, out, newline="keep")  # Interview 02 is CRLF: keep its positions
    back = qdx.read(out)
    assert back.users == project.users

    def rows(p: Project) -> list[tuple[object, ...]]:
        return sorted((s.source, s.code, s.start or -1, s.end or -1, s.coder or "") for s in segments(p))

    assert rows(back) == rows(project)
    count, passage, _ = _merged_head()
    keys = {(s.source, s.code, s.start, s.end, s.coder) for s in segments(back) if s.text == passage}
    # The (source, code, range, coder) key a client stores a coding under stays distinct per reference.
    assert len([k for k in keys if k[1] == "Access"]) == count


def test_agreement_refuses_a_placeholder_coder() -> None:
    project = _rebuilt()
    one, two = (u.name or "" for u in project.users)
    with pytest.raises(NoDataError, match="placeholder"):
        agree(project, coders_a=[one], coders_b=[two])


def test_cli_agree_and_matrix_refuse_a_placeholder_coder(tmp_path: Path) -> None:
    out = tmp_path / "rebuilt.qdpx"
    qdx.write(_rebuilt(), out)
    one, two = "NVivo user 1 of 2 (not named in the export)", "NVivo user 2 of 2 (not named in the export)"
    result = CliRunner().invoke(main, ["agree", str(out), "--coders", one, two])
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "placeholder" in lines[0]
    result = CliRunner().invoke(main, ["matrix", str(out), "--coder", one])
    assert result.exit_code == 1, result.output
    assert "placeholder" in result.output


def test_a_project_without_merged_heads_gets_no_users() -> None:
    files = _tree(FX / "export")
    files.pop("Access.txt")
    project = rebuild(files, _tree(FX / "sources"), ReadOptions(label="export"))
    assert project.users == ()
    assert all(isinstance(s, TextSource) or s.selections for s in project.sources)
    assert not [i for i in project.provenance.issues if i.code == "QDX411"]  # type: ignore[union-attr]


def test_qdx_coded_text_writer_gives_back_the_merged_head() -> None:
    count, passage, _ = _merged_head()
    project = _rebuilt()
    files = export_files(project, "V3")
    text = files["Access.txt"].decode("utf-8-sig")
    # One head for the passage, counting the same references as NVivo's.
    heads = re.findall(r"^References (\d+)-(\d+) - [\d.]+% Coverage\n(.*)$", text, flags=re.M)
    assert [(int(b) - int(a) + 1, body) for a, b, body in heads] == [(count, passage)]
    again = rebuild(files, _tree(FX / "sources"), ReadOptions(label="export"))
    assert again.users == project.users
