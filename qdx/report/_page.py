"""How a sheet goes on paper: orientation, column widths that fit, the print scale and which
columns share the first page (for :mod:`qdx.report.sheets`).

A sheet prints one page wide when that keeps its text at ``MIN_SCALE`` or more; a sheet with
text columns that is too wide first narrows those columns (they wrap instead) when that brings
it to one page wide; only a sheet that still does not fit prints at ``MIN_SCALE`` across
several pages, its label columns repeated. Widths are judged at LibreOffice's wider column
unit (see ``_PRINT_DIGIT_PX``), so the scale holds whichever font renders the sheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qdx.report._metrics import fit_width, text_units

MIN_SCALE = 70  # 10 pt text printed at 70 % is 7 pt, the smallest size a printed sheet reaches
# Printable width of an A4 page with 0.4" side margins, in pixels (96 dpi).
PORTRAIT_PX = (8.27 - 0.8) * 96
LANDSCAPE_PX = (11.69 - 0.8) * 96
# A column width unit is the default font's digit: 7 px for Excel's Arial 10, but 8.5 px where
# LibreOffice prints Arial with DejaVu Sans (no Arial or Liberation Sans installed).
_PRINT_DIGIT_PX = 8.5
_CELL_PX = 6  # the padding a written width carries (XlsxWriter adds 5 px at Excel's 7 px unit)
# Fits are judged a little above MIN_SCALE: LibreOffice rounds its fit-to-width scale down.
_FIT_SCALE = MIN_SCALE + 3
# Narrowed text columns keep room for a phrase a line (long text) or a word (labels).
_TEXT_FLOOR = 24.0
_LABEL_FLOOR = 12.0
_WORD_CAP = 18.0  # a column of long words (paths, GUIDs) may still break inside them below this


def print_px(widths: Sequence[float]) -> float:
    """Printed width of columns at 100 %, at the wider of the two column units."""
    return sum(w * _PRINT_DIGIT_PX + _CELL_PX for w in widths)


@dataclass(slots=True)
class PagePlan:
    """Column widths to write, orientation, and whether the sheet fits one page wide."""

    widths: list[float]
    landscape: bool
    fits: bool
    repeat: tuple[int, int] | None = None  # label columns (first, last) printed on every page across

    @property
    def page_px(self) -> float:
        return LANDSCAPE_PX if self.landscape else PORTRAIT_PX

    @property
    def scale(self) -> float:
        """The print scale (%) LibreOffice reaches at the wider unit, at most 100."""
        if not self.fits:
            return MIN_SCALE
        return max(float(MIN_SCALE), min(100.0, 100 * self.page_px / max(1.0, print_px(self.widths))))

    def first_page_columns(self) -> int:
        """How many columns print on the first page (all when the sheet fits one page wide)."""
        if self.fits:
            return len(self.widths)
        room, used = self.page_px * 100 / MIN_SCALE, 0.0
        for i, w in enumerate(self.widths):
            used += w * _PRINT_DIGIT_PX + _CELL_PX
            if used > room:
                return max(1, i)
        return len(self.widths)

    def spare_units(self) -> float:
        """Column units left free on the first page to the right of the table (at its scale)."""
        room = self.page_px * 100 / self.scale
        return max(0.0, (room - print_px(self.widths[: self.first_page_columns()]) - _CELL_PX) / _PRINT_DIGIT_PX)


def _floor(header: str, values: Sequence[object], width: float, long_text: bool) -> float:
    """The narrowest a text column may become: its longest header or value word, within limits."""
    words = [w for v in values if isinstance(v, str) for w in v[:200].split()]
    longest = max((fit_width(text_units(w)) for w in [*header.split(), *words[:5000]]), default=0.0) + 1
    floor = _TEXT_FLOOR if long_text else max(_LABEL_FLOOR, min(longest, _WORD_CAP))
    return min(width, floor)


def plan(header: Sequence[str], columns: Sequence[Sequence[object]], widths: list[float],
         long_text: set[int], extent_px: float = 0.0, labels: int = 0) -> PagePlan:
    """Orientation and widths for a sheet with these column ``widths``.

    ``long_text`` are the columns meant to wrap; ``extent_px`` is how far a chart or picture
    below the table reaches (printed too, so it counts toward the page width); the first
    ``labels`` columns name the rows, repeated on every page when the sheet spills across.
    """
    total = max(print_px(widths), extent_px)
    landscape = total > PORTRAIT_PX
    page = LANDSCAPE_PX if landscape else PORTRAIT_PX
    room = page * 100 / _FIT_SCALE
    if total <= room:
        return PagePlan(widths, landscape, True)
    text = [i for i, col in enumerate(columns) if any(isinstance(v, str) for v in col[:200])]
    floors = {i: _floor(header[i], columns[i][:3000], widths[i], i in long_text) for i in text}
    if extent_px <= room:
        narrowed = _narrow(widths, floors, text, print_px(widths) - room)
        if narrowed is not None:
            return PagePlan(narrowed, landscape, True)
    # Spilling across pages: label columns repeat on each, taking at most half a page. When all
    # of them are wider, the most specific ones (the last, e.g. the concept beside its category
    # columns) repeat; the last alone is narrowed to wrap if even it is wider.
    keep = min(labels, len(widths))
    if not keep:
        return PagePlan(widths, landscape, False)
    half = page * 100 / MIN_SCALE / 2
    first = keep - 1
    while first > 0 and print_px(widths[first - 1:keep]) <= half:
        first -= 1
    narrowed = _narrow(widths, floors, [first] if first in floors else [], print_px(widths[first:keep]) - half)
    if narrowed is None:
        return PagePlan(widths, landscape, False)
    return PagePlan(narrowed, landscape, False, (first, keep - 1))


def _narrow(widths: list[float], floors: dict[int, float], which: list[int], excess: float) -> list[float] | None:
    """``widths`` with the columns ``which`` narrowed toward their floors by ``excess`` pixels in
    all, each in proportion to its room above its floor; None when they cannot give that much."""
    if excess <= 0:
        return list(widths)
    slack = sum((widths[i] - floors[i]) * _PRINT_DIGIT_PX for i in which)
    if slack < excess:
        return None
    share = excess / slack
    return [w - (w - floors[i]) * share if i in which else w for i, w in enumerate(widths)]
