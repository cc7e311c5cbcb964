"""Spreadsheet cells that cannot attack their reader (CSV/formula injection, OWASP).

Text taken from a project (code names, segment text, memos) can start like a formula. Excel
and LibreOffice run a CSV cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (``=HYPERLINK(...)``, ``=cmd|...``). The one convention qdx uses
everywhere it writes a spreadsheet:

* ``.csv``: such a cell gets a leading apostrophe (``'=HYPERLINK(...)``). Spreadsheet apps
  show it as text; a program reading the CSV sees the apostrophe and can strip it. Leading
  spaces do not hide the risk (``" =1+1"`` is risky too). Besides, every text cell is
  quoted (:data:`CSV_QUOTING`), so nothing inside a name can start a new cell or row: not a
  line break of any kind (a bare CR is no line end to pandas, which then leaves the cell
  unquoted, but is one to Excel), and not either list separator (``a;=1+1`` unquoted is two
  cells, the second a live formula, in an Excel set to ``;``, as in most of continental
  Europe). Every number is written unchanged and unquoted.
* ``.xlsx``: every text is a string cell (``data_type 's'``), never a formula cell, whatever
  it starts with; a risky one also gets Excel's quote-prefix style, so editing the cell in
  Excel keeps it text. The value itself is not changed.

XML 1.0 cannot hold most C0 control characters, so in ``.xlsx`` they become U+FFFD; an Excel
cell holds at most 32,767 characters, so longer text is cut with a visible marker.

Every writer calls these functions (``qdx.report``, ``qdx segments``, ``qdx audit``,
``qdx agree``, the NVivo-layout sheets); none has its own copy of the rule.
"""

from __future__ import annotations

import csv
import re
from typing import IO, TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell, MergedCell

RISKY_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# Every text cell quoted, numbers not: the one quoting rule of every CSV qdx writes.
CSV_QUOTING: Literal[2] = csv.QUOTE_NONNUMERIC
EXCEL_MAX_CHARS = 32_767
_TRUNCATED = " …[truncated]"
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def is_risky(text: str) -> bool:
    """True when a spreadsheet could read ``text`` as a formula."""
    return text.lstrip(" ").startswith(RISKY_START)


def csv_text(value: object) -> object:
    """``value`` made safe for a CSV cell: risky text gets a leading ``'``; anything else as is."""
    if isinstance(value, str) and is_risky(value):
        return "'" + value
    return value


def csv_writer(stream: IO[str]) -> Any:
    """A :func:`csv.writer` with qdx's quoting; pass every cell through :func:`csv_text`."""
    return csv.writer(stream, quoting=CSV_QUOTING)


def xlsx_text(text: str) -> str:
    """``text`` with XML-illegal characters replaced and cut to Excel's cell limit."""
    text = _ILLEGAL_XML.sub("\ufffd", text)
    if len(text) > EXCEL_MAX_CHARS:
        text = text[: EXCEL_MAX_CHARS - len(_TRUNCATED)] + _TRUNCATED
    return text


def set_text(cell: Cell | MergedCell, text: str) -> None:
    """Store ``text`` in an openpyxl ``cell`` as a string cell, never a formula.

    openpyxl turns any value starting with ``=`` into a formula cell; the data type is forced
    back to string, and risky text is shown with the quote prefix (as if typed after ``'``).
    """
    cell.value = xlsx_text(text)
    cell.data_type = "s"
    if is_risky(text):
        cell.quotePrefix = True
