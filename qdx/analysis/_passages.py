"""Disagreeing passages, whole: where two coders marked one code differently, what each marked.

The unit-level disagreements (:func:`qdx.analysis._intervals.disagreements`) are the pieces
one side coded and the other did not — often slivers of a few characters where two coders
started a passage one word apart. A coder meeting needs the passages themselves: every group
of overlapping segments of one code in one source (either side's), with side A's text beside
side B's, kept when the two sides' coded ranges differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qdx.analysis._codings import merge_ranges

Span = tuple[int, int]
GAP = " … "


@dataclass(frozen=True, slots=True)
class Passage:
    """One group of overlapping passages the two sides coded differently (code points, end
    exclusive); ``text_a``/``text_b``: each side's coded text in the group ("" = not coded)."""

    code: str
    code_path: tuple[str, ...]
    source: str
    start: int
    end: int
    text_a: str
    text_b: str

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "code_path": list(self.code_path), "source": self.source,
                "start": self.start, "end": self.end, "text_a": self.text_a, "text_b": self.text_b}


def _groups(a: Sequence[Span], b: Sequence[Span]) -> Iterable[tuple[list[Span], list[Span]]]:
    """Maximal groups of segments (from both sides) chained by overlap, in text order."""
    events = sorted([(s, e, True) for s, e in a] + [(s, e, False) for s, e in b])
    group_a: list[Span] = []
    group_b: list[Span] = []
    reach = -1
    for start, end, is_a in events:
        if (group_a or group_b) and start >= reach:
            yield group_a, group_b
            group_a, group_b, reach = [], [], -1
        (group_a if is_a else group_b).append((start, end))
        reach = max(reach, end)
    if group_a or group_b:
        yield group_a, group_b


def differing_passages(a: Sequence[Span], b: Sequence[Span], text: str | None) -> list[tuple[int, int, str, str]]:
    """(start, end, A's text, B's text) of each group whose coded ranges differ between sides."""
    out = []
    for group_a, group_b in _groups(a, b):
        ranges_a, ranges_b = merge_ranges(group_a), merge_ranges(group_b)
        if ranges_a == ranges_b:
            continue
        spans = ranges_a + ranges_b
        start, end = min(s for s, _ in spans), max(e for _, e in spans)
        body = text or ""
        out.append((start, end, GAP.join(body[s:e] for s, e in ranges_a), GAP.join(body[s:e] for s, e in ranges_b)))
    return out
