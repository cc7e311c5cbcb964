"""Finding an exported passage in its source text (rebuilding offsets from a coded-text export).

The Reference view keeps only the passage text (docs/nvivo-exports.md §c: it never keeps
offsets). To rebuild selections we search each passage in the matching source: exactly first,
then with whitespace collapsed (exports re-wrap lines and turn CRLF into LF), choosing the
occurrence nearest to (and preferably after) the previous reference, because NVivo lists a
code's references in document order. Offsets are code points over the text as stored (the
model's unit, REFI §10.2).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass

_WS = re.compile(r"\s+")

Used = set[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a passage was found and how (``exact``, ``whitespace``, ``appended``)."""

    start: int
    end: int
    method: str


def _search(haystack: str, needle: str, near: int, skip: Callable[[int], bool], used: Callable[[int], bool]) -> int:
    """The first occurrence at or after ``near`` not skipped, else the nearest unused one before.

    ``skip`` rejects forward candidates (already used, or not after the previous reference);
    the backward fallback (an export not in document order) only avoids ``used`` ranges.
    """
    pos = haystack.find(needle, max(near, 0))
    while pos != -1 and skip(pos):
        pos = haystack.find(needle, pos + 1)
    if pos != -1:
        return pos
    limit = min(max(near, 0) + len(needle) - 1, len(haystack))
    pos = haystack.rfind(needle, 0, limit)
    while pos != -1 and used(pos):
        pos = haystack.rfind(needle, 0, pos + len(needle) - 1)
    return pos


class SourcePlacer:
    """Places passages in one source text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._norm: str | None = None
        self._starts: list[int] = []
        self._ends: list[int] = []

    def place(self, passage: str, prev: tuple[int, int], used: Used) -> Placement | None:
        """Find ``passage`` after (else nearest before) the previous reference of its code.

        Args:
            passage: the exported text of one reference.
            prev: (start, end) of the previous reference of the same code in this source;
                NVivo lists references in document order, so the next one sorts after it.
            used: ranges already given to this code (NVivo merges identical ranges of one code).

        Returns:
            The placement, or None when the passage is not in the text.
        """
        if not passage:
            return None
        size = len(passage)

        def taken(p: int) -> bool:
            return (p, p + size) in used

        def skip(p: int) -> bool:
            return taken(p) or (p, p + size) <= prev

        pos = _search(self.text, passage, prev[0], skip, taken)
        if pos != -1:
            return Placement(pos, pos + size, "exact")
        return self._place_normalised(passage, prev, used)

    def _normalised(self) -> str:
        if self._norm is None:
            pieces: list[str] = []
            last = 0
            for match in _WS.finditer(self.text):
                self._keep(last, match.start(), pieces)
                pieces.append(" ")
                self._starts.append(match.start())
                self._ends.append(match.start() + 1)
                last = match.end()
            self._keep(last, len(self.text), pieces)
            self._norm = "".join(pieces)
        return self._norm

    def _keep(self, start: int, end: int, pieces: list[str]) -> None:
        pieces.append(self.text[start:end])
        self._starts.extend(range(start, end))
        self._ends.extend(range(start + 1, end + 1))

    def _place_normalised(self, passage: str, prev: tuple[int, int], used: Used) -> Placement | None:
        needle = _WS.sub(" ", passage).strip()
        if not needle:
            return None
        norm = self._normalised()
        near_norm = bisect.bisect_left(self._starts, prev[0])
        size = len(needle)

        def span(p: int) -> tuple[int, int]:
            return self._starts[p], self._ends[p + size - 1]

        def taken(p: int) -> bool:
            return span(p) in used

        pos = _search(norm, needle, near_norm, lambda p: taken(p) or span(p) <= prev, taken)
        if pos == -1:
            return None
        return Placement(self._starts[pos], self._ends[pos + size - 1], "whitespace")


class PassageBuilder:
    """Builds a stand-in source from the coded passages alone (no ``--sources``).

    A passage already present (coded at another code, or a sub-passage) is reused, so two
    codes on the same passage share a range; otherwise it is appended after a blank line.
    """

    SEPARATOR = "\n\n"

    def __init__(self) -> None:
        self.text = ""

    def place(self, passage: str, prev: tuple[int, int], used: Used) -> Placement | None:
        """Reuse an identical passage already in the text, else append ``passage``."""
        if not passage:
            return None
        size = len(passage)

        def taken(p: int) -> bool:
            return (p, p + size) in used

        pos = _search(self.text, passage, prev[0], lambda p: taken(p) or (p, p + size) <= prev, taken)
        if pos != -1:
            return Placement(pos, pos + size, "exact")
        if self.text:
            self.text += self.SEPARATOR
        start = len(self.text)
        self.text += passage
        return Placement(start, start + size, "appended")
