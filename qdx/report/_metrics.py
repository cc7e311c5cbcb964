"""Text metrics shared by the sheet writer and its row renderer: how wide text is on screen and
how many lines it wraps to (a module of its own, so the two need not import each other).

Widths are in *column units*, the unit of an ``.xlsx`` column width: the width of the digit
"0" of the workbook's default font (ECMA-376 Part 1 §18.3.1.13). A sheet is read in Excel
with Arial and printed by LibreOffice with Arial or, where Arial is missing, DejaVu Sans,
which is wider; each character counts the larger of its two widths (relative to the font's
own digit), so an estimate made here holds in both.
"""

from __future__ import annotations

import math
import re
from itertools import repeat

# One wrapped line of 10-pt text: Excel's line height for Arial 10 (LibreOffice's DejaVu Sans
# line is 11.6 pt, so rows there keep a little room under the last line, never cut it).
_LINE_PT = 12.75
_ROW_PAD_PT = 3.0
# A column W units wide holds about 0.93·W units of text in Excel (its unit is Arial's digit
# rounded down to 7 px at 96 dpi, the digit itself is 7.4 px) and a little more in LibreOffice.
_UNITS_PER_WIDTH = 0.93
# Greedy word wrap leaves the end of a line empty when the next word does not fit: about 0.6
# of a word's width (at least one digit, at most a third of the line), words being split at
# spaces, hyphens and East Asian characters. Checked against a word-by-word wrap with the fonts'
# advance widths over 3,000 wrapped cells of the study and an NVivo sample: no cell short in
# LibreOffice, 6 short in Excel, 18 % more lines than LibreOffice needs on average.
_WRAP_LOSS = 0.6
_MIN_LOSS = 1.0
_BLOCK = 2000  # rows rendered to XML at a time (and held, as cells, row strings and their join: ~1.5 MB each)

# Printable ASCII (U+0020-U+007E), each character's width in twentieths of a digit (as a
# character, offset 48): the larger of Arial's (Helvetica's metrics) and DejaVu Sans'.
_ASCII_20THS = (":=?KDPI9==@K:<:;DDDDDDDDDD;;KKKDUHHJJHFLJ:BHDNJLHLJHFJHRHHF=;=KD@DDBDD<DD99C9ODDDD=B"
                "=DCJCCBD;DK")
_ASCII = tuple([1.0] * 32 + [(ord(c) - 48) / 20 for c in _ASCII_20THS] + [1.0])
# The same widths as a byte translation (each ASCII byte → its width in twentieths), so an ASCII
# text's width is one C-level translate and sum.
_ASCII_BYTES = bytes([20] * 32 + [ord(c) - 48 for c in _ASCII_20THS] + [20] * 129)
_OTHER = 1.15  # other letters (accented Latin, Greek, Cyrillic, ...): most are 0.9-1.25 digits
_WIDE_UNITS = 2.0
_TABLE = {chr(i): w for i, w in enumerate(_ASCII)}

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


def text_units(text: str) -> float:
    """Width of ``text`` in column units (digits of the default font), for 10-pt Arial or DejaVu."""
    if text.isascii():
        return sum(text.encode().translate(_ASCII_BYTES)) / 20
    wide = len(_WIDE.findall(text))
    return sum(map(_TABLE.get, text, repeat(_OTHER))) + wide * (_WIDE_UNITS - _OTHER)


def line_units(width: float) -> float:
    """Text units one line of a column ``width`` units wide holds (before wrapping loses any)."""
    return max(1.0, width * _UNITS_PER_WIDTH)


def fit_width(units: float) -> float:
    """The column width that shows text ``units`` wide on one line."""
    return units / _UNITS_PER_WIDTH + 1


def _lines(text: str, per_line: float) -> int:
    """Wrapped lines of ``text`` in a column holding ``per_line`` units a line (:func:`line_units`)."""
    if "\n" not in text:
        return _paragraph_lines(text, per_line)
    return sum(_paragraph_lines(part, per_line) for part in text.split("\n"))


def _paragraph_lines(part: str, per_line: float) -> int:
    units = text_units(part)
    if units <= per_line:  # a line that fits loses nothing to wrapping
        return 1
    breaks = part.count(" ") + part.count("-") + 1 + (0 if part.isascii() else len(_WIDE.findall(part)))
    loss = min(max(_MIN_LOSS, _WRAP_LOSS * units / breaks), per_line / 3)
    return math.ceil(units / max(1.0, per_line - loss))


def word_lines(text: str, per_line: float) -> int:
    """Lines of a greedy word wrap of ``text`` (exact where :func:`_lines` estimates: for a
    few short texts, such as header cells)."""
    total = 0
    for part in text.split("\n"):
        total += 1
        used = 0.0
        for word in part.split(" "):
            units = text_units(word)
            if used and used + _ASCII[32] + units > per_line:
                total += 1
                used = 0.0
            used = units if not used else used + _ASCII[32] + units
            while used > per_line:  # a word longer than the line breaks inside it
                total += 1
                used -= per_line
    return total


def counted_lines(text: str, per_line: float) -> int:
    """Wrapped lines from the characters' count (:func:`display_width`: wide ones double),
    1.25 units each, in a column holding ``per_line`` units a line: a cheaper estimate than
    :func:`_lines`, for sheets too long to print."""
    units_per_line = per_line / 1.25
    if len(text) * 2 <= units_per_line:  # every paragraph fits on a line, whatever its characters
        return text.count("\n") + 1
    narrow = text.isascii()
    lines = 0
    for part in text.split("\n"):
        width = len(part)
        if width * 2 > units_per_line and not narrow:  # only a longer paragraph's wide characters matter
            width = display_width(part)
        lines += math.ceil(width / units_per_line) if width > units_per_line else 1
    return lines


def row_height(lines: int) -> float:
    """Points of a row showing ``lines`` wrapped lines (Excel caps a row at 409 pt)."""
    return min(409.0, _LINE_PT * lines + _ROW_PAD_PT)
