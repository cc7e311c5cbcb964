"""Reports cannot attack their readers: text that starts like a formula stays text.

Convention (qdx/cells.py): in ``.xlsx`` every text is a string cell, never a formula cell
(risky ones also carry Excel's quote prefix); in ``.csv`` a cell starting with ``= + - @``,
tab or CR gets a leading apostrophe, which spreadsheet apps show as text.

The project is built in memory with a segment text ``=HYPERLINK("http://x","y")`` and code,
source and user names starting with each risky character, written as .qdpx and run through
every command that writes a spreadsheet. The oracles are independent of qdx's writers: the
raw sheet XML of each workbook must hold no ``<f>`` (formula) element, openpyxl must see the
text as a string cell, and a CSV cell may start with a risky character only if it is a number.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import qdx
from qdx.cells import RISKY_START, csv_text, is_risky, set_text, xlsx_text
from qdx.cli import main
from qdx.model import Code, Coding, Guid, Project, TextSelection, TextSource, User

HYPERLINK = '=HYPERLINK("http://x","y")'
RISKY_NAMES = ("=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR")


def g(n: int) -> Guid:
    return Guid(f"{n:08x}-0000-4000-8000-000000000000")


def hostile_project() -> Project:
    text = HYPERLINK + " and then some ordinary words to code"
    codes = tuple(Code(guid=g(100 + i), name=name) for i, name in enumerate(RISKY_NAMES))
    selections = (
        TextSelection(guid=g(20), start=0, end=len(HYPERLINK),
                      codings=(Coding(guid=g(30), code=g(100), creating_user=g(1)),)),
        TextSelection(guid=g(21), start=len(HYPERLINK) + 1, end=len(text),
                      codings=tuple(Coding(guid=g(31 + i), code=g(101 + i), creating_user=g(2))
                                    for i in range(len(RISKY_NAMES) - 1))),
    )  # fmt: skip
    source = TextSource(guid=g(3), name="=SOURCE()", text=text, selections=selections)
    users = (User(guid=g(1), name="@ann"), User(guid=g(2), name="-bob"))
    return Project(name="=project", origin="test", users=users, codes=codes, sources=(source,))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("inject")
    project = folder / "hostile.qdpx"
    qdx.write(hostile_project(), project)
    runs = {
        "segments.csv": ["segments", str(project), "-o", str(folder / "segments.csv")],
        "s.xlsx": ["segments", str(project), "-o", str(folder / "s.xlsx")],
        "report.xlsx": ["report", str(project), "-o", str(folder / "report.xlsx")],
        "matrix.csv": ["matrix", str(project), "-o", str(folder / "matrix.csv")],
        "matrix.xlsx": ["matrix", str(project), "-o", str(folder / "matrix.xlsx")],
        "agree.xlsx": ["agree", str(project), "--coders", "@ann", "-bob", "-o", str(folder / "agree.xlsx")],
        "tables": ["export", str(project), str(folder / "tables"), "--to", "csv"],
    }
    runner = CliRunner()
    for name, args in runs.items():
        result = runner.invoke(main, args)
        assert result.exit_code in (0, 1), f"{name}: {result.output}"  # agree may report disagreement
        assert (folder / name).exists(), f"{name}: {result.output}"
    return {name: folder / name for name in runs}


# --------------------------------------------------------------------------- xlsx


def formula_elements(path: Path) -> list[str]:
    """Sheet XML elements ``<f>`` (formulas), read straight from the zip."""
    found = []
    with zipfile.ZipFile(path) as book:
        for name in book.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                found += [f"{name}: {m}" for m in re.findall(rb"<(?:\w+:)?f[ >/]", book.read(name))]
    return found


@pytest.mark.parametrize("name", ["s.xlsx", "report.xlsx", "matrix.xlsx", "agree.xlsx"])
def test_workbook_has_no_formula(outputs: dict[str, Path], name: str) -> None:
    assert formula_elements(outputs[name]) == []


@pytest.mark.parametrize("name", ["s.xlsx", "report.xlsx"])
def test_hyperlink_text_is_a_string_cell(outputs: dict[str, Path], name: str) -> None:
    from openpyxl import load_workbook

    book = load_workbook(outputs[name])
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value == HYPERLINK]
    assert cells, f"{HYPERLINK} not found in {name}"
    assert {c.data_type for c in cells} == {"s"}
    assert all(c.quotePrefix for c in cells)


def test_risky_code_names_are_string_cells_in_the_report(outputs: dict[str, Path]) -> None:
    from openpyxl import load_workbook

    book = load_workbook(outputs["report.xlsx"])
    values = {c.value: c for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    # CR is normalised away by XML attribute/text handling in some sheets; the rest must be there.
    for name in RISKY_NAMES[:5]:
        assert name in values, name
        assert values[name].data_type == "s" and values[name].quotePrefix, name


# --------------------------------------------------------------------------- csv


def csv_cells(path: Path) -> list[str]:
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    cells: list[str] = []
    for file in files:
        text = file.read_text(encoding="utf-8-sig")
        cells += [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    return cells


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name", ["segments.csv", "matrix.csv", "tables"])
def test_no_csv_cell_starts_like_a_formula(outputs: dict[str, Path], name: str) -> None:
    cells = csv_cells(outputs[name])
    assert cells
    assert [c for c in cells if c.startswith(RISKY_START) and not _number(c)] == []


def test_segments_csv_prefixes_the_hyperlink(outputs: dict[str, Path]) -> None:
    rows = list(csv.DictReader(io.StringIO(outputs["segments.csv"].read_text(encoding="utf-8-sig"), newline="")))
    texts = {row["text"] for row in rows}
    assert "'" + HYPERLINK in texts
    assert {row["source"] for row in rows} == {"'=SOURCE()"}


# --------------------------------------------------------------------------- the one helper


def test_cells_helper() -> None:
    from openpyxl import Workbook

    for text in RISKY_NAMES:
        assert is_risky(text) and csv_text(text) == "'" + text
    assert csv_text("plain") == "plain" and csv_text(-5) == -5 and not is_risky("a=b")
    assert xlsx_text("a\x00b\x1fc") == "a\ufffdb\ufffdc"
    assert len(xlsx_text("x" * 40_000)) == 32_767
    sheet = Workbook().active
    assert sheet is not None
    set_text(sheet["A1"], HYPERLINK)
    set_text(sheet["A2"], "plain")
    assert (sheet["A1"].data_type, sheet["A1"].value, sheet["A1"].quotePrefix) == ("s", HYPERLINK, True)
    assert (sheet["A2"].data_type, sheet["A2"].quotePrefix) == ("s", False)


def test_no_private_copies_of_the_rule() -> None:
    """One shared rule: no module outside qdx/cells.py spells the risky-start tuple itself."""
    root = Path(qdx.__file__).parent
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "cells.py" and re.search(r"""\(\s*["']=["']\s*,\s*["']\+["']""", p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_formula_oracle_sees_a_formula(tmp_path: Path) -> None:
    """The raw-XML oracle above would notice a formula cell (else it proves nothing)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = HYPERLINK  # openpyxl's default: a formula cell
    book.save(tmp_path / "f.xlsx")
    assert len(formula_elements(tmp_path / "f.xlsx")) == 1
