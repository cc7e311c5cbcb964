"""Vectorised interval sweeps: many groups of half-open ``[start, end)`` intervals at once.

Agreement counts units (characters, sentences, paragraphs) coded by two coders. Rather than
looping over characters, every group (one code in one source) is shifted onto its own stretch of
one long axis (``group * stride + position``), all interval ends become +1/−1 events, and one
sort plus two cumulative sums give each elementary piece's coverage by coder A and coder B.
Counts per group then come from ``np.bincount`` over the pieces' lengths.

Segment matching (MAXQDA-style overlap, Holsti pairs) works on each group's own segments.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Intervals:
    """Intervals tagged with a group number; ``start < end`` is not required (empties are ignored)."""

    group: IntArray
    start: IntArray
    end: IntArray

    @staticmethod
    def of(group: list[int], start: list[int], end: list[int]) -> Intervals:
        return Intervals(
            group=np.asarray(group, dtype=np.int64),
            start=np.asarray(start, dtype=np.int64),
            end=np.asarray(end, dtype=np.int64),
        )

    def nonempty(self) -> Intervals:
        keep = self.end > self.start
        return Intervals(group=self.group[keep], start=self.start[keep], end=self.end[keep])


@dataclass(frozen=True, slots=True)
class Pieces:
    """Elementary pieces of the swept axis: group, ``[start, end)`` and who covers them."""

    group: IntArray
    start: IntArray
    end: IntArray
    in_a: NDArray[np.bool_]
    in_b: NDArray[np.bool_]


def sweep(a: Intervals, b: Intervals, stride: int) -> Pieces:
    """Cut the axis at every interval end and say which coder covers each piece.

    Args:
        a: coder A's intervals (may overlap each other; coverage counts, not 0/1, are swept).
        b: coder B's intervals.
        stride: larger than every position, so groups never touch each other.

    Returns:
        The pieces covered by at least one coder, in axis order.
    """
    a, b = a.nonempty(), b.nonempty()
    pos = np.concatenate(
        [a.group * stride + a.start, a.group * stride + a.end, b.group * stride + b.start, b.group * stride + b.end]
    )
    na, nb = a.start.size, b.start.size
    da = np.concatenate([np.ones(na), -np.ones(na), np.zeros(2 * nb)]).astype(np.int64)
    db = np.concatenate([np.zeros(2 * na), np.ones(nb), -np.ones(nb)]).astype(np.int64)
    order = np.argsort(pos, kind="stable")
    pos = pos[order]
    # Coverage after each event; between tied positions a piece has zero length, so only the
    # state after the last event at a position ever counts.
    cov_a = np.cumsum(da[order])[:-1] > 0
    cov_b = np.cumsum(db[order])[:-1] > 0
    starts, ends = pos[:-1], pos[1:]
    keep = (ends > starts) & (cov_a | cov_b)
    groups = starts[keep] // stride
    return Pieces(
        group=groups,
        start=starts[keep] - groups * stride,
        end=ends[keep] - groups * stride,
        in_a=cov_a[keep],
        in_b=cov_b[keep],
    )


def counts(pieces: Pieces, n_groups: int) -> tuple[IntArray, IntArray, IntArray]:
    """Per group: units covered by both coders, by A only and by B only."""
    length = (pieces.end - pieces.start).astype(np.float64)

    def total(mask: NDArray[np.bool_]) -> IntArray:
        summed = np.bincount(pieces.group[mask], weights=length[mask], minlength=n_groups)
        return np.rint(summed).astype(np.int64)

    both = pieces.in_a & pieces.in_b
    return total(both), total(pieces.in_a & ~pieces.in_b), total(~pieces.in_a & pieces.in_b)


def disagreements(pieces: Pieces) -> Pieces:
    """Pieces covered by exactly one coder, adjacent pieces of the same kind joined."""
    mask = pieces.in_a != pieces.in_b
    group, start, end = pieces.group[mask], pieces.start[mask], pieces.end[mask]
    in_a = pieces.in_a[mask]
    if group.size == 0:
        return Pieces(group=group, start=start, end=end, in_a=in_a, in_b=~in_a)
    joins = (group[1:] == group[:-1]) & (start[1:] == end[:-1]) & (in_a[1:] == in_a[:-1])
    first = np.flatnonzero(np.concatenate([[True], ~joins]))
    last = np.concatenate([first[1:] - 1, [group.size - 1]])
    return Pieces(group=group[first], start=start[first], end=end[last], in_a=in_a[first], in_b=~in_a[first])


def to_units(unit_start: IntArray, unit_end: IntArray, start: IntArray, end: IntArray) -> tuple[IntArray, IntArray]:
    """Map character intervals to ranges of unit indices: a unit counts if any character is covered.

    Args:
        unit_start: sorted, disjoint unit starts (characters).
        unit_end: their ends.
        start: coded interval starts (characters).
        end: coded interval ends.

    Returns:
        ``[first, last)`` unit indices per interval (``first >= last`` when no unit is touched).
    """
    first = np.searchsorted(unit_end, start, side="right")
    last = np.searchsorted(unit_start, end, side="left")
    return first.astype(np.int64), last.astype(np.int64)


def run_square_sums(pieces: Pieces, covered: NDArray[np.bool_], n_groups: int) -> IntArray:
    """Per group, Σ length² of one coder's maximal coded runs (``covered`` says which pieces).

    Krippendorff's unitizing α needs squared segment lengths (docs/methods.md §A.3, S_c); adjacent
    covered pieces of a group are one run.
    """
    group, start, end = pieces.group[covered], pieces.start[covered], pieces.end[covered]
    if group.size == 0:
        return np.zeros(n_groups, dtype=np.int64)
    joins = (group[1:] == group[:-1]) & (start[1:] == end[:-1])
    first = np.flatnonzero(np.concatenate([[True], ~joins]))
    lengths = np.add.reduceat(end - start, first).astype(np.float64)
    summed = np.bincount(group[first], weights=lengths * lengths, minlength=n_groups)
    return np.rint(summed).astype(np.int64)


# --------------------------------------------------------------------------- segment matching


def overlap_rate(a: tuple[int, int], b: tuple[int, int], measure: str) -> float:
    """How much two segments overlap: over their combined extent (``iou``) or the shorter one."""
    inter = min(a[1], b[1]) - max(a[0], b[0])
    if inter <= 0:
        return 0.0
    # "iou": shared extent over the combined extent of both segments (MAXQDA, docs/methods.md §A.2).
    whole = max(a[1], b[1]) - min(a[0], b[0]) if measure == "iou" else min(a[1] - a[0], b[1] - b[0])
    return inter / whole


def match_segments(
    a: list[tuple[int, int]], b: list[tuple[int, int]], threshold: float, measure: str
) -> tuple[int, int, int]:
    """Segments of A with a match in B, segments of B with a match in A, one-to-one pairs.

    The overlap rate is symmetric, so one pass from A's side finds every matching pair; the
    greedy one-to-one pairing (first free partner) gives Holsti's A.
    """
    b = sorted(b)
    starts = [s for s, _ in b]
    longest = max((e - s for s, e in b), default=0)
    matched_a, hit_b, used, pairs = 0, set(), set(), 0
    for seg in sorted(a):
        lo = bisect.bisect_left(starts, seg[0] - longest)
        hi = bisect.bisect_left(starts, seg[1])
        hits = [j for j in range(lo, hi) if overlap_rate(seg, b[j], measure) >= threshold - 1e-12]
        if hits:
            matched_a += 1
            hit_b.update(hits)
            free = next((j for j in hits if j not in used), None)
            if free is not None:
                used.add(free)
                pairs += 1
    return matched_a, len(hit_b), pairs


def segments_by_group(keys: IntArray, start: IntArray, end: IntArray) -> dict[int, list[tuple[int, int]]]:
    """Each group's non-empty segments, partitioned with one sort instead of a Python loop."""
    keep = end > start
    keys, start, end = keys[keep], start[keep], end[keep]
    order = np.lexsort((start, keys))
    keys, start, end = keys[order], start[order], end[order]
    firsts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]])) if keys.size else keys
    bounds = [*firsts.tolist(), int(keys.size)]
    starts, ends = start.tolist(), end.tolist()
    return {int(keys[lo]): list(zip(starts[lo:hi], ends[lo:hi], strict=True)) for lo, hi in itertools.pairwise(bounds)}
