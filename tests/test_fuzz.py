"""Fuzzing the readers: mutated real files end in a Project or a QdxError, never anything else.

Seeds are the bundled study and the NVivo .docx fixture (always) and the vendor samples under
../shared (when present).
The mutations (tests/_fuzz_mutate.py) are bit flips, truncation, byte-range deletion and
duplication on the stored bytes, and element deletion, duplication, moving, deep nesting,
attribute and text corruption on the XML (inside the zip, re-zipped, and on bare .qde/.qdc).

CI settings are deterministic and bounded (``derandomize=True``, no example database, a few
hundred examples in ~20 s); ``scripts/fuzz.py`` runs the same mutations for tens of thousands.
The regression tests at the end pin each crash the long runs found.
"""

from __future__ import annotations

import io
import re
import struct
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qdx
from qdx.errors import QdxError, ReadError, UnsafeInputError
from tests.conftest import STUDY, load_module, refi_sample_files


def _load_mutations() -> ModuleType:
    return load_module(Path(__file__).parent / "_fuzz_mutate.py", "_fuzz_mutate")


fm = _load_mutations()

# Small and medium seeds keep CI fast; the 1-2 MB NVivo samples are left to scripts/fuzz.py.
CI_SEED_LIMIT = 200_000
SEEDS = [
    fm.Seed(p.name, p.read_bytes())
    for p in [
        *refi_sample_files(),
        *sorted(STUDY.glob("*.qdpx")),
        *sorted(STUDY.glob("*.qdc")),
        *sorted((STUDY.parent / "nvivo").rglob("*.docx")),  # NVivo Office export (coded text)
    ]
    if p.stat().st_size <= CI_SEED_LIMIT
]
ZIP_SEEDS = [s for s in SEEDS if s.is_zip]

CI = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

u32 = st.integers(min_value=0, max_value=2**32 - 1)


def ops_of(kinds: tuple[str, ...]) -> st.SearchStrategy[list[tuple[str, int, int, int]]]:
    return st.lists(st.tuples(st.sampled_from(kinds), u32, u32, u32), min_size=1, max_size=3)


def assert_project_or_qdx_error(seed: fm.Seed, data: bytes, *, deep: bool = False) -> None:
    with tempfile.TemporaryDirectory() as folder:
        outcome = fm.check(data, seed.name, folder, deep=deep)
    assert outcome == "project" or outcome.startswith("error:")


def test_seeds_are_read_unmutated() -> None:
    """Without mutation every seed is a project (else the fuzz tests prove nothing)."""
    assert len(SEEDS) >= 3
    for seed in SEEDS:
        with tempfile.TemporaryDirectory() as folder:
            assert fm.check(seed.data, seed.name, folder, deep=True) == "project", seed.name


@CI
@given(seed=st.sampled_from(ZIP_SEEDS), ops=ops_of(fm.BYTE_KINDS))
def test_zip_bytes_mutations(seed: fm.Seed, ops: list[tuple[str, int, int, int]]) -> None:
    """Bit flips, truncation, deleted or repeated byte ranges anywhere in a .qdpx."""
    assert_project_or_qdx_error(seed, fm.apply(seed, ops))


@CI
@given(seed=st.sampled_from(SEEDS), ops=ops_of(fm.XML_KINDS + fm.XML_BYTE_KINDS))
def test_xml_mutations(seed: fm.Seed, ops: list[tuple[str, int, int, int]]) -> None:
    """Deleted, duplicated, misplaced, deeply nested elements and corrupt attributes, then the
    user's next steps (summary, segments, write and re-read) on whatever was read."""
    assert_project_or_qdx_error(seed, fm.apply(seed, ops), deep=True)


@CI
@given(seed=st.sampled_from(ZIP_SEEDS), ops=ops_of(fm.ZIP_KINDS + fm.XML_KINDS))
def test_zip_member_mutations(seed: fm.Seed, ops: list[tuple[str, int, int, int]]) -> None:
    """Members deleted, duplicated, renamed (zip slip, second .qde) or with damaged bytes."""
    assert_project_or_qdx_error(seed, fm.apply(seed, ops), deep=True)


def test_mutations_do_change_the_input() -> None:
    """A mutation engine that returned its seed would make every test above pass vacuously."""
    seed = next(s for s in SEEDS if s.name == "project.qdpx")
    for kind in fm.ALL_KINDS:
        if kind not in fm.TEXT_KINDS:
            assert fm.apply(seed, [(kind, 12345, 678, 9)]) != seed.data, kind
    export = STUDY.parent / "nvivo" / "export" / "Access.txt"
    text = fm.Seed(export.name, export.read_bytes())
    for kind in fm.TEXT_KINDS:
        assert fm.apply(text, [(kind, 12345, 678, 9)]) != text.data, kind


@pytest.mark.parametrize("kind", ["xml-late-doctype", "xml-reencode", "zip-method", "zip-alias", "xml-same-path"])
def test_issue15_shapes_end_in_a_project_or_a_qdx_error(kind: str) -> None:
    """The mutation shapes issue 15 added, on the bundled study, a few parameters each."""
    seed = next(s for s in SEEDS if s.name == "project.qdpx")
    for b in range(4):
        assert_project_or_qdx_error(seed, fm.apply(seed, [(kind, 3, b, 5)]), deep=False)


@pytest.mark.parametrize("kind", ["text-range", "text-deep-code", "text-many-refs"])
def test_issue15_text_shapes_end_in_a_project_or_a_qdx_error(kind: str) -> None:
    export = STUDY.parent / "nvivo" / "export" / "Access.txt"
    seed = fm.Seed(export.name, export.read_bytes())
    for b in (0, 1, 2, 2999):
        assert_project_or_qdx_error(seed, fm.apply(seed, [(kind, 1, b, 5)]), deep=False)


# --------------------------------------------------------------------------- regressions


def _zip_one(data: bytes, name: str = "project.qde") -> bytearray:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return bytearray(out.getvalue())


PROJECT = b'<Project name="x" xmlns="urn:QDA-XML:project:1.0"><Users/></Project>' * 1


def test_regression_corrupt_deflate_stream_is_a_read_error() -> None:
    """fuzz.py crash 1: zipfile let zlib.error escape SafeZip.read (not a QdxError)."""
    raw = _zip_one(PROJECT)
    name_len, extra_len = struct.unpack("<HH", raw[26:30])
    raw[30 + name_len + extra_len] = 0x07  # deflate block type 11: reserved, "invalid block type"
    with pytest.raises(ReadError, match=r"project\.qde: zip entry cannot be read"):
        qdx.read(io.BytesIO(bytes(raw)), fmt="qdpx")


@pytest.mark.parametrize("method", [12, 14])  # bzip2, LZMA: decompressors with their own errors
def test_regression_wrong_compression_method_is_a_read_error(method: int) -> None:
    """Once decompressor errors leaked; now the methods are refused before any inflating
    (they inflate without an output bound, issue 15)."""
    raw = _zip_one(PROJECT)
    central = raw.find(b"PK\x01\x02")
    raw[8:10] = raw[central + 10 : central + 12] = struct.pack("<H", method)
    with pytest.raises(QdxError, match="only stored or deflate"):
        qdx.read(io.BytesIO(bytes(raw)), fmt="qdpx")


def test_regression_unsupported_zip_version_is_a_read_error() -> None:
    """fuzz crash: a flipped "version needed to extract" made zipfile.ZipFile() raise
    NotImplementedError ("zip file version 8.4") out of SafeZip."""
    raw = _zip_one(PROJECT)
    central = raw.find(b"PK\x01\x02")
    raw[central + 6 : central + 8] = struct.pack("<H", 84)
    with pytest.raises(ReadError, match="not a readable zip archive"):
        qdx.read(io.BytesIO(bytes(raw)), fmt="qdpx")


# Office files (NVivo exports): damaged parts must not leak lxml/ElementTree/openpyxl errors.

DOCX = STUDY.parent / "nvivo" / "docx" / "Access.docx"


def _rezip(data: bytes, change: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change.get(info.filename, src.read(info)))
    return out.getvalue()


def _read_as(data: bytes, name: str) -> object:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        return qdx.read(path)


@pytest.mark.parametrize("part", ["word/document.xml", "word/styles.xml", "[Content_Types].xml"])
def test_regression_malformed_office_part_is_a_read_error_with_location(part: str) -> None:
    """fuzz crash: python-docx raised lxml's XMLSyntaxError (not a QdxError)."""
    data = DOCX.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        truncated = archive.read(part)[:-40]
    with pytest.raises(ReadError, match=rf"Access\.docx!{re.escape(part)}:\d+: malformed XML"):
        _read_as(_rezip(data, {part: truncated}), "Access.docx")


def test_regression_docx_without_body_is_a_read_error() -> None:
    """fuzz crash: deleting <w:body> made python-docx fail later with AttributeError."""
    data = DOCX.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        document = archive.read("word/document.xml")
    bodiless = re.sub(rb"<w:body>.*</w:body>", b"", document, flags=re.DOTALL)
    assert bodiless != document
    with pytest.raises(ReadError, match="no body"):
        _read_as(_rezip(data, {"word/document.xml": bodiless}), "Access.docx")


def _xlsx(change: Callable[[str, bytes], bytes]) -> bytes:
    from openpyxl import Workbook

    buffer = io.BytesIO()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"], sheet["B1"], sheet["A2"], sheet["B2"] = "Name", "Description", "x", "y"
    book.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        parts = {name: change(name, archive.read(name)) for name in archive.namelist()}
    return _rezip(buffer.getvalue(), parts)


def test_regression_workbook_without_sheets_is_a_read_error() -> None:
    """fuzz crash: worksheets[0] raised IndexError when no <sheet> was left."""

    def no_sheets(name: str, data: bytes) -> bytes:
        return re.sub(rb"<sheet [^>]*/>", b"", data) if name == "xl/workbook.xml" else data

    with pytest.raises(ReadError, match="no worksheet"):
        _read_as(_xlsx(no_sheets), "list.xlsx")


OPENPYXL_DAMAGE = {
    # OSError "File contains no valid workbook part": no part has the workbook content type.
    "[Content_Types].xml": (b"spreadsheetml.sheet.main+xml", b"x-nothing"),
}


def test_regression_huge_style_index_is_read() -> None:
    """fuzz crash: a huge style index raised IndexError ("cannot fit 'int' into an index-sized
    integer") in openpyxl's full load. The sheet is now streamed (issue 15), where a style
    only marks dates: the value reads as it is."""
    from qdx.model import Project

    def damage(name: str, data: bytes) -> bytes:
        old, new = b'<c r="A1" t=', b'<c r="A1" s="99999999999999999999999" t='
        if name != "xl/worksheets/sheet1.xml":
            return data
        assert old in data
        return data.replace(old, new)

    assert isinstance(_read_as(_xlsx(damage), "list.xlsx"), Project)


@pytest.mark.parametrize("part", sorted(OPENPYXL_DAMAGE))
def test_regression_openpyxl_errors_are_read_errors(part: str) -> None:
    """fuzz crash: openpyxl raised OSError / IndexError, which open_xlsx did not catch."""
    old, new = OPENPYXL_DAMAGE[part]

    def damage(name: str, data: bytes) -> bytes:
        if name != part:
            return data
        assert old in data
        return data.replace(old, new)

    with pytest.raises(ReadError, match="Excel workbook cannot be read"):
        _read_as(_xlsx(damage), "list.xlsx")


def test_regression_codebook_row_shorter_than_header_is_read() -> None:
    """fuzz crash: a Codebook.docx row with fewer cells than the header raised IndexError."""
    import docx

    document = docx.Document()
    table = document.add_table(rows=3, cols=2)
    for row, (name, description) in zip(table.rows, [("Name", "Description"), ("Alpha", "a"), ("Beta", "b")],
                                        strict=True):
        row.cells[0].text, row.cells[1].text = name, description
    last = table.rows[2]._tr
    last.remove(last.tc_lst[-1])  # Beta loses its Description cell
    buffer = io.BytesIO()
    document.save(buffer)
    project = _read_as(buffer.getvalue(), "Codebook.docx")
    assert [c.name for c in project.codes] == ["Alpha", "Beta"]  # type: ignore[attr-defined]


def test_regression_control_characters_in_member_names_are_refused_on_one_line() -> None:
    """fuzz crash: a flipped central directory put a newline in a member name, and the error
    location echoed it, so `qdx` printed a two-line error."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as archive:
        archive.writestr("project.qde", PROJECT)
        archive.writestr("sources/a\n.txt", b"x")
    with pytest.raises(UnsafeInputError, match="control characters") as caught:
        qdx.read(io.BytesIO(raw.getvalue()), fmt="qdpx")
    assert "\n" not in str(caught.value) and "a\\x0a.txt" in str(caught.value)


def test_regression_bad_attribute_value_in_docx_is_a_read_error() -> None:
    """fuzz crash: python-docx parses attribute values lazily, so an indent of "may" raised
    ValueError from deep inside the codebook reader."""
    import docx
    from docx.shared import Twips

    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Name", "Description"
    table.rows[1].cells[0].text, table.rows[1].cells[1].text = "Alpha", "a"
    table.rows[1].cells[0].paragraphs[0].paragraph_format.left_indent = Twips(450)
    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        xml = archive.read("word/document.xml")
    assert b'w:left="450"' in xml
    assert _read_as(buffer.getvalue(), "Codebook.docx").codes  # type: ignore[attr-defined]
    damaged = _rezip(buffer.getvalue(), {"word/document.xml": xml.replace(b'w:left="450"', b'w:left="may"')})
    with pytest.raises(ReadError, match=r"Codebook\.docx: document cannot be read"):
        _read_as(damaged, "Codebook.docx")


def test_regression_relationships_part_with_another_root_is_a_read_error() -> None:
    """fuzz crash: python-docx raised AttributeError ('Relationship_lst') on a well-formed
    relationships part whose root is not <Relationships>."""
    data = _rezip(DOCX.read_bytes(), {"word/_rels/document.xml.rels": b'<?xml version="1.0"?><Other/>'})
    with pytest.raises(ReadError, match="Word document cannot be read"):
        _read_as(data, "Access.docx")


def test_regression_huge_matrix_cell_is_a_read_error(tmp_path: Path) -> None:
    """fuzz crash: a matrix cell of 10^23 overflowed pandas' int64 (OverflowError)."""
    from click.testing import CliRunner

    from qdx.cli import main

    matrix = tmp_path / "matrix.xlsx"
    result = CliRunner().invoke(main, ["matrix", str(STUDY / "project.qdpx"), "--layout", "nvivo", "-o", str(matrix)])
    assert result.exit_code == 0, result.output
    data = matrix.read_bytes()
    assert _read_as(data, "matrix.xlsx").provenance.fmt == "nvivo-matrix-xlsx"  # type: ignore[attr-defined]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    huge = re.sub(rb"<v>\d+</v>", b"<v>99999999999999999999999</v>", sheet, count=1)
    assert huge != sheet
    with pytest.raises(ReadError, match="document cannot be read"):
        _read_as(_rezip(data, {"xl/worksheets/sheet1.xml": huge}), "matrix.xlsx")


def test_regression_relationship_without_target_is_a_read_error() -> None:
    """fuzz crash: python-docx raised TypeError (os.path.join with None) for a relationship
    without a Target attribute."""
    data = DOCX.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        rels = archive.read("word/_rels/document.xml.rels")
    targetless = re.sub(rb' Target="[^"]*"', b"", rels, count=1)
    assert targetless != rels
    with pytest.raises(ReadError, match="Word document cannot be read"):
        _read_as(_rezip(data, {"word/_rels/document.xml.rels": targetless}), "Access.docx")


def test_regression_xml_lxml_accepts_but_expat_refuses_reads() -> None:
    """fuzz crash: a BOM inside an element name passes lxml (the well-formedness check) but
    openpyxl's expat raised ElementTree's ParseError, a SyntaxError. Since issue 15 qdx reads
    the sheet's rows with lxml itself (openpyxl parses the other parts with lxml too), so the
    file that passed the check now reads, values and all."""

    def bom_in_name(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        assert b"<pageMargins" in data
        return data.replace(b"<pageMargins", b"<pageM\xef\xbb\xbfargins")

    project = _read_as(_xlsx(bom_in_name), "list.xlsx")
    assert isinstance(project, qdx.Project)
    # Read as it is without the BOM: one case "x" whose one variable holds "y".
    assert [(c.name, [v.value for v in c.variable_values]) for c in project.cases] == [("x", ["y"])]


def test_office_guard_converts_library_errors_but_not_qdx_bugs() -> None:
    """The NVivo readers' guard: an exception from inside openpyxl/python-docx is damaged
    input (ReadError); one raised in qdx's own code is a bug and must stay visible."""
    from openpyxl.utils.cell import get_column_letter

    from qdx.formats import ReadOptions
    from qdx.formats.nvivo import _contained

    def library_chokes(source: object, options: ReadOptions) -> qdx.Project:
        get_column_letter(None)  # type: ignore[arg-type]  # TypeError raised inside openpyxl
        raise AssertionError("unreachable")

    def qdx_bug(source: object, options: ReadOptions) -> qdx.Project:
        raise TypeError("a bug in qdx")

    with pytest.raises(ReadError, match=r"^in\.xlsx: document cannot be read"):
        _contained(library_chokes)(None, ReadOptions(label="in.xlsx"))
    with pytest.raises(TypeError, match="a bug in qdx"):
        _contained(qdx_bug)(None, ReadOptions(label="in.xlsx"))


def test_regression_document_part_with_another_root_is_a_read_error() -> None:
    """fuzz crash: when word/document.xml's root is not <w:document> (here: a renamed root),
    python-docx hands back a plain element without .body (AttributeError)."""
    data = DOCX.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        document = archive.read("word/document.xml")
    renamed = document.replace(b"<w:document ", b"<w:documenx ", 1).replace(b"</w:document>", b"</w:documenx>")
    assert renamed != document
    with pytest.raises(ReadError, match="no body"):
        _read_as(_rezip(data, {"word/document.xml": renamed}), "Access.docx")


def test_regression_forged_row_number_does_not_hang() -> None:
    """fuzz hang: an empty cell in a row numbered 2147483648 made openpyxl's iter_rows build
    a million empty rows (20 s, then an error); the sheet is read from its stored cells."""
    import time

    def far_row(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        assert b"</sheetData>" in data
        return data.replace(b"</sheetData>", b'<row r="2147483648"><c t="n"/></row></sheetData>')

    start = time.perf_counter()
    project = _read_as(_xlsx(far_row), "list.xlsx")
    assert time.perf_counter() - start < 5
    assert project is not None


def test_regression_huge_used_range_is_refused() -> None:
    """A real value in the last cell of the grid (XFD1048576) would need 17 billion cells."""

    def last_cell(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far</t></is></c></row>'
        return data.replace(b"</sheetData>", far + b"</sheetData>")

    with pytest.raises(UnsafeInputError, match="more than 5,000,000 cells"):
        _read_as(_xlsx(last_cell), "list.xlsx")
