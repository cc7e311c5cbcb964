"""Position arithmetic for REFI-QDA text selections: code points, UTF-16 units, CRLF.

The model keeps ``[start, end)`` in Unicode code points over the text as held (BOM removed,
line ends as stored; REFI §10.2, docs/quirks.md §5.1). Producers count differently:

* ``codepoint``    - the spec (REFI §10.2), MAXQDA, QualCoder, qc, qdx itself;
* ``utf16``        - NVivo for Windows and Mac: UTF-16 code units, an astral character
  (emoji) counts 2, CRLF counts 2 (docs/quirks.md quirk 1);
* ``codepoint-lf`` - ATLAS.ti: code points with CRLF counted as one (quirk 9).

:class:`PositionMap` converts both ways in O(log n) per position after an O(n) scan of
the text (bisect over the few astral characters / CRLF pairs), so converting every
selection of a long transcript costs no per-character Python loop.

>>> m = PositionMap("a😀b\\r\\nc", "utf16")
>>> m.to_model(4), m.from_model(3)
(3, 4)
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence

from qdx.options import POSITION_UNITS

CODEPOINT = "codepoint"
UTF16 = "utf16"
CODEPOINT_LF = "codepoint-lf"
UNITS: tuple[str, ...] = POSITION_UNITS  # codepoint, utf16, codepoint-lf

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_CRLF = re.compile("\r\n")
_LONE_LF = re.compile("(?<!\r)\n")


def check_unit(unit: str) -> str:
    """Return ``unit`` if it is a known position unit.

    Raises:
        ValueError: the unit is not one of :data:`UNITS`.
    """
    if unit not in UNITS:
        raise ValueError(f"unknown position unit {unit!r}; known: {', '.join(UNITS)}")
    return unit


class PositionMap:
    """Converts positions between the model's code points and a producer's ``unit``.

    Args:
        text: the text as the model holds it.
        unit: the producer's unit (one of :data:`UNITS`).

    Positions outside the text are extrapolated linearly, so out-of-range values survive a
    round trip and can still be reported by validation.
    """

    __slots__ = ("_extra", "_extra_units", "unit")

    def __init__(self, text: str, unit: str) -> None:
        self.unit = check_unit(unit)
        # _extra: model positions (code points) of the items that make the two scales
        # differ - astral characters (each +1 in UTF-16) or the LF of CRLF pairs (each -1).
        # Arrays of machine integers, not lists of int objects: a 124 MB text with an emoji
        # every few words has millions of these, at 36 bytes each in a list.
        if unit == UTF16:
            # isascii() is a C-speed shortcut for the common case of no astral characters.
            extra = array("q") if text.isascii() else array("q", (m.start() for m in _ASTRAL.finditer(text)))
            # UTF-16 offset where each astral character starts.
            units = array("q", (pos + i for i, pos in enumerate(extra)))
        elif unit == CODEPOINT_LF:
            extra = array("q", (m.start() + 1 for m in _CRLF.finditer(text))) if "\r\n" in text else array("q")
            # producer offset of each CR (its LF is not counted).
            units = array("q", (pos - 1 - i for i, pos in enumerate(extra)))
        else:
            extra, units = array("q"), array("q")
        self._extra, self._extra_units = extra, units

    @property
    def identity(self) -> bool:
        """True when both scales agree everywhere on this text."""
        return not self._extra

    def from_model(self, pos: int) -> int:
        """Model code point offset -> producer offset."""
        if not self._extra:
            return pos
        before = bisect_left(self._extra, pos)
        return pos + before if self.unit == UTF16 else pos - before

    def to_model(self, pos: int) -> int:
        """Producer offset -> model code point offset.

        An offset inside a surrogate pair (UTF-16) maps to the start of that character.
        """
        if not self._extra:
            return pos
        if self.unit == UTF16:
            return pos - bisect_left(self._extra_units, pos)
        # codepoint-lf: every CRLF pair starting before ``pos`` adds its hidden LF back.
        return pos + bisect_left(self._extra_units, pos)

    def exact(self, pos: int) -> bool:
        """True when producer offset ``pos`` maps to a character boundary exactly."""
        return self.from_model(self.to_model(pos)) == pos


def to_crlf(text: str) -> str:
    """Turn every lone LF into CRLF (what NVivo for Windows stores, docs/quirks.md quirk 2)."""
    return _LONE_LF.sub("\r\n", text)


def crlf_shift(text: str) -> list[int]:
    """Model positions of the lone LFs that :func:`to_crlf` widens (sorted)."""
    return [m.start() for m in _LONE_LF.finditer(text)]


def shift_for_crlf(shifts: Sequence[int], pos: int) -> int:
    """Where model offset ``pos`` of a text lands after :func:`to_crlf` (``shifts`` from
    :func:`crlf_shift`)."""
    return pos + bisect_left(shifts, pos)


def is_word_start(text: str, pos: int) -> bool:
    """True when ``pos`` starts a word: preceded by non-alphanumeric (or the text start) and
    not itself whitespace (the test of docs/quirks.md §8)."""
    if pos < 0 or pos >= len(text):
        return pos == len(text) and pos > 0
    if text[pos].isspace():
        return False
    return pos == 0 or not text[pos - 1].isalnum()


def boundary_share(text: str, starts: Iterable[int]) -> tuple[int, int]:
    """(hits, total): how many of ``starts`` fall on a word start in ``text``."""
    hits = total = 0
    for pos in starts:
        total += 1
        hits += is_word_start(text, pos)
    return hits, total
