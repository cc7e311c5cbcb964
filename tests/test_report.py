"""The report workbook: sheets, totals, formatting, formula safety, atomic writes, the CLI."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

import qdx
from qdx.errors import WriteError
from qdx.model import Code, Project
from qdx.report.excel import write_report, write_report_file
from qdx.report.safe import csv_text, is_risky, xlsx_text
from tests.conftest import load_module

HERE = Path(__file__).resolve().parent
STUDY = HERE.parent / "fixtures" / "wechat-moments" / "project.qdpx"
FORMULA = '=HYPERLINK("http://x","y")'


def _helper() -> ModuleType:
    return load_module(HERE / "_mx_projects.py", "_mx_projects")


mx = _helper()


@pytest.fixture(scope="module")
def gt_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "gt.xlsx"
    write_report_file(mx.gt(), path)
    return path


def test_sheets_present(gt_book: Path) -> None:
    names = load_workbook(gt_book).sheetnames
    for sheet in ("Overview", "Codebook", "Matrix", "Coverage", "Co-occurrence", "C-coefficient", "Segments",
                  "Cases", "Matrix by gender", "About"):
        assert sheet in names
    assert names[0] == "Overview" and names[-1] == "About"


def test_matrix_sheet_totals(gt_book: Path) -> None:
    ws = load_workbook(gt_book)["Matrix"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["main category", "subcategory", "concept"]
    assert header[-1] == "Total"
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    total_row = rows[-1]
    assert total_row[0] == "Total"
    body = rows[:-1]
    # Hand count from _mx_projects.CODINGS: 14 codings on concepts, 1 directly on "sub 4", which
    # gets its own row in tree order (before its concepts 7 and 8) with the concept cell blank.
    assert [r[2] for r in body] == [f"concept {i}" for i in range(1, 7)] + [None, "concept 7", "concept 8"]
    assert body[6][:2] == ["user factors", "sub 4"]
    assert [r[-1] for r in body] == [2, 2, 2, 2, 1, 1, 1, 2, 2]
    assert total_row[3:6] == [5, 5, 5]
    assert total_row[-1] == 15
    assert all(sum(r[3:-1]) == r[-1] for r in body)


def test_formatting(gt_book: Path) -> None:
    book = load_workbook(gt_book)
    for ws in book.worksheets:
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith("2"), ws.title
        assert ws["A1"].font.bold, ws.title
        if ws.max_row > 1:
            assert ws.auto_filter.ref, ws.title
    matrix = book["Matrix"]
    assert matrix.freeze_panes == "D2"
    assert matrix.conditional_formatting, "heat map"
    assert isinstance(matrix["D2"].value, int)  # numbers stored as numbers, not text (METHODS.md §D.4)
    assert book["Coverage"]["B2"].number_format == "0.0%"
    assert book["Co-occurrence"]["G2"].number_format == "0.000"
    codebook = book["Codebook"]
    levels = [codebook.row_dimensions[r].outline_level for r in range(2, codebook.max_row + 1)]
    assert levels[:4] == [0, 1, 2, 3]  # core, main, sub, concept: the tree folds
    assert codebook.column_dimensions["F"].width > 10
    segments = book["Segments"]
    assert segments["M1"].value == "text" and segments["M2"].alignment.wrap_text


def test_formula_text_is_stored_as_text_never_a_formula(gt_book: Path) -> None:
    ws = load_workbook(gt_book)["Segments"]
    texts = [c for c in ws["M"] if c.value == FORMULA]
    assert len(texts) == 1
    assert texts[0].data_type == "s"
    assert texts[0].quotePrefix
    with zipfile.ZipFile(gt_book) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


def test_overview_and_about(gt_book: Path) -> None:
    book = load_workbook(gt_book)
    facts = {r[0]: r[1] for r in book["Overview"].iter_rows(min_row=2, values_only=True)}
    assert facts["Codings (coded references)"] == 15
    assert facts["Codes at level: concept"] == 8
    assert facts["Codes at level: main category"] == 2
    assert facts["Coder: alice"] == 10 and facts["Coder: bob"] == 5
    about = {r[0]: r[1] for r in book["About"].iter_rows(min_row=2, values_only=True)}
    assert "c = n AB / (n A + n B" in about["Co-occurrence"]
    assert "Grand total 15 = the 15 codings" in about["Matrix"]


def test_coverage_sheet_matches_hand_count(gt_book: Path) -> None:
    ws = load_workbook(gt_book)["Coverage"]
    rows = {r[0]: r[1:] for r in ws.iter_rows(min_row=2, values_only=True)}
    project = mx.gt()
    text = project.sources[0].text or ""
    # Interview 1: platform concepts code sentences 1 and 2 (concepts 1, 3 on line 1; 2 on line 2).
    lines = mx.LINES[1]
    assert rows["platform factors"][0] == pytest.approx((len(lines[0]) + len(lines[1])) / len(text))


def test_report_does_not_mutate_the_project(tmp_path: Path) -> None:
    project = mx.gt()
    before = copy.deepcopy(project)
    write_report_file(project, tmp_path / "r.xlsx")
    assert project == before


def test_write_into_missing_folder_is_a_write_error(tmp_path: Path) -> None:
    with pytest.raises(WriteError):
        write_report_file(mx.gt(), tmp_path / "missing" / "r.xlsx")
    assert not (tmp_path / "missing").exists()


def test_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "r.xlsx"
    target.write_bytes(b"previous")

    class Boom(Exception):
        pass

    def explode(_name: str) -> None:
        if _name == "Saving":
            raise Boom

    with pytest.raises(Boom):
        write_report_file(mx.gt(), target, progress=explode)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]


def test_flat_codebook_without_levels(tmp_path: Path) -> None:
    report = write_report_file(mx.r1(), tmp_path / "r1.xlsx")
    assert report.matrix_total == report.codings == 6
    ws = load_workbook(tmp_path / "r1.xlsx")["Matrix"]
    # Not a grounded-theory tree: neutral level names, never "main category" (issue 16).
    assert [c.value for c in ws[1]] == ["Level 1", "D1", "D2", "Total"]


def test_empty_project_writes_a_workbook(tmp_path: Path) -> None:
    report = write_report_file(Project(name="empty"), tmp_path / "e.xlsx")
    assert report.matrix_total == 0 and "Matrix" in report.sheets


def test_hostile_code_names_and_control_characters(tmp_path: Path) -> None:
    project = mx.r1()
    evil = Code(guid=project.codes[0].guid, name="=cmd|' /C calc'!A0\x07")
    import dataclasses

    project = dataclasses.replace(project, codes=(evil, *project.codes[1:]))
    write_report_file(project, tmp_path / "h.xlsx")
    ws = load_workbook(tmp_path / "h.xlsx")["Matrix"]
    cell = ws["A2"]
    assert cell.data_type == "s" and cell.value.startswith("=cmd") and "\x07" not in cell.value


def test_safe_helpers() -> None:
    for risky in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert is_risky(risky) and csv_text(risky) == "'" + risky
    assert csv_text("plain") == "plain" and csv_text(5) == 5
    assert len(xlsx_text("x" * 40_000)) == 32_767
    assert xlsx_text("a\x00b") == "a\ufffdb"


def test_stream_api() -> None:
    import io

    buffer = io.BytesIO()
    report = write_report(mx.gt(), buffer)
    assert buffer.getvalue()[:2] == b"PK" and report.sheets[0] == "Overview"


# --------------------------------------------------------------------------- the bundled study and the CLI


def _study() -> Path:
    if not STUDY.exists():
        pytest.skip("bundled study fixture not built yet")
    return STUDY


def test_cli_report_on_the_study_matrix_total_equals_info_codings(tmp_path: Path) -> None:
    from qdx.cli import main

    out = tmp_path / "report.xlsx"
    runner = CliRunner()
    result = runner.invoke(main, ["report", str(_study()), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    info = runner.invoke(main, ["info", str(_study()), "--json"])
    assert info.exit_code == 0, info.output
    codings = json.loads(info.output)["codings"]
    assert data["matrix_total"] == data["codings"] == codings
    ws = load_workbook(out)["Matrix"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[-1][0] == "Total" and rows[-1][-1] == codings
    assert len(rows) - 2 == 40  # 40 concepts


def test_cli_report_refuses_non_xlsx_and_overwriting_input(tmp_path: Path) -> None:
    from qdx.cli import main

    runner = CliRunner()
    assert runner.invoke(main, ["report", str(_study()), "-o", str(tmp_path / "r.csv")]).exit_code == 2
    copy_path = tmp_path / "p.xlsx"
    shutil.copy(_study(), copy_path)
    assert runner.invoke(main, ["report", str(copy_path), "-o", str(copy_path)]).exit_code == 2


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_opens_the_report(gt_book: Path, tmp_path: Path) -> None:
    done = subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                           str(gt_book)], capture_output=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    pdf = tmp_path / "gt.pdf"
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")


def test_read_is_used_for_files(tmp_path: Path) -> None:
    path = tmp_path / "gt.qdpx"
    qdx.write(mx.gt(), path)
    from qdx.cli import main

    result = CliRunner().invoke(main, ["report", str(path), "-o", str(tmp_path / "g.xlsx")])
    assert result.exit_code == 0, result.output
    assert "Matrix total 15 of 15 codings" in result.output


def test_compare_adds_an_agreement_sheet(tmp_path: Path) -> None:
    from qdx.cli import main

    path = tmp_path / "gt.qdpx"
    qdx.write(mx.gt(), path)
    out = tmp_path / "c.xlsx"
    result = CliRunner().invoke(main, ["report", str(path), "--compare", str(path), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert "Agreement" in json.loads(result.output)["sheets"]
    ws = load_workbook(out)["Agreement"]
    header = [c.value for c in ws[1]]
    # notes are one merged cell, from column A (or after the repeated label columns): one value a row
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] is not None and r[1] is not None]
    kappas = [r[header.index("kappa (pooled)")] for r in rows]
    assert kappas and all(k == 1 for k in kappas)  # a project against itself agrees perfectly
    assert rows[-1][0] == "Overall"
