"""Spreadsheet cells that cannot attack their reader (CSV/formula injection, OWASP).

Text taken from a project (code names, segment text, memos) can start like a formula. Excel
and LibreOffice run a CSV cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (``=HYPERLINK(...)``, ``=cmd|...``). The one convention qdx uses
everywhere it writes a spreadsheet:

* ``.csv``: such a cell gets a leading apostrophe (``'=HYPERLINK(...)``). Spreadsheet apps
  show it as text; a program reading the CSV sees the apostrophe and can strip it. Leading
  spaces do not hide the risk (``" =1+1"`` is risky too). Every text cell is quoted
  (:data:`CSV_QUOTING`), and numbers are written unchanged and unquoted.

  Quoting alone is not enough: it keeps a cell whole only for a reader that splits on the
  same list separator. Excel set to ``;`` (most of continental Europe) opens ``a;=1+1`` as
  two cells, the second a live formula, and in a ``,`` file its quote state goes out of step
  at the first quoted ``,``, so any ``;`` inside any text may start a cell; the same holds
  for line breaks (a bare CR is no line end to pandas, which then leaves the cell unquoted,
  but is one to Excel). So inside a text, wherever a reader could start a new cell or row
  (after ``,``, ``;``, a tab, CR or LF), a formula character that follows (after spaces or
  quote marks) gets an apostrophe too: ``a;=1+1`` is written ``a;'=1+1``.
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
# A place where some reader may start a new cell or row, followed by a formula character.
_SPLIT_THEN_RISKY = re.compile(r'([,;\t\r\n])(?=[ "]*[=+\-@])')
# Characters XML 1.0 does not allow (§2.2 Char): a cell holding one would make the file unreadable.
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def is_risky(text: str) -> bool:
    """True when a spreadsheet could read ``text`` as a formula."""
    return text.lstrip(" ").startswith(RISKY_START)


def csv_text(value: object) -> object:
    """``value`` made safe for a CSV cell (see the module docstring): risky text gets a leading
    ``'``, and so does every formula character right after a separator or line break inside
    it; anything that is not text is returned as is."""
    if not isinstance(value, str):
        return value
    value = _SPLIT_THEN_RISKY.sub(r"\1'", value)
    return "'" + value if is_risky(value) else value


def csv_writer(stream: IO[str]) -> Any:
    """A :func:`csv.writer` with qdx's quoting; pass every cell through :func:`csv_text`."""
    return csv.writer(stream, quoting=CSV_QUOTING)


def xlsx_text(text: str) -> str:
    """``text`` with XML-illegal characters replaced and cut to Excel's cell limit."""
    text = ILLEGAL_XML.sub("\ufffd", text)
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
