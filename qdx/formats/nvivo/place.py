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


def _search(
    haystack: str,
    needle: str,
    near: int,
    skip: Callable[[int], bool],
    used: Callable[[int], bool],
    end: int | None = None,
) -> int:
    """The first occurrence at or after ``near`` not skipped, else the nearest unused one before.

    ``skip`` rejects forward candidates (already used, or not after the previous reference);
    the backward fallback (an export not in document order) only avoids ``used`` ranges.
    Only ``haystack[:end]`` is searched when ``end`` is given.
    """
    stop = len(haystack) if end is None else end
    pos = haystack.find(needle, max(near, 0), stop)
    while pos != -1 and skip(pos):
        pos = haystack.find(needle, pos + 1, stop)
    if pos != -1:
        return pos
    limit = min(max(near, 0) + len(needle) - 1, stop)
    pos = haystack.rfind(needle, 0, limit)
    while pos != -1 and used(pos):
        pos = haystack.rfind(needle, 0, pos + len(needle) - 1)
    return pos


class SourcePlacer:
    """Places passages in one source text."""

    def begin_block(self) -> None:
        """Nothing to do: the source text is whole from the start."""

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

    A passage is looked for only in the text other codes' blocks built (:meth:`begin_block`):
    NVivo merges overlapping references of one code, so a code's references never reuse each
    other's text. With the text kept as pieces (joined only when a search needs it) and a
    search skipped when the passage provably is not there (:meth:`_maybe_present`), a block
    costs time linear in its passages; appending to one string and searching all of it for
    every new passage made a 40,000-reference block quadratic.
    """

    SEPARATOR = "\n\n"
    # Width of the text blocks whose hashes tell a new passage from a reused one.
    GRAM = 8

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._length = 0
        self._joined = ""
        self._grams: set[int] = set()
        self._tail = ""  # the text's end not yet hashed (shorter than GRAM)
        self._searchable = 0  # the text before the current block

    def begin_block(self) -> None:
        """Start the references of another code: what is in the text now may be reused."""
        self._searchable = self._length

    @property
    def text(self) -> str:
        if len(self._joined) != self._length:
            self._joined = "".join(self._pieces)
            self._pieces = [self._joined]
        return self._joined

    def _append(self, piece: str) -> None:
        self._pieces.append(piece)
        self._length += len(piece)
        size = self.GRAM
        tail = self._tail + piece
        whole = len(tail) - len(tail) % size
        self._grams.update(hash(tail[j : j + size]) for j in range(0, whole, size))
        self._tail = tail[whole:]

    def _maybe_present(self, passage: str) -> bool:
        """False only when ``passage`` cannot occur in the text (so the search is skipped).

        The text's aligned blocks ``text[j:j+GRAM]`` (j a multiple of GRAM) are hashed as
        they are appended. An occurrence of the passage at offset ``o`` into it relative to
        that alignment holds every block ``passage[o+i*GRAM:o+(i+1)*GRAM]`` that fits, and a
        passage of at least 2*GRAM-1 characters holds at least one; so an offset whose blocks
        are all hashed is needed for an occurrence.
        """
        size = self.GRAM
        if len(passage) < 2 * size - 1:
            return True
        grams = self._grams
        return any(
            all(hash(passage[j : j + size]) in grams for j in range(o, len(passage) - size + 1, size))
            for o in range(size)
        )

    def place(self, passage: str, prev: tuple[int, int], used: Used) -> Placement | None:
        """Reuse an identical passage already in the text, else append ``passage``."""
        if not passage:
            return None
        size = len(passage)

        def taken(p: int) -> bool:
            return (p, p + size) in used

        pos = -1
        if size <= self._searchable and self._maybe_present(passage):
            pos = _search(
                self.text, passage, prev[0], lambda p: taken(p) or (p, p + size) <= prev, taken, self._searchable
            )
        if pos != -1:
            return Placement(pos, pos + size, "exact")
        if self._length:
            self._append(self.SEPARATOR)
        start = self._length
        self._append(passage)
        return Placement(start, start + size, "appended")
