"""The sheet writer's data rows (qdx/report/_xlsx_rows.py) take fast paths over whole columns;
every cell must still follow the rules each path shortcuts. The oracles are the rules
themselves, applied here to the input and compared with the written file read back by openpyxl
and with its raw sheet XML:

* XML 1.0 (§2.2 Char): characters outside the production cannot be stored; qdx writes U+FFFD;
* XML 1.0 §2.11: a parser reads CR LF and a lone CR as LF;
* Excel's cell limit, 32,767 characters (longer text is cut, with qdx's visible marker);
* text that a spreadsheet could run as a formula (after leading spaces: = + - @ tab CR LF)
  is a string cell with the quote prefix; any other text a plain string cell;
* leading or trailing whitespace is kept only under ``xml:space="preserve"`` (XML 1.0 §2.10):
  every such ``<t>`` carries it;
* an empty or missing value is no cell at all.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qdx.cells import EXCEL_MAX_CHARS
from qdx.report.sheets import Table, write_tables

MARKER = " …[truncated]"  # qdx's visible mark of a cut cell (qdx.cells)
RISKY = ("=", "+", "-", "@", "\t", "\r", "\n")
LONG = "long " + "x" * 40_000
NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

CLEAN = ["plain", "a & b", "<tag>", "x > y", "&amp;", "]]>", "=1+1", "+1", "-1", "@SUM(A1)", " =1+1",
         "  lead", "trail  ", " both ", "\tTab", "line\n", "\nstart", "中文文本，全角。", "😀 emoji",
         "a\r\nb", "c\rd", "end\r", None, "", "\u3000ideographic space", "\xa0nbsp", "nbsp\xa0", "\x85nel",
         "'quote", "a-b", "x=1"]
DIRTY = ["ctrl\x01\x02 end", "\x0b\x0c", "\ufffe\uffff", "\x1fstart"]


def expected(value: str | None) -> str | None:
    """What a reader must find in the cell, by the rules above."""
    if not value:
        return None
    text = NOT_XML_CHAR.sub("\ufffd", value)
    if len(text) > EXCEL_MAX_CHARS:
        text = text[: EXCEL_MAX_CHARS - len(MARKER)] + MARKER
    return text.replace("\r\n", "\n").replace("\r", "\n")


def risky(value: str) -> bool:
    return NOT_XML_CHAR.sub("\ufffd", value).lstrip(" ").startswith(RISKY)


def columns(n: int) -> dict[str, list[str | None]]:
    """Columns each taking one path of the renderer, over more rows than one block (2,000)."""
    cycle = [CLEAN[i % len(CLEAN)] for i in range(n)]
    late_dirty = list(cycle)
    late_dirty[n - 7] = DIRTY[0]  # clean in the first block, not in the last
    late_long = [None if v is None else v.replace("&", "+").replace("<", "(").replace(">", ")") for v in cycle]
    late_long[n - 3] = LONG
    return {
        "clean": cycle,  # escapes once over the column
        "no_markup": [None if v is None else re.sub("[&<>]", "_", v) for v in cycle],
        "dirty": [(CLEAN + DIRTY)[i % (len(CLEAN) + len(DIRTY))] for i in range(n)],
        "late_dirty": late_dirty,
        "late_long": late_long,
        "cjk_gaps": ["朋友圈" * (i % 5) if i % 3 else None for i in range(n)],
        "all_empty": [None if i % 2 else "" for i in range(n)],
        "mixed": [i if i % 4 == 0 else None if i % 4 == 1 else cycle[i] for i in range(n)],
    }


@pytest.fixture(scope="module")
def written() -> tuple[dict[str, list[str | None]], bytes]:
    data = columns(2_600)
    stream = io.BytesIO()
    write_tables(stream, [Table("Rows", list(data), list(data.values()), wrap=(0,))])
    return data, stream.getvalue()


def test_every_cell_reads_back_by_the_rules(written: tuple[dict[str, list[str | None]], bytes]) -> None:
    import openpyxl

    data, book = written
    sheet = openpyxl.load_workbook(io.BytesIO(book)).worksheets[0]
    grid = list(sheet.iter_rows(min_row=2, max_row=len(next(iter(data.values()))) + 1))
    checked = 0
    for c, (name, values) in enumerate(data.items()):
        for row, value in zip(grid, values, strict=True):
            cell = row[c]
            if isinstance(value, int):
                assert (cell.value, cell.data_type) == (value, "n"), name
                continue
            assert cell.value == expected(value), (name, cell.coordinate, value)
            if expected(value) is not None:
                assert cell.data_type == "s", (name, cell.coordinate)
                assert cell.quotePrefix == risky(value), (name, cell.coordinate, value)
                checked += 1
    assert checked > 14_000


def test_cells_with_edge_whitespace_keep_it(written: tuple[dict[str, list[str | None]], bytes]) -> None:
    _, book = written
    sheet = zipfile.ZipFile(io.BytesIO(book)).read("xl/worksheets/sheet1.xml").decode("utf-8")
    texts = re.findall(r"<t( xml:space=\"preserve\")?>(.*?)</t>", sheet, flags=re.DOTALL)
    assert len(texts) > 14_000
    for preserve, text in texts:
        assert bool(preserve) == (text != text.strip()), text[:40]
    assert "\r" not in sheet


def test_cells_are_escaped_once(written: tuple[dict[str, list[str | None]], bytes]) -> None:
    """Markup characters appear only as the five entity-free escapes XML needs (no double escaping:
    ``&amp;`` in the text reads back as ``&amp;``, checked above; here, no raw ``<`` in a text)."""
    _, book = written
    sheet = zipfile.ZipFile(io.BytesIO(book)).read("xl/worksheets/sheet1.xml").decode("utf-8")
    for text in re.findall(r"<t(?: xml:space=\"preserve\")?>(.*?)</t>", sheet, flags=re.DOTALL):
        assert "<" not in text and ">" not in text
        assert re.fullmatch(r"(?:[^&]|&amp;|&lt;|&gt;)*", text, flags=re.DOTALL), text[:40]


def test_the_whitespace_set_is_str_isspace() -> None:
    """The renderer tests a cell's first and last character against a set: the set must be what
    ``str.isspace`` accepts, over every code point."""
    from qdx.report._xlsx_rows import _SPACE

    assert _SPACE == frozenset(chr(i) for i in range(0x110000) if chr(i).isspace())


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 1 << 20])
def test_sheet_copy_reads_line_ends_as_text_mode_does(chunk_size: int) -> None:
    """The sheet's rows are copied as bytes; the oracle is the text-mode copy it replaces
    (Python's universal newlines: CR LF and a lone CR read as LF), at every chunk boundary."""
    from qdx.report._xlsx_book import copy_newlines_normalised

    samples = ["", "\r", "\n", "\r\n", "\r\r\n\n", "a\rb\r\nc\nd\r", "中\r\n文\r", "x" * 9 + "\r" + "\n" * 3 + "\r"]
    for text in samples:
        data = text.encode("utf-8")
        oracle = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=None).read().encode("utf-8")
        out = io.BytesIO()
        copy_newlines_normalised(io.BytesIO(data), out, chunk_size)
        assert out.getvalue() == oracle, (text, chunk_size)


def test_segments_workbook_holds_each_text_by_the_rules(tmp_path: Path) -> None:
    """End to end: ``qdx segments -o x.xlsx`` against the same command's JSON (the exact texts)."""
    import openpyxl
    from click.testing import CliRunner

    import qdx
    from qdx.cli import main
    from qdx.model import Code, Coding, Guid, Project, TextSelection, TextSource

    parts = [v for v in CLEAN + DIRTY if v] + [LONG]
    text = "".join(parts)
    code = Code(guid=Guid("00000000-0000-4000-8000-000000000001"), name="=code & <1>")
    selections, at = [], 0
    for n, part in enumerate(parts * 2):
        start = at % len(text)
        selections.append(TextSelection(guid=Guid(f"00000000-0000-4000-8001-{n:012d}"), start=start,
                                        end=start + len(part) + n % 3,
                                        codings=(Coding(guid=Guid(f"00000000-0000-4000-8002-{n:012d}"),
                                                        code=code.guid),)))
        at += len(part)
    source = TextSource(guid=Guid("00000000-0000-4000-8000-000000000002"), name=" doc ", text=text,
                        selections=tuple(selections))
    path = tmp_path / "p.qdpx"
    qdx.write(Project(name="p", codes=(code,), sources=(source,)), path)
    runner = CliRunner()
    listed = runner.invoke(main, ["segments", str(path), "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    done = runner.invoke(main, ["segments", str(path), "-o", str(tmp_path / "s.xlsx")])
    assert done.exit_code == 0, done.output
    sheet = openpyxl.load_workbook(tmp_path / "s.xlsx").worksheets[0]
    header = [c.value for c in sheet[1]]
    got = list(sheet.iter_rows(min_row=2, max_row=len(rows) + 1))
    assert len(rows) == len(parts) * 2
    for row, cells in zip(rows, got, strict=True):
        for name in ("source", "text", "code", "code_path"):
            value = row[name] if name != "code_path" else " > ".join(row[name])
            cell = cells[header.index(name)]
            assert cell.value == expected(value), (name, value)
            assert value is None or cell.quotePrefix == risky(value), (name, value)


@pytest.mark.parametrize(("text", "lines"), [
    ("", 1), ("abc", 1), ("x" * 10, 1), ("x" * 11, 2), ("x" * 25, 3), ("中" * 5, 1), ("中" * 6, 2),
    ("a\n\nb", 3), ("x" * 11 + "\n" + "中" * 6, 4), ("中" * 3 + "x" * 5, 2), ("é" * 11, 2),
])
def test_counted_lines_by_hand(text: str, lines: int) -> None:
    """A column holding 12.5 units a line: 10 characters of 1.25 units, a wide one counting two
    (counted by hand)."""
    from qdx.report._metrics import counted_lines

    assert counted_lines(text, 12.5) == lines


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab -\n中文ひらがな한국😀é", max_size=200), st.floats(min_value=0.5, max_value=120))
def test_counted_lines_is_the_per_paragraph_rule(text: str, per_line: float) -> None:
    """The shortcuts (short texts, short paragraphs) give what the rule gives: per paragraph at
    least one line, else its display width over the line's characters, rounded up."""
    from qdx.report._metrics import counted_lines, display_width

    units = per_line / 1.25
    rule = sum(max(1, math.ceil(display_width(part) / units)) for part in text.split("\n"))
    assert counted_lines(text, per_line) == rule
