"""The NVivo .xlsx readers build a sheet a column at a time (a 1.2M-cell sheet, issue 15's
budget). Each fast step is checked against an independent oracle:

* the sheet's cells: openpyxl's full ``load_workbook(data_only=True)``, on generated sheets
  mixing every shape the tokenizer reads with shapes it must leave to lxml;
* the grid: the rule written out plainly (a dict of places, a later cell winning);
* the cases' values: ``AttributeTable.row_values``, the cell-by-cell reading;
* the GUIDs: ``uuid.uuid5``; the cell count: a ``finditer`` over the whole part.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qdx.formats import ReadOptions
from qdx.formats.nvivo import office, sheetxml
from qdx.formats.nvivo.attributes import AttributeTable, _type_of, infer_type, is_unset
from qdx.formats.nvivo.build import _NAMESPACE, stable_guid
from qdx.formats.nvivo.office import first_sheet
from qdx.formats.nvivo.sheetxml import Cells
from qdx.formats.nvivo.xlsxutil import cells_grid
from qdx.model import VariableType

sys.path.insert(0, str(Path(__file__).parent / "hostile"))
from reading_cases import _rows, xlsx

SHARED = ["Name", "  spaced  ", "朋友圈 😀", "Unassigned", ""]


def _oracle(data: bytes) -> dict[tuple[int, int], object]:
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(data), data_only=True).worksheets[0]
    return {key: cell.value for key, cell in sheet._cells.items() if cell.value is not None}


def _streamed(data: bytes) -> dict[tuple[int, int], object]:
    return {(r, c): v for r, c, v in first_sheet(data, ReadOptions(label="x.xlsx")).cells}


# Cell shapes, {ref} filled with a fresh place. The tokenizer's plain shapes come first; the
# rest (no reference, formula, inline string, comment, entity, other attribute order or
# quoting, empty value) must reach lxml, alone or mixed into plain rows.
PLAIN = [
    '<c r="{ref}"><v>{num}</v></c>',
    '<c r="{ref}" t="s"><v>{idx}</v></c>',
    '<c r="{ref}" s="0" t="n"><v>{num}</v></c>',
    '<c r="{ref}" t="n"><v>{num}</v></c>',
    '<c r="{ref}" s="0" />',  # NVivo's empty cell
    '<c r="{ref}"/>',
]
OTHER = [
    "<c><v>{num}</v></c>",
    "<c/>",
    '<c r="{ref}"><v></v></c>',
    '<c r="{ref}" t="b"><v>1</v></c>',
    '<c r="{ref}" t="str"><v>text</v></c>',
    '<c r="{ref}" t="str"><v>a &amp; b</v></c>',
    '<c r="{ref}" t="e"><v>#N/A</v></c>',
    '<c r="{ref}" t="inlineStr"><is><t>inline</t></is></c>',
    '<c r="{ref}" t="str"><f>A1</f><v>formula</v></c>',
    "<!-- note -->",
    " ",
    "\n",
    "<c r='{ref}'><v>{num}</v></c>",
    '<c t="s" r="{ref}"><v>{idx}</v></c>',
    '<c r="{ref}" foo="bar"><v>{num}</v></c>',
    '<c r="{ref}" ><v>{num}</v></c>',
]
NUMBERS = ["1", "-17", "2.5", "1E3", "007", "1e-7", "0", "123456789012345678901234567890"]


@st.composite
def sheets(draw: st.DrawFn) -> str:
    shapes = PLAIN + OTHER if draw(st.booleans()) else PLAIN
    places = iter(range(1, 10_000))
    body = []
    for row in range(1, draw(st.integers(0, 6)) + 1):
        cells = []
        for _ in range(draw(st.integers(0, 5))):
            place = next(places)
            shape = draw(st.sampled_from(shapes))
            column = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[place % 26] + ("A" * (place // 26 % 2))
            cells.append(
                shape.format(
                    ref=f"{column}{row}",
                    num=draw(st.sampled_from(NUMBERS)),
                    idx=draw(st.integers(0, len(SHARED) - 1)),
                )
            )
        head = draw(st.sampled_from([f'<row r="{row}">', f'<row r="{row}" spans="1:5">', f'<row r="{row}" ht="15">']))
        body.append(head + "".join(cells) + "</row>" if cells else f'<row r="{row}"/>')
        body.append(draw(st.sampled_from(["", "", "\n  "])))
    return "".join(body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheets())
def test_generated_sheets_match_openpyxl(body: str) -> None:
    data = xlsx(body, SHARED)
    assert _streamed(data) == _oracle(data)


def _tokenizer_takes(body: str) -> bool:
    class Book:
        epoch, _date_formats, _timedelta_formats = dt.datetime(1899, 12, 30), set(), set()

    part = f'<?xml version="1.0"?><worksheet xmlns="{sheetxml.MAIN[1:-1]}"><sheetData>{body}</sheetData></worksheet>'
    return sheetxml._tokenized(part.encode(), sheetxml._SheetCells(SHARED, Book()))


def test_plain_sheets_take_the_tokenizer_and_others_lxml() -> None:
    """The fast path is the one taken for what writers produce (else the speed is gone), and
    a shape it does not know sends the sheet to lxml rather than being skipped."""
    assert _tokenizer_takes(_rows(100, '<c r="{ref}"><v>7</v></c>'))
    assert _tokenizer_takes(_rows(100, '<c r="{ref}" s="3" t="s"><v>1</v></c>'))
    assert _tokenizer_takes('<row r="1"><c r="A1"><v>1</v></c></row>\n<row r="2"/><row><c><v>2</v></c></row>')
    assert _tokenizer_takes('<row r="2" ht="18.5"><c r="A2" s="3" /><c r="B2" s="3" t="s"><v>1</v></c></row>')
    assert not _tokenizer_takes('<row r="1"><c r="A1"><v>1</v></c><!-- x --></row>')
    assert not _tokenizer_takes('<row r="1"><c r="A1" t="str"><v>a &amp; b</v></c></row>')
    assert not _tokenizer_takes('<row r="1"><row r="2"><c r="A2"><v>1</v></c></row></row>')
    assert not _tokenizer_takes('<c r="A1"><v>1</v></c><row r="1"/>')


@pytest.mark.parametrize(
    "part",
    [
        # A row outside sheetData, a comment before it, a default namespace redeclared: lxml
        # reads what openpyxl reads (or not) in each.
        '<worksheet xmlns="{main}"><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>'
        '<extLst><row r="2"><c r="A2"><v>2</v></c></row></extLst></worksheet>',
        '<worksheet xmlns="{main}"><!-- <sheetData> --><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
        "</sheetData></worksheet>",
        '<worksheet xmlns="{main}"><x xmlns="urn:other"><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
        "</sheetData></x></worksheet>",
        '<x:worksheet xmlns:x="{main}"><x:sheetData><x:row r="1"><x:c r="B1"><x:v>3</x:v></x:c></x:row>'
        "</x:sheetData></x:worksheet>",
    ],
    ids=["row-after", "comment-before", "other-namespace", "prefixed"],
)
def test_odd_parts_read_as_lxml_reads_them(part: str) -> None:
    class Book:
        epoch, _date_formats, _timedelta_formats = dt.datetime(1899, 12, 30), set(), set()

    data = part.format(main=sheetxml.MAIN[1:-1]).encode()
    fast = sheetxml.sheet_cells(data, SHARED, Book())
    slow = sheetxml._SheetCells(SHARED, Book())
    sheetxml._iterparsed(data, slow)
    assert fast == slow.out


def test_malformed_part_fails_as_before() -> None:
    from lxml import etree

    class Book:
        epoch, _date_formats, _timedelta_formats = dt.datetime(1899, 12, 30), set(), set()

    with pytest.raises(etree.XMLSyntaxError):
        sheetxml.sheet_cells(b'<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></row>', SHARED, Book())


# --------------------------------------------------------------------------- grid


def _grid_oracle(cells: list[tuple[int, int, object]]) -> list[list[object]]:
    """The rule as docs state it, one cell at a time."""
    values = {(r, c): v for r, c, v in cells if v is not None}
    used = [(r, c) for (r, c), v in values.items() if not (isinstance(v, str) and not v.strip())]
    height = max([0] + [r for r, _ in used])
    width = max([0] + [c for _, c in used])
    rows: list[list[object]] = [[None] * width for _ in range(height)]
    for (r, c), v in values.items():
        if 1 <= r <= height and 1 <= c <= width:
            rows[r - 1][c - 1] = v
    return rows


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-1, 6),
            st.integers(0, 5),
            st.one_of(st.none(), st.integers(), st.sampled_from(["a", " ", "", "x y"]), st.floats(allow_nan=False)),
        ),
        max_size=30,
    )
)
def test_grid_matches_the_rule(cells: list[tuple[int, int, object]]) -> None:
    rows, columns, values = ([list(x) for x in zip(*cells, strict=True)] if cells else [[], [], []])
    assert cells_grid(Cells(rows, columns, values), "S") == _grid_oracle(cells)


def test_complete_grid_in_order_is_sliced_right() -> None:
    """Every place of a 3 x 2 range once, row by row (the fast slicing), and the same cells
    out of order (the place-by-place filling): the rows written out by hand."""
    cells = [(1, 1, "a"), (1, 2, 1), (2, 1, "b"), (2, 2, 2), (3, 1, "c"), (3, 2, 3)]
    expected = [["a", 1], ["b", 2], ["c", 3]]
    assert cells_grid(Cells(*[list(x) for x in zip(*cells, strict=True)]), "S") == expected
    shuffled = cells[::-1]
    assert cells_grid(Cells(*[list(x) for x in zip(*shuffled, strict=True)]), "S") == expected


# --------------------------------------------------------------------------- cases


CELL_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", " x ", "Unassigned", "not applicable", "12", "text"]),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
)


def _narrowest(values: list[object]) -> VariableType:
    """REFI §3.6 as the attribute reader states it, one value at a time."""
    kinds = {_type_of(v) for v in values if not is_unset(v)}  # type: ignore[arg-type]
    if len(kinds) <= 1:
        return kinds.pop() if kinds else VariableType.TEXT
    if kinds <= {VariableType.INTEGER, VariableType.FLOAT}:
        return VariableType.FLOAT
    return VariableType.DATETIME if kinds == {VariableType.DATE, VariableType.DATETIME} else VariableType.TEXT


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 4).flatmap(lambda w: st.lists(st.lists(CELL_VALUES, min_size=w, max_size=w), max_size=8)))
def test_cases_hold_what_row_values_reads(rows: list[list[object]]) -> None:
    width = len(rows[0]) if rows else 0
    table = AttributeTable(
        title="t",
        items=tuple(f"item {i}" for i in range(len(rows))),
        attributes=tuple(f"a{j}" for j in range(width)),
        values=tuple(tuple(r) for r in rows),  # type: ignore[misc]
        locs=tuple(f"x!A{i}" for i in range(len(rows))),
    )
    variables, cases = table.as_cases("t")
    for j, variable in enumerate(variables):
        assert variable.type == _narrowest([r[j] for r in rows])
    for i, case in enumerate(cases):
        assert case.variable_values == table.row_values(i, variables)


def test_column_type_is_the_narrowest_every_value_fits() -> None:
    """REFI types by hand: ints only -> Integer; an int and a float -> Float; a boolean among
    ints -> Text; Unassigned and blanks ignored."""
    assert infer_type([1, 2, None, "Unassigned"]) is VariableType.INTEGER
    assert infer_type([1, 2.5]) is VariableType.FLOAT
    assert infer_type([1, True]) is VariableType.TEXT
    assert infer_type([True, False, " "]) is VariableType.BOOLEAN
    assert infer_type([None, ""]) is VariableType.TEXT


# --------------------------------------------------------------------------- small pieces


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=8), min_size=1, max_size=4))
def test_stable_guid_is_uuid5(parts: list[str]) -> None:
    try:
        expected = str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))
    except UnicodeEncodeError:  # a lone surrogate: both refuse it
        with pytest.raises(UnicodeEncodeError):
            stable_guid(*parts)
        return
    assert stable_guid(*parts) == expected


PIECES = [b"<c ", b"<c>", b"<x:c/", b"<cc>", b"<", b"a", b" ", b"<x:", b"c>", b"<c\n", b"<c\t"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES)))
def test_cell_count_in_chunks_is_a_count_of_the_whole(pieces: list[bytes]) -> None:
    content = b"".join(pieces)
    whole = sum(1 for _ in re.finditer(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]", content))
    chunk = office._CHUNK
    try:
        office._CHUNK = 5  # chunks end inside tags
        assert office._count_cells(content, "x", 0) == whole
    finally:
        office._CHUNK = chunk


def test_classification_values_are_the_named_columns() -> None:
    """Blank-caption columns dropped; two, one and no attribute columns (values by hand)."""
    from qdx.formats.nvivo.lists import classification_table

    table = classification_table([["Case", "Age", "", "Sex"], ["A", 30, "x", "f"], ["B", None, "y", "m"]], "s")
    assert table.attributes == ("Age", "Sex")
    assert table.values == ((30, "f"), (None, "m"))
    assert classification_table([["Case", "Age"], ["A", 1]], "s").values == ((1,),)
    assert classification_table([["Case"], ["A"]], "s").values == ((),)


def test_bad_reference_in_an_empty_cell_fails_as_in_openpyxl() -> None:
    """openpyxl refuses a reference of four letters even on an empty cell; so does qdx."""
    import openpyxl

    from qdx.errors import ReadError

    data = xlsx('<row r="1"><c r="A1"><v>1</v></c><c r="ABCD1" /></row>', SHARED)
    with pytest.raises(ValueError):
        openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    with pytest.raises(ReadError):
        first_sheet(data, ReadOptions(label="x.xlsx"))
