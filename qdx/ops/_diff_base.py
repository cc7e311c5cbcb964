"""The results of :func:`qdx.ops.diff.diff` (:class:`Change`, :class:`DiffResult`) and the
context every part of the comparison reads: both projects' indexes and how their objects
were paired, so a reference in B can be read in A's terms.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from qdx.model import Guid, ProjectIndex
from qdx.ops.pairing import Matching

AREAS = (
    "project",
    "codes",
    "sources",
    "codings",
    "notes",
    "cases",
    "variables",
    "sets",
    "users",
    "links",
    "graphs",
)
DIFF_CONTEXT_LINES = 1
DIFF_MAX_LINES = 40

Json = object


@dataclass(frozen=True, slots=True)
class Change:
    """One difference. ``ident`` holds the identifying fields (ordered name/value pairs)."""

    area: str
    kind: str
    ident: tuple[tuple[str, Json], ...]
    before: Json = None
    after: Json = None

    def get(self, name: str) -> Json:
        """The identifying field ``name`` (None when absent)."""
        return next((value for key, value in self.ident if key == name), None)

    def as_dict(self) -> dict[str, Json]:
        """``{"kind": ..., <identifying fields>, "before": ..., "after": ...}`` for JSON."""
        return {"kind": self.kind, **dict(self.ident), "before": self.before, "after": self.after}


class DiffResult(tuple[Change, ...]):
    """The changes (a tuple, so ``diff(p, p) == ()``) plus how objects were paired.

    ``matching`` maps an area to counts per criterion, e.g. ``{"codes": {"guid": 40, "path": 2}}``.
    """

    matching: dict[str, dict[str, int]]

    def __new__(cls, changes: Iterable[Change], matching: dict[str, dict[str, int]]) -> DiffResult:
        self = super().__new__(cls, changes)
        self.matching = matching
        return self

    def by_area(self) -> dict[str, list[Change]]:
        """Changes grouped by area, every area present (possibly empty), in :data:`AREAS` order."""
        grouped: dict[str, list[Change]] = {area: [] for area in AREAS}
        for change in self:
            grouped.setdefault(change.area, []).append(change)
        return grouped

    def as_dict(self) -> dict[str, Json]:
        """The JSON document of ``qdx diff --json``."""
        out: dict[str, Json] = {area: [c.as_dict() for c in items] for area, items in self.by_area().items()}
        out["matching"] = self.matching
        return out



@dataclass(slots=True)
class DiffContext:
    """Both indexes and the pairings, so references in B can be read in A's terms."""

    a: ProjectIndex
    b: ProjectIndex
    codes: Matching
    sources: Matching
    users: Matching
    notes: Matching
    variables: Matching
    changes: list[Change]
    sort_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reattributed: Counter[tuple[str | None, str | None]] = field(default_factory=Counter)

    def code_label(self, key_b: str) -> tuple[str, ...]:
        """Path of a B code (what the user sees)."""
        guid = Guid(key_b)
        return self.b.code_path(guid) if guid in self.b.codes else (key_b,)

    def code_in_a(self, guid: Guid) -> str:
        """A B code reference in A's key space (unpaired B codes get a ``b:`` key)."""
        return self.codes.b_to_a.get(guid.key, "b:" + guid.key)

    def user_in_a(self, guid: Guid | None) -> str | None:
        if guid is None:
            return None
        return self.users.b_to_a.get(guid.key, "b:" + guid.key)


