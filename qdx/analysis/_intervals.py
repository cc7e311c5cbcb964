"""Vectorised interval sweeps: many groups of half-open ``[start, end)`` intervals at once.

Agreement counts units (characters, sentences, paragraphs) coded by two coders. Rather than
looping over characters, every group (one code in one source) is shifted onto its own stretch of
one long axis (``group * stride + position``), all interval ends become +1/−1 events, and one
sort plus two cumulative sums give each elementary piece's coverage by coder A and coder B.
Counts per group then come from ``np.bincount`` over the pieces' lengths.
"""

from __future__ import annotations

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

    Krippendorff's unitizing α needs squared segment lengths (METHODS.md §A.3, S_c); adjacent
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
