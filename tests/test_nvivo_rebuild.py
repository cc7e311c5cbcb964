"""Rebuilding a project from NVivo coded-text exports, and the V3/V4 writer round trip.

Oracles: offsets computed here with ``str.index`` over the made-up transcripts (their
passages are unique), and the original project's own segments for the round trip.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

import qdx
from qdx.errors import Severity
from qdx.formats import ReadOptions
from qdx.formats.nvivo import export_files, rebuild
from qdx.formats.nvivo.codedtext import parse_text
from qdx.formats.nvivo.place import SourcePlacer
from qdx.model import Code, Coding, Guid, Project, TextSelection, TextSource, text_docs
from qdx.segment import segments
from tests.conftest import FIXTURES, STUDY

FX = FIXTURES / "nvivo"


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _spans(project: Project) -> Counter[tuple[str, int | None, int | None, tuple[str, ...]]]:
    return Counter((s.source, s.start, s.end, s.code_path) for s in segments(project))


def test_rebuild_places_references_at_exact_offsets() -> None:
    texts = _tree(FX / "sources")
    project = rebuild(_tree(FX / "export"), texts, ReadOptions(label="export"))
    one = texts["Interview 01.txt"].decode()
    two = texts["Interview 02.txt"].decode()
    fees = one.index("Fees are hidden")
    nurse = two.index("The nurse")
    nurse_end = two.index("medicine.") + len("medicine.")
    spans = _spans(project)
    assert spans[("Interview 01", fees, fees + len("Fees are hidden until you arrive."), ("Access",))] == 2
    assert spans[("Interview 01", fees, fees + 33, ("Barriers", "Cost", "Hidden fees"))] == 1
    # LF in the export, CRLF in the source: found by the whitespace-normalised search.
    assert spans[("Interview 02", nurse, nurse_end, ("Care",))] == 1
    road = one.index("We only go")
    assert spans[("Interview 01", road, road + 47, ("Road",))] == 1
    # NVivo-11 "Internals\\" and NVivo-12 "Files\\" headers of Interview 01 are one source.
    assert sorted(s.name or "" for s in project.sources) == ["Clinic leaflet", "Interview 01", "Interview 02"]
    # By hand: Road 3 + Care 2 + Clinic 2 + Access 1+2 + Hidden fees 1 text references; Care's
    # second passage is the CRLF one; Access has the only region.
    (summary,) = [i.message for i in project.provenance.issues if i.code == "QDX403"]  # type: ignore[union-attr]
    assert summary == "11 text references placed (10 exact, 1 whitespace-normalised), 0 not found, 1 region references"
    missing = [i for i in project.provenance.issues if i.code == "QDX404"]  # type: ignore[union-attr]
    assert [i.location for i in missing] == ["Files\\\\Round 1\\\\Clinic leaflet"]


def test_unplaceable_reference_is_reported_with_file_and_line() -> None:
    files = {"mismatch.txt": (FX / "mismatch.txt").read_bytes()}
    project = rebuild(files, _tree(FX / "sources"), ReadOptions(label="x"))
    issues = project.provenance.issues  # type: ignore[union-attr]
    unplaced = [i for i in issues if i.code == "QDX402"]
    # Its head is on line 7; the body swallowed the look-alike head, so it is in no source.
    assert [(i.location, i.severity) for i in unplaced] == [("x/mismatch.txt:7", Severity.ERROR)]
    assert [i.location for i in issues if i.code == "QDX401"] == ["x/mismatch.txt:1"]


def test_without_sources_says_passages_only() -> None:
    project = qdx.read(FX / "export")
    codes = [i.code for i in project.provenance.issues]  # type: ignore[union-attr]
    assert "QDX405" in codes
    # A passage coded at several codes is one range in the stand-in text of its source.
    fees = [s for s in segments(project) if s.text == "Fees are hidden until you arrive."]
    by_source = {(s.source_guid, s.start, s.end) for s in fees}
    assert len(by_source) == 2  # Internals\\Interviews\\Interview 01 and Files\\Round 1\\Interview 01
    assert len(fees) == 1 + 4  # V2 once; Clinic, Access (References 2-3), Hidden fees


def test_placer_prefers_the_occurrence_after_the_previous_reference() -> None:
    placer = SourcePlacer("yes. no. yes. no. yes.")
    first = placer.place("yes.", (-1, -1), set())
    assert first is not None and first.start == 0
    placed = placer.place("yes.", (6, 8), set())
    assert placed is not None and placed.start == 9
    again = placer.place("yes.", (9, 13), {(9, 13)})
    assert again is not None and again.start == 18
    back = placer.place("yes.", (20, 22), {(18, 22)})
    assert back is not None and back.start == 9  # nothing after: the nearest before
    inside = placer.place("ye", (0, 4), set())
    assert inside is not None and inside.start == 9  # (0, 2) sorts before (0, 4): not "after"
    longer = placer.place("yes. no", (0, 4), set())
    assert longer is not None and longer.start == 0  # same start, ends later: after
    assert placer.place("maybe", (-1, -1), set()) is None


def _small_project() -> Project:
    text = "Line one about cost.\nLine two about trust.\n\nA passage ending with a newline.\n"
    cost, trust = Guid("c0000000-0000-0000-0000-000000000001"), Guid("c0000000-0000-0000-0000-000000000002")
    child = Guid("c0000000-0000-0000-0000-000000000003")

    def sel(n: int, start: int, end: int, code: Guid) -> TextSelection:
        guid = Guid(f"50000000-0000-0000-0000-{n:012d}")
        return TextSelection(
            guid=guid, start=start, end=end, codings=(Coding(guid=Guid(guid.replace("5", "6", 1)), code=code),)
        )

    selections = (
        sel(1, 0, 20, cost),
        sel(2, 0, 20, trust),  # same range, two codes
        sel(3, 21, 42, trust),
        sel(4, 21, 42, trust),  # same range and code twice (two coders): "References 2-3"
        sel(5, 44, len(text), child),  # ends with "\n"
        sel(6, 20, 44, child),  # starts and ends with newlines
    )
    source = TextSource(guid=Guid("d0000000-0000-0000-0000-000000000001"), name="Doc: A?", text=text,
                        selections=selections)  # fmt: skip
    codes = (
        Code(guid=cost, name="Cost", children=(Code(guid=child, name="Newlines"),)),
        Code(guid=trust, name="Trust"),
    )
    return Project(name="small", codes=codes, sources=(source,))


@pytest.mark.parametrize("variant", ["V3", "V4"])
def test_round_trip_small_project(variant: str) -> None:
    project = _small_project()
    files = export_files(project, variant)
    assert sorted(files) == ["Cost.txt", "Cost/Newlines.txt", "Trust.txt"]
    for name, data in files.items():
        parsed = parse_text(data, label=name)
        assert parsed.variant == variant
        assert parsed.found == parsed.declared
    rebuilt = rebuild(files, {"Doc~ A~.txt": project.sources[0].text.encode()}, ReadOptions())  # type: ignore[union-attr]
    assert _spans(rebuilt) == _spans(project)


def test_v4_bytes_follow_the_grammar() -> None:
    data = export_files(_small_project(), "V4")["Trust.txt"]
    assert data.startswith(b"\xff\xfe")
    text = data.decode("utf-16")
    assert text.startswith("<Files\\\\Doc: A?> - § 3 references coded [")
    assert "\r\n\r\nReferences 2-3 - " in text
    assert "\n" not in text.replace("\r\n", "")


def _study_texts(project: Project) -> dict[str, bytes]:
    return {
        f"{s.name}.txt": (doc.text or "").encode("utf-8") for s in project.sources for doc in text_docs(s)
    }


@pytest.mark.parametrize("variant", ["V3", "V4"])
def test_round_trip_bundled_study(variant: str) -> None:
    path = STUDY / "project.qdpx"
    if not path.exists():
        pytest.skip("bundled study not generated")
    project = qdx.read(path)
    files = export_files(project, variant)
    rebuilt = rebuild(files, _study_texts(project), ReadOptions(label=variant))
    assert _spans(rebuilt) == _spans(project)
    assert not [i for i in rebuilt.provenance.issues if i.severity is Severity.ERROR]  # type: ignore[union-attr]


def test_cli_convert_with_sources_and_folder_output(tmp_path: Path) -> None:
    from qdx.cli import main

    runner = CliRunner()
    out = tmp_path / "rebuilt.qdpx"
    result = runner.invoke(main, ["convert", str(FX / "export"), str(out), "--sources", str(FX / "sources")])
    assert result.exit_code == 0, result.output
    assert "Clinic leaflet: QDX404 source text not found" in result.output
    folder = tmp_path / "v4"
    result = runner.invoke(main, ["convert", str(out), f"{folder}/", "--to", "nvivo-text", "--dialect", "nvivo"])
    assert result.exit_code == 0, result.output
    assert (folder / "Access.txt").read_bytes().startswith(b"\xff\xfe")
    back = tmp_path / "back.qdpx"
    result = runner.invoke(main, ["convert", str(folder), str(back), "--sources", str(FX / "sources")])
    assert result.exit_code == 0, result.output
    text_spans = Counter(k for k in _spans(qdx.read(out)) if k[1] is not None)
    assert Counter(k for k in _spans(qdx.read(back)) if k[1] is not None) == text_spans


def test_cli_unplaced_reference_exits_1(tmp_path: Path) -> None:
    from qdx.cli import main

    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "Bad.txt").write_bytes((FX / "mismatch.txt").read_bytes())
    result = CliRunner().invoke(
        main, ["convert", str(folder), str(tmp_path / "o.qdpx"), "--sources", str(FX / "sources")]
    )
    assert result.exit_code == 1
    assert "exp/Bad.txt:7" in result.output and "QDX402" in result.output


def test_folder_skips_files_that_are_not_exports() -> None:
    import io

    import docx

    document = docx.Document()
    document.add_paragraph("Minutes of the meeting")
    buffer = io.BytesIO()
    document.save(buffer)
    road = (FX / "export" / "Road.txt").read_bytes()
    files = {"Road.txt": road, "minutes.docx": buffer.getvalue(), "LICENSE": b"MIT"}
    project = rebuild(files, None, ReadOptions())
    skipped = sorted(i.location or "" for i in project.provenance.issues if i.code == "QDX409")  # type: ignore[union-attr]
    assert skipped == ["LICENSE", "minutes.docx"]
    assert [c.name for c in project.codes] == ["Road"]
