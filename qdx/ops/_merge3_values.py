"""Three-way merge of plain values, for :mod:`qdx.ops.merge3`: the marker of a field on a side
where the object does not exist, value normalisation, order and reference-set merges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from qdx.model import Guid
from qdx.ops.pairing import colour

R = TypeVar("R")


class _Missing:
    """The value of a field of an object that does not exist on that side."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


def norm(name: str, value: object) -> object:
    # Colour case carries no meaning (REFI RGBType, docs/quirks.md §2); an empty description
    # is no description (as the two-way merge's signature treats it).
    if name == "color" and isinstance(value, str):
        return colour(value)
    if name == "description" and value == "":
        return None
    return value


def _is_guid_list(value: object) -> bool:
    return isinstance(value, tuple) and all(isinstance(x, Guid) for x in value) and len(value) > 0


def union_order(*sides: Iterable[R], key: Callable[[R], object]) -> list[R]:
    seen: set[object] = set()
    out: list[R] = []
    for side in sides:
        for item in side:
            k = key(item)
            if k not in seen:
                seen.add(k)
                out.append(item)
    return out


def preferred(base: Sequence[R], ours: Sequence[R], theirs: Sequence[R], key: Callable[[R], object]) -> list[R]:
    """All items, deduplicated by ``key``, in ours' order, or theirs' when ours kept the base's
    (so a side that only reordered keeps its order, and ``merge3(b, b, x) == x``)."""
    if [key(x) for x in ours] == [key(x) for x in base]:
        return union_order(theirs, ours, base, key=key)
    return union_order(ours, theirs, base, key=key)


def merge_set(base: Sequence[Guid], ours: Sequence[Guid], theirs: Sequence[Guid]) -> tuple[Guid, ...]:
    """Three-way merge of a set of references: kept by both, or added by one side."""
    kb, ko, kt = ({g.key for g in s} for s in (base, ours, theirs))
    keep = (ko & kt) | (ko - kb) | (kt - kb)
    return tuple(g for g in preferred(base, ours, theirs, key=lambda g: g.key) if g.key in keep)
