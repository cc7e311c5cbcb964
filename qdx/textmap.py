"""Two copies of one text: are they the same text, and where does a passage of one sit in the other?

The same study exported twice rarely gives the same bytes: NVivo for Windows writes CRLF and a
BOM, NVivo for Mac LF and a final blank line (docs/quirks.md §1-3), an editor strips trailing
blanks. Diff, merge and agreement compare two projects' codings through this module, so a coding
on the same passage is the same coding whatever the line endings.

* **Representation.** Two texts are the *same text* when their canonical forms are equal: BOM
  removed, CRLF and lone CR read as LF, whitespace at the end of each line and of the text
  removed. Every character removed is a deletion span in the original; positions map between
  original and canonical exactly (bisect over the spans, O(log n)).
* **Edits.** When the canonical forms differ (words inserted or deleted), the texts are aligned
  with :mod:`difflib` (lines first, then characters inside changed blocks) into equal blocks. A
  passage is carried across when it lies wholly inside one equal block, so its text is the same
  on both sides; otherwise it is *lost*, and callers list it (never drop it silently).

Each carried passage is ``unchanged`` (same canonical position), ``moved`` (same text, shifted by
edits elsewhere) or ``lost``.

>>> m = TextMap("\\ufeffab \\r\\ncd\\r\\n", "ab\\ncd\\n\\n")
>>> m.kind, m.carry(6, 8)
('representation', Carried(status='unchanged', start=3, end=5))
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from typing import Literal

from qdx.model import TextSelection, TextSource

Kind = Literal["identical", "representation", "edited"]
Status = Literal["unchanged", "moved", "lost"]

# What the canonical form removes, leftmost first: all whitespace ending the text; a BOM at the
# start; blanks before a line end; the CR of a CRLF pair. A lone CR becomes LF (same length).
_REMOVED = re.compile(r"\s+\Z|\A\ufeff|[^\S\r\n]+(?=\r\n|\r|\n)|\r(?=\n)")
# Char-level matches shorter than this inside a changed block are chance ("e" matching "e").
_MIN_CHAR_BLOCK = 4
# Above this many character pairs a changed block is not aligned character by character.
_MAX_CHAR_WORK = 4_000_000


class Canonical:
    """A text's canonical form and the exact position map from the original to it."""

    __slots__ = ("_bom", "_cum", "_ends", "_starts", "_starts_canon", "text")

    def __init__(self, original: str) -> None:
        starts: list[int] = []
        ends: list[int] = []
        pieces: list[str] = []
        last = 0
        for match in _REMOVED.finditer(original):
            pieces.append(original[last : match.start()])
            starts.append(match.start())
            ends.append(match.end())
            last = match.end()
        pieces.append(original[last:])
        text = "".join(pieces)
        self.text = text.replace("\r", "\n") if "\r" in text else text
        self._starts, self._ends = starts, ends
        cum = [0]
        for s, e in zip(starts, ends, strict=True):
            cum.append(cum[-1] + e - s)
        self._cum = cum
        self._starts_canon = [s - cum[i] for i, s in enumerate(starts)]
        self._bom = original.startswith("\ufeff")

    def to_canon(self, pos: int) -> int:
        """Original offset -> canonical offset (inside a removed run: where the run was)."""
        k = bisect_right(self._starts, pos) - 1
        if k < 0:
            return pos
        if pos < self._ends[k]:
            return self._starts[k] - self._cum[k]
        return pos - self._cum[k + 1]

    def from_canon(self, pos: int) -> int:
        """Canonical offset -> the leftmost original offset that maps to it (never before text
        behind a BOM: a passage starts after it)."""
        found = pos + self._cum[bisect_left(self._starts_canon, pos)]
        return 1 if found == 0 and self._bom else found


@dataclass(frozen=True, slots=True)
class Carried:
    """Where a passage of text A lies in text B; ``start``/``end`` are None when it is lost."""

    status: Status
    start: int | None
    end: int | None


class TextMap:
    """Maps passages of text ``a`` onto text ``b`` (see the module docstring).

    Args:
        a: the first copy (positions given to :meth:`carry` are offsets into it).
        b: the second copy.
    """

    __slots__ = ("_a", "_b", "_blocks_a", "_blocks_b", "_blocks_n", "kind")

    def __init__(self, a: str, b: str) -> None:
        self._a, self._b = Canonical(a), Canonical(b)
        ca, cb = self._a.text, self._b.text
        if a == b:
            self.kind: Kind = "identical"
        elif ca == cb:
            self.kind = "representation"
        else:
            self.kind = "edited"
        blocks = [(0, 0, len(ca))] if ca == cb else _align(ca, cb)
        self._blocks_a = [x for x, _, _ in blocks]
        self._blocks_b = [y for _, y, _ in blocks]
        self._blocks_n = [n for _, _, n in blocks]

    @property
    def same_text(self) -> bool:
        """True when the copies differ at most in line endings, a BOM or trailing whitespace."""
        return self.kind != "edited"

    def carry(self, start: int, end: int) -> Carried:
        """Carry the passage ``[start, end)`` of ``a`` onto ``b``."""
        ca, ce = self._a.to_canon(start), self._a.to_canon(end)
        k = bisect_right(self._blocks_a, ca) - 1
        if k < 0:
            return Carried("lost", None, None)
        base, n = self._blocks_a[k], self._blocks_n[k]
        # The whole passage must sit in one equal block (an empty one may touch its end).
        inside = ce <= base + n and (ca < base + n or (ca == ce == base + n))
        if not inside:
            return Carried("lost", None, None)
        delta = self._blocks_b[k] - base
        status: Status = "unchanged" if delta == 0 else "moved"
        return Carried(status, self._b.from_canon(ca + delta), self._b.from_canon(ce + delta))

    def locate(self, pos: int) -> int:
        """Where offset ``pos`` of ``a`` falls in ``b``: exact inside an equal block, else the
        end of the last equal block before it (a position inside an edit has no exact twin)."""
        c = self._a.to_canon(pos)
        k = bisect_right(self._blocks_a, c) - 1
        if k < 0:
            return 0
        base, n = self._blocks_a[k], self._blocks_n[k]
        return self._b.from_canon(self._blocks_b[k] + min(c - base, n))

    def reverse(self) -> TextMap:
        """The same map from ``b`` onto ``a``."""
        back = TextMap.__new__(TextMap)
        back._a, back._b, back.kind = self._b, self._a, self.kind
        order = sorted(range(len(self._blocks_b)), key=self._blocks_b.__getitem__)
        back._blocks_a = [self._blocks_b[i] for i in order]
        back._blocks_b = [self._blocks_a[i] for i in order]
        back._blocks_n = [self._blocks_n[i] for i in order]
        return back


def _align(a: str, b: str) -> list[tuple[int, int, int]]:
    """Equal blocks ``(a offset, b offset, length)`` of two canonical texts, sorted, adjacent ones merged.

    Lines first (fast on long transcripts), then characters inside each changed block of lines,
    so an edit inside a line keeps the rest of the line aligned.
    """
    lines_a, lines_b = a.splitlines(keepends=True), b.splitlines(keepends=True)
    off_a, off_b = _offsets(lines_a), _offsets(lines_b)
    out: list[tuple[int, int, int]] = []
    matcher = difflib.SequenceMatcher(None, lines_a, lines_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        x1, x2, y1, y2 = off_a[i1], off_a[i2], off_b[j1], off_b[j2]
        if tag == "equal":
            out.append((x1, y1, x2 - x1))
        elif tag == "replace" and (x2 - x1) * (y2 - y1) <= _MAX_CHAR_WORK:
            chars = difflib.SequenceMatcher(None, a[x1:x2], b[y1:y2], autojunk=False)
            for x, y, n in chars.get_matching_blocks():
                if n >= _MIN_CHAR_BLOCK:
                    out.append((x1 + x, y1 + y, n))
    merged: list[tuple[int, int, int]] = []
    for x, y, n in out:
        if merged and merged[-1][0] + merged[-1][2] == x and merged[-1][1] + merged[-1][2] == y:
            px, py, pn = merged[-1]
            merged[-1] = (px, py, pn + n)
        else:
            merged.append((x, y, n))
    return merged


def _offsets(lines: list[str]) -> list[int]:
    out = [0]
    for line in lines:
        out.append(out[-1] + len(line))
    return out


# --------------------------------------------------------------------------- documents


@dataclass(frozen=True, slots=True)
class SelectionOutcome:
    """What happened to one selection carried from one copy of a text to another."""

    selection: str
    status: Status
    before: tuple[int, int]
    after: tuple[int, int] | None
    codings: int

    def as_dict(self) -> dict[str, object]:
        return {
            "selection": self.selection,
            "status": self.status,
            "before": list(self.before),
            "after": list(self.after) if self.after is not None else None,
            "codings": self.codings,
        }


def carry_doc(doc: TextSource, text: str, tmap: TextMap | None = None) -> tuple[TextSource, list[SelectionOutcome]]:
    """``doc`` re-based onto ``text``: every selection carried, lost ones removed and reported.

    Args:
        doc: a text document whose selections are offsets into ``doc.text``.
        text: the other copy of the text.
        tmap: a prebuilt ``TextMap(doc.text, text)``.

    Returns:
        The document holding ``text`` with its selections moved onto it, and one outcome per
        selection (in the document's order), lost ones included.
    """
    tmap = tmap or TextMap(doc.text or "", text)
    kept: list[TextSelection] = []
    outcomes: list[SelectionOutcome] = []
    for sel in doc.selections:
        got = carry_selection(tmap, sel)
        outcomes.append(
            SelectionOutcome(
                sel.guid.key,
                got.status,
                (sel.start, sel.end),
                None if got.start is None or got.end is None else (got.start, got.end),
                len(sel.codings),
            )
        )
        if got.start is not None and got.end is not None:
            same = (got.start, got.end) == (sel.start, sel.end)
            kept.append(sel if same else replace(sel, start=got.start, end=got.end))
    return replace(doc, text=text, selections=tuple(kept)), outcomes


def carry_selection(tmap: TextMap, sel: TextSelection) -> Carried:
    """Carry one selection (start/end clamped into order first: an inverted range is lost)."""
    if sel.end < sel.start or sel.start < 0:
        return Carried("lost", None, None)
    return tmap.carry(sel.start, sel.end)
