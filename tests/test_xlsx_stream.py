"""The NVivo .xlsx readers stream the first sheet (issue 15): the values must be exactly those
openpyxl's full ``load_workbook(data_only=True)`` gives (the oracle), on the real NVivo
exports under ../shared and on a workbook holding every cell type, and a large sheet must
cost time and memory linear in its cells."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from qdx.formats import ReadOptions
from qdx.formats.nvivo.office import first_sheet
from tests.conftest import NVIVO_SAMPLES


def _oracle(data: bytes) -> tuple[str, dict[tuple[int, int], object], str]:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    sheet = workbook.worksheets[0]
    values = {key: cell.value for key, cell in sheet._cells.items() if cell.value is not None}
    return sheet.title, values, workbook.properties.subject or ""


def _streamed(data: bytes) -> tuple[str, dict[tuple[int, int], object], str]:
    sheet = first_sheet(data, ReadOptions(label="x.xlsx"))
    return sheet.title, {(r, c): v for r, c, v in sheet.cells}, sheet.subject


def _every_type() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Classification"
    sheet["A1"] = "Name"
    sheet["B1"] = 42
    sheet["C1"] = 3.25
    sheet["D1"] = True
    sheet["E1"] = dt.datetime(2021, 3, 4, 5, 6, 7)
    sheet["F1"] = dt.date(1999, 12, 31)
    sheet["G1"] = "  spaced text  "
    sheet["A3"] = "row after a gap"
    sheet["H7"] = "far cell"
    sheet["B2"] = 1e-7
    sheet["C2"] = -17
    sheet["D2"] = "朋友圈 😀"
    workbook.properties.subject = "NVivo matrix: Coding references"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_every_cell_type_matches_openpyxl() -> None:
    data = _every_type()
    assert _streamed(data) == _oracle(data)


@pytest.mark.parametrize(
    "path", sorted(NVIVO_SAMPLES.rglob("*.xlsx")) if NVIVO_SAMPLES.exists() else [], ids=lambda p: p.name
)
def test_real_nvivo_exports_match_openpyxl(path: Path) -> None:
    data = path.read_bytes()
    assert _streamed(data) == _oracle(data)


def test_large_sheet_is_linear() -> None:
    """4x the cells costs about 4x the time (quadratic would be 16x); CPU time, so other
    work on the machine does not count."""
    import sys
    import time

    sys.path.insert(0, str(Path(__file__).parent / "hostile"))
    from reading_cases import _rows, xlsx

    def seconds(n: int) -> float:
        import gc

        data = xlsx(_rows(n, '<c r="{ref}"><v>7</v></c>'), [])
        # The collector's passes grow with everything earlier tests left in this process,
        # which is not the reader's doing: timed without them, the reader alone.
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            sheet = first_sheet(data, ReadOptions(label="big.xlsx"))
            assert len(sheet.cells) == n
            return time.process_time() - start
        finally:
            gc.enable()

    small, large = seconds(25_000), seconds(100_000)
    assert large < 8 * small, (small, large)


def test_stored_cells_are_counted_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_STORED_CELLS a workbook is refused from a count of its <c> tags (the limit
    lowered here so the file stays small)."""
    import sys

    from qdx.errors import UnsafeInputError
    from qdx.formats.nvivo import office

    sys.path.insert(0, str(Path(__file__).parent / "hostile"))
    from reading_cases import _rows, xlsx

    monkeypatch.setattr(office, "MAX_STORED_CELLS", 999)
    with pytest.raises(UnsafeInputError, match="stores 1,000 cells"):
        first_sheet(xlsx(_rows(1000, '<x:c r="{ref}"><x:v>1</x:v></x:c>'), []), ReadOptions(label="x.xlsx"))


def test_odd_cell_shapes_match_openpyxl() -> None:
    """qdx reads the sheet's rows itself (lxml): every shape openpyxl's parse_cell handles must
    give what load_workbook gives -- missing references (counters), a row number written as
    a float, comments, inline strings, formula text, errors, booleans, ISO dates, a cell with
    a formula before its value, an empty cell, the last column."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "hostile"))
    from reading_cases import xlsx

    cells = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c t="s"><v>1</v></c><!-- note --><c><v>2.5</v></c></row>'
        '<row><c r="B2"><v>1E3</v></c><c r="C2" t="b"><v>1</v></c><c r="D2" t="e"><v>#N/A</v></c></row>'
        '<row r="4.0"><c r="A4" t="inlineStr"><is><t>inline</t></is></c><c r="B4" t="str"><f>A1</f><v>Name</v></c>'
        '<c r="C4" t="d"><v>2021-03-04T05:06:07</v></c><c r="D4"/><c r="AA4"><v>-17</v></c></row>'
        '<row><c><v>7</v></c><c t="inlineStr"/><c r="XFD5"><v>0</v></c></row>'
    )
    data = xlsx(cells, ["Name", "  spaced  "])
    assert _streamed(data)[1] == _oracle(data)[1]
    assert len(_streamed(data)[1]) == 12  # 3 + 3 + 4 + 2 non-empty cells, counted by hand
