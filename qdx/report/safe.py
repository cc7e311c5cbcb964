"""Cell text that a spreadsheet can never run as a formula (CSV/formula injection, OWASP).

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken as a
formula by Excel/LibreOffice when a CSV is opened, so qdx writes such text:

* in ``.xlsx`` as a string cell with the quote-prefix style (``'``), never a formula cell;
* in ``.csv`` with a leading apostrophe, the mitigation spreadsheet programs understand.

XML 1.0 cannot hold most C0 control characters, so they become U+FFFD in ``.xlsx``; Excel
cells hold at most 32,767 characters, so longer text is cut with a visible marker.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

RISKY_START = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MAX_CHARS = 32_767
_TRUNCATED = " …[truncated]"
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def is_risky(text: str) -> bool:
    """True when a spreadsheet could read ``text`` as a formula."""
    return text.startswith(RISKY_START)


def csv_text(value: object) -> object:
    """``value`` made safe for a CSV cell (text only; numbers pass through)."""
    if isinstance(value, str) and is_risky(value):
        return "'" + value
    return value


def xlsx_text(text: str) -> str:
    """``text`` with XML-illegal characters replaced and cut to Excel's cell limit."""
    text = _ILLEGAL_XML.sub("\ufffd", text)
    if len(text) > EXCEL_MAX_CHARS:
        text = text[: EXCEL_MAX_CHARS - len(_TRUNCATED)] + _TRUNCATED
    return text


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (values, index and headers) are CSV-safe."""
    import pandas as pd
    from pandas.api.types import is_numeric_dtype

    out = frame.copy()
    for col in out.columns:
        if not is_numeric_dtype(out[col]):
            out[col] = out[col].map(csv_text)
    out.columns = pd.Index([csv_text(str(c)) for c in out.columns], name=frame.columns.name)
    if not is_numeric_dtype(out.index):
        out.index = pd.Index([csv_text(v) for v in out.index], name=frame.index.name)
    return out
