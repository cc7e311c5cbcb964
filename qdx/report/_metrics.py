"""Text metrics shared by the sheet writer and its row renderer: how wide text is on screen and
how many lines it wraps to (a module of its own, so the two need not import each other)."""

from __future__ import annotations

import math
import re

_LINE_PT = 13.0
# Characters of 10-pt Arial (or its DejaVu/Liberation stand-ins) per unit of column width: a
# little over one; row heights estimated with 1.0 left visibly empty space under wrapped text.
_CHARS_PER_WIDTH = 1.15
_BLOCK = 5000  # rows rendered to XML at a time


# East Asian wide and full-width characters (Unicode UAX #11 "W"/"F": Hangul Jamo, CJK
# punctuation, kana, ideographs, Hangul syllables, compatibility forms, full-width forms) and
# emoji, which terminals and spreadsheets draw two columns wide.
_WIDE = re.compile("[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf"
                   "\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6"
                   "\U0001f300-\U0001faff\U00020000-\U0003fffd]")


def display_width(text: str) -> int:
    """Columns ``text`` takes on screen: East Asian wide and full-width characters count two."""
    if text.isascii():
        return len(text)
    return len(text) + len(_WIDE.findall(text))


def _lines(text: str, per_line: float) -> int:
    """Wrapped lines of ``text`` in a column ``per_line`` characters wide (CJK counts double)."""
    total = 0
    for part in text.split("\n"):
        total += max(1, math.ceil(display_width(part) / per_line))
    return total
