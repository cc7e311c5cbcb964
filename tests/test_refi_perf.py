"""Reader hot path (issue 9): interned references, shared locations, duplicate detection."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import qdx
from qdx.formats import ReadOptions
from qdx.formats.refi.package import read_qde
from qdx.formats.refi.reader import HEAD

NS = "urn:QDA-XML:project:1.0"


def _project(selections: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{NS}" name="p"><Sources>'
        '<TextSource guid="aaaaaaaa-0000-0000-0000-000000000001">'
        "<PlainTextContent>hello world, hello again</PlainTextContent>\n"
        f"{selections}\n</TextSource></Sources></Project>"
    ).encode()


SEL = (
    '<PlainTextSelection guid="{g}" startPosition="{s}" endPosition="{e}" creatingUser="{u}" '
    'creationDateTime="2024-01-01T00:00:00Z"><Coding guid="{c}" creatingUser="{u}" '
    'creationDateTime="2024-01-01T00:00:00Z"><CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>'
)
USER = "bbbbbbbb-0000-0000-0000-000000000001"
CODE = "cccccccc-0000-0000-0000-000000000001"


def test_duplicate_between_selection_and_its_coding_on_one_line() -> None:
    # Both elements share one location string; the duplicate must still be reported.
    sel = SEL.format(
        g="aaaaaaaa-0000-0000-0000-000000000002", s=0, e=5, u=USER, c="AAAAAAAA-0000-0000-0000-000000000002", code=CODE
    )
    project = qdx.read(io.BytesIO(_project(sel)))
    dups = [i for i in project.provenance.issues if i.code == "QDX003"]
    assert len(dups) == 1
    assert dups[0].location == "<input>:3"


def test_braced_and_upper_case_guids_are_duplicates() -> None:
    a = SEL.format(g="{DDDDDDDD-0000-0000-0000-000000000001}", s=0, e=5, u=USER, c="e1", code=CODE)
    b = SEL.format(g=" dddddddd-0000-0000-0000-000000000001 ", s=6, e=11, u=USER, c="e2", code=CODE)
    project = qdx.read(io.BytesIO(_project(a + "\n" + b)))
    assert sum(1 for i in project.provenance.issues if i.code == "QDX003") == 1
    # The spelling is kept (minus surrounding blanks), as before interning.
    sels = project.sources[0].selections
    assert [str(s.guid) for s in sels] == [
        "{DDDDDDDD-0000-0000-0000-000000000001}",
        "dddddddd-0000-0000-0000-000000000001",
    ]


def test_repeated_references_share_one_object() -> None:
    sels = "\n".join(
        SEL.format(
            g=f"aaaaaaaa-0000-0000-0000-00000000001{i}",
            s=i,
            e=i + 3,
            u=USER,
            c=f"eeeeeeee-0000-0000-0000-00000000001{i}",
            code=CODE,
        )
        for i in range(3)
    )
    project = qdx.read(io.BytesIO(_project(sels)))
    got = project.sources[0].selections
    assert len(got) == 3
    users = {id(s.creating_user) for s in got} | {id(s.codings[0].creating_user) for s in got}
    codes = {id(s.codings[0].code) for s in got}
    assert len(users) == 1 and len(codes) == 1
    assert got[0].codings[0].code == CODE.upper()  # still a Guid: case-insensitive equality
    assert got[1].codings[0].loc == got[1].loc == "<input>:4"


def test_blank_reference_is_reported_not_interned() -> None:
    sel = SEL.format(
        g="aaaaaaaa-0000-0000-0000-000000000002", s=0, e=5, u="  ", c="eeeeeeee-0000-0000-0000-000000000002", code="  "
    )
    project = qdx.read(io.BytesIO(_project(sel)))
    s = project.sources[0].selections[0]
    assert s.creating_user is None and s.codings[0].creating_user is None
    assert any(i.code == "QDX006" and "targetGUID" in i.message for i in project.provenance.issues)


class _OneWay(io.RawIOBase):
    """A non-seekable stream (a pipe), which the reader must read whole."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _many_selections(n: int) -> bytes:
    return _project(
        "\n".join(
            SEL.format(
                g=f"aaaaaaaa-0000-0000-0000-{i + 2:012d}",
                s=0,
                e=5,
                u=USER,
                c=f"eeeeeeee-0000-0000-0000-{i:012d}",
                code=CODE,
            )
            for i in range(n)
        )
    )


def test_file_stream_and_pipe_give_the_same_model(tmp_path: Path) -> None:
    data = _many_selections(50)
    path = tmp_path / "p.qde"
    path.write_bytes(data)
    from_file = qdx.read(path)  # seekable: parsed straight from the file
    from_pipe = qdx.read(io.BufferedReader(_OneWay(data)))  # not seekable: read whole first
    assert from_file.sources == from_pipe.sources
    assert len(from_file.sources[0].selections) == 50


def test_progress_reports_bytes_up_to_the_total(tmp_path: Path) -> None:
    data = _many_selections(20)
    path = tmp_path / "p.qde"
    path.write_bytes(data)
    seen: list[tuple[int, int]] = []
    with path.open("rb") as stream:
        read_qde(stream, ReadOptions(label="p.qde", progress=lambda done, total: seen.append((done, total))))
    assert seen, "progress was never called"
    assert all(total == len(data) for _, total in seen)
    assert all(0 < done <= total for done, total in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1] == (len(data), len(data))  # ends at 100 %


def test_marker_longer_than_the_head_is_read_whole(tmp_path: Path) -> None:
    # A qdx marker whose lf= list runs past the first MiB must still be honoured:
    # text 0 is listed last, so a cut-short marker would lose it.
    docs = ",".join(str(i) for i in range(1, 300_000)) + ",0"
    assert len(docs) > HEAD
    text = "ab\r\ncd"
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><!-- qdx: positions=codepoint lf={docs} -->\n'
        f'<Project xmlns="{NS}" name="p"><Sources><TextSource guid="aaaaaaaa-0000-0000-0000-000000000001">'
        f"<PlainTextContent>{text}</PlainTextContent></TextSource></Sources></Project>"
    ).encode()
    path = tmp_path / "p.qde"
    path.write_bytes(body)
    assert qdx.read(path).sources[0].text == "ab\ncd"  # LF restored: the marker was seen whole


def test_cli_load_with_a_progress_bar_reads_the_same_project(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from qdx.cli._common import load

    path = tmp_path / "p.qde"
    path.write_bytes(_many_selections(30))
    with_bar = load(str(path), progress=True)
    assert "reading p.qde" in capsys.readouterr().err
    assert with_bar.sources == load(str(path), progress=False).sources
    assert capsys.readouterr().err == ""


def test_cli_load_draws_no_bar_off_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from qdx.cli import _common

    path = tmp_path / "p.qde"
    path.write_bytes(_many_selections(3))
    monkeypatch.setattr(_common, "PROGRESS_MIN_BYTES", 0)  # every file counts as large
    # No bar when stderr is not a terminal (pytest captures it) ...
    assert not _common.auto_progress(str(path))
    # ... and none on a terminal either when the file is small.
    monkeypatch.setattr(_common.sys.stderr, "isatty", lambda: True, raising=False)
    assert _common.auto_progress(str(path))
    monkeypatch.setattr(_common, "PROGRESS_MIN_BYTES", 1 << 40)
    assert not _common.auto_progress(str(path))
    _common.load(str(path))
    assert capsys.readouterr().err == ""


MIXED = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{NS}" name="p">
<Users><User guid="{USER}" name="u"/></Users>
<Sources>
<TextSource guid="aaaaaaaa-0000-0000-0000-000000000001" name="one">
<Description>first</Description>
<PlainTextContent>hello world, hello again</PlainTextContent>
<PlainTextSelection guid="aaaaaaaa-0000-0000-0000-000000000002" startPosition="0" endPosition="5">
<Description>greeting</Description>
<Coding guid="aaaaaaaa-0000-0000-0000-000000000003"><CodeRef targetGUID="{CODE}"/></Coding>
<Coding guid="aaaaaaaa-0000-0000-0000-000000000004"><CodeRef targetGUID="{CODE}"/>
<NoteRef targetGUID="eeeeeeee-0000-0000-0000-000000000001"/></Coding>
<NoteRef targetGUID="eeeeeeee-0000-0000-0000-000000000001"/>
</PlainTextSelection>
<!-- a comment between selections -->
<PlainTextSelection guid="AAAAAAAA-0000-0000-0000-000000000001" startPosition="x" endPosition="11">
<Coding guid="aaaaaaaa-0000-0000-0000-000000000005"><CodeRef targetGUID="{CODE}"/></Coding></PlainTextSelection>
<PlainTextSelection guid="aaaaaaaa-0000-0000-0000-000000000006" startPosition="6"><Bogus/></PlainTextSelection>
<Coding guid="aaaaaaaa-0000-0000-0000-000000000007"><CodeRef targetGUID="{CODE}"/></Coding>
<NoteRef targetGUID="eeeeeeee-0000-0000-0000-000000000001"/>
</TextSource>
<PDFSource guid="bbbbbbbb-0000-0000-0000-000000000001" path="internal://x.pdf">
<Representation guid="bbbbbbbb-0000-0000-0000-000000000002"><PlainTextContent>rep text</PlainTextContent>
<PlainTextSelection guid="bbbbbbbb-0000-0000-0000-000000000003" startPosition="0" endPosition="3">
<Coding guid="bbbbbbbb-0000-0000-0000-000000000004"><CodeRef targetGUID="{CODE}"/></Coding></PlainTextSelection>
</Representation></PDFSource>
<TextSource guid="cccccccc-0000-0000-0000-000000000001" name="two"><PlainTextContent>abc</PlainTextContent>
<PlainTextSelection guid="aaaaaaaa-0000-0000-0000-000000000003" startPosition="0" endPosition="1">
<Coding guid="cccccccc-0000-0000-0000-000000000002"><CodeRef targetGUID="{CODE}"/></Coding></PlainTextSelection>
</TextSource>
</Sources>
<Notes><Note guid="eeeeeeee-0000-0000-0000-000000000001"><PlainTextContent>note</PlainTextContent>
<PlainTextSelection guid="eeeeeeee-0000-0000-0000-000000000002" startPosition="0" endPosition="4">
<Coding guid="eeeeeeee-0000-0000-0000-000000000003"><CodeRef targetGUID="{CODE}"/></Coding></PlainTextSelection>
</Note></Notes>
</Project>
"""


def test_streamed_selections_equal_the_whole_tree_read() -> None:
    # Selections are read (and freed) one by one as they end; notes', representations' and
    # misplaced sources' selections are read with their owners. Model, issues (duplicates
    # across a source and a selection, bad positions, unknown children) and their order must
    # be those of reading the parsed tree.
    from qdx.formats.refi._context import Context
    from qdx.formats.refi.reader import parse_xml, read_document
    from qdx.formats.refi.roots import read_root

    data = MIXED.encode()
    streamed, whole = Context(label="x"), Context(label="x")
    a = read_document(data, "x", streamed, ("Project",))
    b = read_root(parse_xml(data, "x"), whole, ("Project",))
    assert a == b
    assert streamed.issues == whole.issues and streamed.quirks == whole.quirks
    assert [s.loc for s in a.sources[0].selections] == ["x:8", "x:16", "x:18"]  # type: ignore[union-attr]
    codes = [i.code for i in streamed.issues]
    assert "QDX005" in codes and "QDX007" in codes
    # Duplicates: source/selection (case differs), coding/selection across sources, and the
    # PDF source reusing the user's GUID; each reported at the later of the two lines.
    dups = [(i.location, i.message.rpartition(" ")[2]) for i in streamed.issues if i.code == "QDX003"]
    assert dups == [("x:16", "x:5"), ("x:22", "x:3"), ("x:28", "x:10")]
    assert len(a.notes[0].selections) == 1
    assert a.sources[1].representation.selections[0].start == 0  # type: ignore[union-attr]


def test_a_source_outside_sources_is_not_streamed_as_one() -> None:
    extra = (
        '<Extra><TextSource guid="dddddddd-0000-0000-0000-000000000001"><PlainTextSelection '
        'guid="dddddddd-0000-0000-0000-000000000002" startPosition="0" endPosition="1"/></TextSource></Extra>\n'
    )
    data = MIXED.replace("</Project>", extra + "</Project>").encode()
    project = qdx.read(io.BytesIO(data))
    assert [str(s.guid)[:8] for s in project.sources] == ["aaaaaaaa", "bbbbbbbb", "cccccccc"]
    assert any(i.code == "QDX007" and "<Extra>" in i.message for i in project.provenance.issues)


def _odd_selection(i: int) -> str:
    """Every shape the batched fast loop must hand to the general reader, by turns."""
    g, c = f"aaaaaaaa-0000-0000-0001-{i:012d}", f"eeeeeeee-0000-0000-0001-{i:012d}"
    coding = f'<Coding guid="{c}"><CodeRef targetGUID="{CODE}"/></Coding>'
    shapes = [
        f'<PlainTextSelection guid="{{{g}}}" startPosition="0" endPosition="1">{coding}</PlainTextSelection>',
        f'<PlainTextSelection guid="{g}" startPosition="-1" endPosition="1">{coding}</PlainTextSelection>',
        f'<PlainTextSelection guid="{g}" startPosition="0" endPosition="z">{coding}</PlainTextSelection>',
        f'<PlainTextSelection guid="{g}" endPosition="3">{coding}</PlainTextSelection>',
        f'<PlainTextSelection guid="{g}" startPosition="0" endPosition="2"><!-- c -->{coding}</PlainTextSelection>',
        f'<PlainTextSelection guid="{g}" startPosition="0" endPosition="2"><Coding guid=" {c}">'
        f'<CodeRef targetGUID="{CODE}"/></Coding></PlainTextSelection>',
        f'<PlainTextSelection guid="{g}" startPosition="0" endPosition="2"><Coding guid="{c}"><CodeRef/></Coding>'
        "</PlainTextSelection>",
        f'<PlainTextSelection startPosition="0" endPosition="2">{coding}</PlainTextSelection>',
        f'<PlainTextSelection guid="{g}" startPosition="0" endPosition="2" creatingUser="" creationDateTime="">'
        f'<Coding guid="{c}" creatingUser="" creationDateTime=""><CodeRef targetGUID="{CODE}"/></Coding>'
        "</PlainTextSelection>",
        f'<PlainTextSelection guid="{g}" startPosition="1" endPosition="2" name="n" modifyingUser="{USER}" '
        f'modifiedDateTime="2024-02-02T00:00:00Z" xmlns:q="urn:q" q:guid="x">{coding}</PlainTextSelection>',
    ]
    return shapes[i % len(shapes)]


def _batch_document() -> bytes:
    from qdx.formats.refi.streaming import _Streamer

    n = 3 * _Streamer.BATCH + 7  # several batches and a ragged last one
    parts = []
    for i in range(n):
        if i % 97 == 0 or (_Streamer.BATCH - 3 <= i % _Streamer.BATCH or i % _Streamer.BATCH < 3):
            parts.append(_odd_selection(i))
        else:
            parts.append(
                SEL.format(
                    g=f"aaaaaaaa-0000-0000-0000-{i:012d}",
                    s=i % 5,
                    e=i % 5 + 3,
                    u=USER,
                    c=f"eeeeeeee-0000-0000-0000-{i:012d}",
                    code=CODE,
                )
            )
    return _project("\n".join(parts))


def test_batched_fast_loop_equals_the_general_reader_element_by_element() -> None:
    # Differential test: the hot loop (one keys()/values() per element, cached layouts) must
    # give what the general, child-by-child reader gives, records and issues, for every
    # shape, across batch boundaries.
    from qdx.formats.refi._context import Context
    from qdx.formats.refi.reader import parse_xml
    from qdx.formats.refi.selections import _text_selection, read_text_selections

    root = parse_xml(_batch_document(), "x")
    els = list(root.iter(f"{{{NS}}}PlainTextSelection"))
    fast, slow = Context(label="x"), Context(label="x")
    got = read_text_selections(els, fast)
    want = [_text_selection(el, slow) for el in els]
    assert got == want
    assert [s.loc for s in got] == [s.loc for s in want]
    assert [c.loc for s in got for c in s.codings] == [c.loc for s in want for c in s.codings]
    assert fast.issues == slow.issues and len(fast.issues) > 0
    assert fast.owned == slow.owned and fast.owned_at == slow.owned_at and fast.braced == slow.braced
    # The fast path fills records slot by slot: every field, compared or not, must be set.
    from dataclasses import fields

    for record in [*got, *(c for s in got for c in s.codings)]:
        for field in fields(record):
            assert hasattr(record, field.name), f"{type(record).__name__}.{field.name} left unset"


def test_batched_stream_equals_the_whole_tree_read() -> None:
    from qdx.formats.refi._context import Context
    from qdx.formats.refi.reader import parse_xml, read_document
    from qdx.formats.refi.roots import read_root

    data = _batch_document()
    streamed, whole = Context(label="x"), Context(label="x")
    a = read_document(data, "x", streamed, ("Project",))
    b = read_root(parse_xml(data, "x"), whole, ("Project",))
    assert a == b and streamed.issues == whole.issues
    assert len(a.sources[0].selections) == data.count(b"<PlainTextSelection ")  # type: ignore[union-attr]


def test_a_parsed_document_is_read_as_the_file(tmp_path: Path) -> None:
    # validate_file parses once and hands the tree to the reader (ReadOptions.parsed).
    from qdx.api import read_path
    from qdx.formats import ParsedDocument
    from qdx.formats.refi.reader import parse_xml

    package = Path(__file__).parent.parent / "fixtures" / "wechat-moments" / "project.qdpx"
    import zipfile

    with zipfile.ZipFile(package) as archive:
        data = archive.read("project.qde")
    done = ParsedDocument("project.qde", data, parse_xml(data, "p"))
    parsed = read_path(package, ReadOptions(label=package.name, parsed=done))
    plain = qdx.read(package)
    assert parsed == plain and parsed.sources == plain.sources
    assert parsed.provenance.issues == plain.provenance.issues  # type: ignore[union-attr]
    # A parsed document of another name is not this file's: ignored.
    stray = ParsedDocument("other.qde", b"<Project/>", parse_xml(b"<Project/>", "other.qde"))
    other = read_path(package, ReadOptions(label=package.name, parsed=stray))
    assert other == plain

    bare = tmp_path / "p.qde"
    bare.write_bytes(MIXED.encode())
    tree = parse_xml(MIXED.encode(), "p.qde")
    from_tree = read_path(bare, ReadOptions(label="p.qde", parsed=ParsedDocument("p.qde", MIXED.encode(), tree)))
    assert from_tree == qdx.read(bare)
    assert from_tree.provenance.issues == qdx.read(bare).provenance.issues  # type: ignore[union-attr]


def test_reading_leaves_the_collector_as_it_found_it() -> None:
    import gc

    frozen = [object() for _ in range(10)]
    gc.freeze()  # an application's own frozen objects (e.g. before fork) must stay frozen
    try:
        count = gc.get_freeze_count()
        qdx.read(io.BytesIO(_many_selections(20)))
        assert gc.isenabled() and gc.get_freeze_count() == count
    finally:
        gc.unfreeze()
    gc.disable()
    try:
        qdx.read(io.BytesIO(_many_selections(20)))
        assert not gc.isenabled()  # a caller that paused it keeps it paused
    finally:
        gc.enable()
    assert frozen


def test_sniffing_order_is_the_registry_order() -> None:
    # detect() walks iter_formats(), importing a package only when reached; that is only
    # right while each package's formats outrank those of the packages after it.
    from qdx.formats import iter_formats, registry

    assert list(iter_formats()) == list(registry())


def test_reading_a_refi_file_does_not_import_the_nvivo_readers(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "p.qde"
    path.write_bytes(_many_selections(3))
    code = f"import sys, qdx; qdx.read({str(path)!r}); print('qdx.formats.nvivo' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_zip_member_stream_rewinds_and_counts_against_the_limits() -> None:
    # A .qdpx's project.qde is parsed as it inflates (SafeZip.open), never whole in memory.
    import zipfile
    from dataclasses import replace

    from qdx.errors import UnsafeInputError
    from qdx.safety import SafeZip

    body = _many_selections(300)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", body)
    archive = SafeZip(io.BytesIO(packed.getvalue()), label="p.qdpx")
    with archive.open("project.qde") as stream:
        assert stream.size == len(body)
        assert stream.read(100) == body[:100] and stream.tell() == 100
        assert stream.seek(0) == 0 and stream.read() == body  # rewinding inflates again
        stream.seek(50)
        assert stream.read(10) == body[50:60]
        with pytest.raises(OSError):
            stream.seek(0, io.SEEK_END)  # would inflate it all: refused
        # The cap is counted on the inflated bytes as they come, not taken from the header.
        archive.limits = replace(archive.limits, max_member_size=len(body) // 2)
        stream.seek(0)
        with pytest.raises(UnsafeInputError, match=r"p\.qdpx!project\.qde"):
            stream.read()
