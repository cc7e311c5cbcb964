"""Position units decided on all the evidence, and segments that never show a shifted passage.

Small projects (three selections whose range depends on the unit) are written in one unit
under an ``origin`` that suggests another. Expected passages are the words the test placed, so
the oracle is the construction itself: read, the project shows exactly those words, or an
Issue names the unit question (never a silent shift).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import qdx
from qdx.cli import main
from qdx.model import TextSelection, TextSource
from qdx.segment import segments
from qdx.validation import validate

NS = "urn:QDA-XML:project:1.0"
WORDS = ("there", "again", "left")
# Every unit counts this text differently: emoji (UTF-16: 2) and CRLF (ATLAS.ti: 1).
TEXT = "Hi 😀 there.\r\nWe met 😀 again.\r\nThen 😀 left.\r\nEnd."
ORIGINS = {"codepoint": "MAXQDA 24", "utf16": "NVivo for Windows 12.6", "codepoint-lf": "ATLAS.ti 23"}


def _offset(text: str, cp: int, unit: str) -> int:
    head = text[:cp]
    if unit == "utf16":
        return len(head.encode("utf-16-le")) // 2
    if unit == "codepoint-lf":
        return cp - head.count("\r\n")
    return cp


def _project(unit: str, origin: str, words: tuple[str, ...] = WORDS) -> bytes:
    sels = []
    for n, word in enumerate(words):
        cp = TEXT.index(word)
        start, end = _offset(TEXT, cp, unit), _offset(TEXT, cp + len(word), unit)
        sels.append(
            f'<PlainTextSelection guid="{n:08x}-0000-4000-8000-00000000abcd" startPosition="{start}" '
            f'endPosition="{end}"><Coding guid="{n:08x}-0000-4000-8000-0000000000cc">'
            '<CodeRef targetGUID="bbbbbbbb-0000-0000-0000-000000000003"/></Coding></PlainTextSelection>'
        )
    text = TEXT.replace("\r", "&#13;")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{NS}" name="t" origin="{origin}">
<CodeBook><Codes><Code guid="bbbbbbbb-0000-0000-0000-000000000003" name="c" isCodable="true"/></Codes></CodeBook>
<Sources><TextSource guid="aaaaaaaa-0000-0000-0000-000000000001" name="doc">
<PlainTextContent>{text}</PlainTextContent>{"".join(sels)}</TextSource></Sources></Project>""".encode()


CASES = [(unit, origin) for unit in ORIGINS for other, origin in ORIGINS.items() if other != unit]


@pytest.mark.parametrize(("unit", "origin"), CASES)
def test_wrong_origin_gives_no_shifted_passage(unit: str, origin: str) -> None:
    project = qdx.read(io.BytesIO(_project(unit, origin)), fmt="qde")
    source = project.sources[0]
    assert isinstance(source, TextSource) and source.text == TEXT
    passages = tuple(source.text[s.start : s.end] for s in source.selections)
    assert project.provenance is not None
    suggested = next(u for u, o in ORIGINS.items() if o == origin)
    issues = [i for i in project.provenance.issues if i.code == "QDX008"]
    named = [i for i in issues if unit in i.message and suggested in i.message]
    # Every passage is the word placed there, and an Issue names the unit question.
    assert passages == WORDS, project.provenance.issues
    assert project.provenance.position_unit == unit
    assert named, project.provenance.issues


@pytest.mark.parametrize("unit", list(ORIGINS))
def test_right_origin_reads_quietly(unit: str) -> None:
    project = qdx.read(io.BytesIO(_project(unit, ORIGINS[unit])), fmt="qde")
    source = project.sources[0]
    assert isinstance(source, TextSource) and source.text is not None
    assert tuple(source.text[s.start : s.end] for s in source.selections) == WORDS
    assert project.provenance is not None and not project.provenance.issues


def test_nvivo_positions_under_another_origin_never_end_past_the_text() -> None:
    # The last selection ends at the end of the text only when counted in UTF-16.
    project = qdx.read(io.BytesIO(_project("utf16", "MAXQDA 24", ("there", "again", "End."))), fmt="qde")
    source = project.sources[0]
    assert isinstance(source, TextSource) and source.text is not None
    assert all(0 <= s.start <= s.end <= len(source.text) for s in source.selections)
    assert [source.text[s.start : s.end] for s in source.selections] == ["there", "again", "End."]


def test_segments_never_show_text_validate_calls_out_of_range(tmp_path: Path) -> None:
    # Forced to code points, the UTF-16 offsets of "End." end past the text: validate says so
    # (QDX112) and segments must not show a clipped, shifted passage for it.
    path = tmp_path / "p.qde"
    path.write_bytes(_project("utf16", "NVivo 14", ("there", "again", "End.")))
    runner = CliRunner()
    shown = runner.invoke(main, ["segments", str(path), "--position-unit", "codepoint", "--json"])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.output)
    project = qdx.read(path, unit="codepoint")
    source = project.sources[0]
    assert isinstance(source, TextSource) and source.text is not None
    outside = {s.guid.key for s in source.selections if s.end > len(source.text)}
    assert outside  # the construction really puts one past the text
    flagged = {i.location for i in validate(project) if i.code == "QDX112"}
    assert len(flagged) == len(outside)
    for row in rows:
        if row["selection"] in outside:
            assert row["text"] is None
        else:
            assert row["text"] == source.text[row["start"] : row["end"]]
    assert all(seg.text is None for seg in segments(project) if seg.selection and seg.selection.key in outside)


# --------------------------------------------------------------------------- segments complete, in order


def test_segments_of_transcripts_and_pdf_regions_have_positions_and_text() -> None:
    from qdx.model import (
        AudioSource,
        Code,
        Coding,
        Guid,
        PDFSelection,
        PDFSource,
        Project,
        SyncPoint,
        Transcript,
        TranscriptSelection,
    )

    def g(n: int) -> Guid:
        return Guid(f"00000000-0000-4000-8000-{n:012d}")

    code = Code(guid=g(1), name="c")

    def coded(n: int) -> tuple[Coding, ...]:
        return (Coding(guid=g(500 + n), code=code.guid),)

    said = "Interviewer: hello.\nAnna: I never post.\n"
    points = (SyncPoint(guid=g(10), time_stamp=0, position=20), SyncPoint(guid=g(11), time_stamp=900, position=39))
    transcript = Transcript(
        guid=g(12),
        text=said,
        sync_points=points,
        selections=(TranscriptSelection(guid=g(13), from_sync_point=g(10), to_sync_point=g(11), codings=coded(1)),),
    )
    whole = "Page one text. The region says this. The end."
    region = PDFSelection(
        guid=g(20), page=1, first_x=0, first_y=0, second_x=5, second_y=5, codings=coded(2),
        representation=TextSource(guid=g(21), text="The region says this."),
    )
    lone = PDFSelection(
        guid=g(22), page=2, first_x=0, first_y=0, second_x=5, second_y=5, codings=coded(3),
        representation=TextSource(guid=g(23), text="Not in the whole text."),
    )
    # Stored out of document order: the second passage first.
    doc = TextSource(
        guid=g(30), name="t", text="alpha beta gamma",
        selections=(TextSelection(guid=g(31), start=6, end=10, codings=coded(4)),
                    TextSelection(guid=g(32), start=0, end=5, codings=coded(5))),
    )
    project = Project(
        codes=(code,),
        sources=(
            doc,
            AudioSource(guid=g(40), name="a", transcripts=(transcript,)),
            PDFSource(guid=g(41), name="p", selections=(lone, region),
                      representation=TextSource(guid=g(42), text=whole)),
        ),
    )
    got = [(s.source, s.start, s.end, s.text) for s in segments(project)]
    assert got == [
        ("t", 0, 5, "alpha"),
        ("t", 6, 10, "beta"),
        ("a", 20, 39, "Anna: I never post."),
        ("p", 15, 36, "The region says this."),
        ("p", None, None, "Not in the whole text."),
    ]


def test_a_region_with_text_but_no_place_in_the_pdf_text_counts_no_characters() -> None:
    # Found by the output-side fuzz run: such a region has text (segments show it) but no
    # start/end; when a text selection elsewhere repeats its GUID (quirk 13), the corpus took the
    # region for a passage of that text and the character measures tried int(<NA>). Hand count:
    # the region is no range of any text, so it adds 0 characters and 0 words; it is still a
    # reference. The text selection "alpha" (5 characters, 1 word) counts as usual.
    from qdx.model import Code, Coding, Guid, PDFSelection, PDFSource, Project, TextSelection

    def g(n: int) -> Guid:
        return Guid(f"00000000-0000-4000-8000-{n:012d}")

    code = Code(guid=g(1), name="c")
    lone = PDFSelection(
        guid=g(22), page=2, first_x=0, first_y=0, second_x=5, second_y=5,
        codings=(Coding(guid=g(503), code=code.guid),),
        representation=TextSource(guid=g(23), text="Not in the whole text."),
    )
    twin = TextSelection(guid=g(22), start=0, end=5, codings=(Coding(guid=g(504), code=code.guid),))
    text = TextSource(guid=g(30), name="t", text="alpha beta", selections=(twin,))
    project = Project(
        codes=(code,),
        sources=(PDFSource(guid=g(41), name="p", selections=(lone,),
                           representation=TextSource(guid=g(42), text="Page one text.")), text),
    )
    assert [s.text for s in segments(project)] == ["Not in the whole text.", "alpha"]
    assert qdx.matrix(project, value="references").to_numpy().tolist() == [[1, 1]]
    assert qdx.matrix(project, value="characters").to_numpy().tolist() == [[0, 5]]
    assert qdx.matrix(project, value="words").to_numpy().tolist() == [[0, 1]]
