"""Printed layout of the workbooks, read back from the written files (openpyxl).

The oracles are the page's geometry (A4 less the written margins, 96 px to the inch) and the
fonts' own metrics: LibreOffice, printing Arial with DejaVu Sans where Arial is missing, makes a
column width unit 8.47 px (measured: a width-50.71 column prints 322 pt wide at 100 %) and a
wrapped line 11.64 pt (DejaVu Sans' ascent plus descent at 10 pt); a line of text holds what a
greedy word wrap with the font file's advance widths puts on it. Nothing here comes from qdx's
own width estimates.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from qdx.cli import main

STUDY = Path(__file__).resolve().parent.parent / "fixtures" / "wechat-moments"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
LO_UNIT_PX = 8.47
LO_LINE_PT = 11.64
PAPER_IN = {"landscape": 11.69, "portrait": 8.27}


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if not (STUDY / "coder-b.qdpx").exists():
        pytest.skip("the bundled study is not generated")
    folder = tmp_path_factory.mktemp("print")
    a, b = str(STUDY / "project.qdpx"), str(STUDY / "coder-b.qdpx")
    runs = {"report": ["report", a, "--compare", b], "matrix": ["matrix", a], "segments": ["segments", a],
            "agreement": ["agree", a, b], "audit": ["audit", a]}
    out = {}
    for name, args in runs.items():
        out[name] = folder / f"{name}.xlsx"
        result = CliRunner().invoke(main, [*args, "-o", str(out[name])])
        assert result.exit_code in (0, 1), result.output
    return out


def _widths(ws: Worksheet) -> list[float]:
    """Column widths as written (openpyxl groups equal neighbours into one min..max entry)."""
    found: dict[int, float] = {}
    for dim in ws.column_dimensions.values():
        if dim.width and dim.min:
            for col in range(dim.min, (dim.max or dim.min) + 1):
                found[col] = dim.width
    return [found.get(c, 8.43) for c in range(1, ws.max_column + 1)]


def _page_px(ws: Worksheet) -> float:
    margins = ws.page_margins.left + ws.page_margins.right
    return (PAPER_IN[ws.page_setup.orientation] - margins) * 96


def test_one_page_wide_sheets_print_at_7_pt_or_more_in_libreoffice(books: dict[str, Path]) -> None:
    seen = 0
    for name, path in books.items():
        for ws in load_workbook(path).worksheets:
            if not ws.sheet_properties.pageSetUpPr or not ws.sheet_properties.pageSetUpPr.fitToPage:
                continue
            printed = sum(_widths(ws)) * LO_UNIT_PX
            scale = min(1.0, _page_px(ws) / printed)
            assert scale >= 0.70, (name, ws.title, round(scale, 3))  # 10 pt → at least 7 pt
            seen += 1
    assert seen >= 10


def test_the_codebook_fits_one_page_wide_by_wrapping_its_text(books: dict[str, Path]) -> None:
    ws = load_workbook(books["report"])["Codebook"]
    assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
    header = [c.value for c in ws[1]]
    definition = header.index("definition") + 1
    assert all(ws.cell(row=r, column=definition).alignment.wrap_text for r in range(2, ws.max_row + 1)
               if ws.cell(row=r, column=definition).value)


def test_a_sheet_too_wide_repeats_the_label_columns_that_fit_half_a_page(books: dict[str, Path]) -> None:
    ws = load_workbook(books["matrix"])["Matrix"]  # core, main, subcategory, concept × 20 sources
    assert int(ws.page_setup.scale) == 70
    header = [c.value for c in ws[2]]
    concept = header.index("concept") + 1
    first, last = ws.print_title_cols.replace("$", "").split(":")
    columns = [c.column_letter for c in ws[2]]
    assert columns.index(last) + 1 == concept  # the most specific label is always repeated
    span = _widths(ws)[columns.index(first):concept]
    assert sum(span) * LO_UNIT_PX * 0.70 <= _page_px(ws) / 2


def _wrapped_lines(text: str, width_px: float, font: object, size: float = 10.0) -> int:
    """Lines a greedy word wrap gives ``text`` in ``width_px`` (the font's advance widths)."""
    def measure(s: str) -> float:
        return float(font.getlength(s)) * size * 96 / 72 / 100  # type: ignore[attr-defined]

    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and measure(candidate) > width_px:
                lines += 1 + int(measure(word) // width_px)
                line = word
            else:
                line = candidate
    return lines


@pytest.mark.skipif(not DEJAVU.exists(), reason="DejaVu Sans is not installed")
def test_row_heights_hold_their_wrapped_text_without_pages_of_white(books: dict[str, Path]) -> None:
    from PIL import ImageFont

    fonts = {False: ImageFont.truetype(str(DEJAVU), 100),
             True: ImageFont.truetype(str(DEJAVU.with_name("DejaVuSans-Bold.ttf")), 100)}
    checked = 0
    for name, sheet in (("report", "Codebook"), ("report", "Segments"), ("report", "Memos"), ("report", "Agreement"),
                        ("agreement", "Disagreements"), ("agreement", "Coding Comparison"), ("agreement", "Per node"),
                        ("matrix", "Matrix")):
        ws = load_workbook(books[name])[sheet]
        widths = _widths(ws)
        merged = {(m.min_row, m.min_col): sum(widths[m.min_col - 1:m.max_col]) for m in ws.merged_cells.ranges}
        for row in ws.iter_rows(min_row=1):
            wrapped = [(c, merged.get((c.row, c.column), widths[c.column - 1]) * LO_UNIT_PX - 6) for c in row
                       if isinstance(c.value, str) and c.alignment.wrap_text]
            if not wrapped:
                continue
            lines = max(_wrapped_lines(c.value, px, fonts[bool(c.font.b)], c.font.sz or 10) for c, px in wrapped)
            size = max((c.font.sz or 10) / 10 for c, _ in wrapped)
            height = ws.row_dimensions[row[0].row].height or 15.0
            assert height >= lines * LO_LINE_PT * size, (sheet, row[0].row, lines, height)  # nothing cut
            # The heights also serve Excel, whose lines are 12.75 pt and whose 7 px unit holds ~6 %
            # less text: one spare line, or a third more on long text, is room; more is white space.
            spare = max(lines + 1, math.ceil(lines * 4 / 3))
            assert height <= spare * 12.75 * size + 3, (sheet, row[0].row, lines, height)
            checked += 1
    assert checked > 100


def test_a_label_that_fits_its_column_keeps_one_line(books: dict[str, Path]) -> None:
    ws = load_workbook(books["report"])["Overview"]
    widths = {letter: dim.width for letter, dim in ws.column_dimensions.items()}
    checked = 0
    for r in range(2, ws.max_row + 1):
        cells = [c for c in ws[r] if c.value is not None]
        if any(len(str(c.value)) > widths.get(c.column_letter, 8.43) for c in cells):
            continue  # a value longer than its column wraps, rightly
        assert (ws.row_dimensions[r].height or 15.0) <= 16, (r, ws.cell(row=r, column=1).value)
        checked += 1
    assert checked > 20


def test_notes_wrap_in_one_merged_cell_on_the_first_page(books: dict[str, Path]) -> None:
    ws = load_workbook(books["agreement"])["Per node"]  # wider than a page: it spills across
    merged = [m for m in ws.merged_cells.ranges if m.min_row > 2]
    assert merged, "notes are merged across the first page's columns"
    widths = _widths(ws)
    # the notes start right after the label columns repeated on every page (within them, they
    # would print again, cut at their edge, on each page across)
    repeated = ws.print_title_cols.replace("$", "").split(":")[-1]
    assert ws[f"{repeated}1"].column == 1
    for m in merged:
        assert m.min_col == 2 and m.min_row == m.max_row
        note = ws.cell(row=m.min_row, column=m.min_col)
        assert note.alignment.wrap_text and note.font.i
        assert sum(widths[: m.max_col]) * LO_UNIT_PX * 0.70 <= _page_px(ws)  # on the first page
        assert (ws.row_dimensions[m.min_row].height or 15.0) >= LO_LINE_PT
