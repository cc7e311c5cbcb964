"""The results of :func:`qdx.ops.merge.merge` and :func:`qdx.ops.merge3.merge3`: the merged
project, each conflict with its resolution, each text re-based, and the error raised when
``policy="fail"`` meets conflicts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from qdx.errors import QdxError
from qdx.model import Project
from qdx.textmap import SelectionOutcome

Json = object


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two inputs disagree about one object.

    ``kind``: ``content`` (same object, different content), ``text`` (a source whose text
    differs), ``moved`` (a code under different parents) or ``range`` (a selection GUID with a
    different range). ``input`` is the 0-based position of the input that disagreed with the
    merge of the inputs before it.
    """

    kind: str
    area: str
    guid: str
    name: str | None
    ours: Json
    theirs: Json
    input: int
    resolution: str

    def message(self) -> str:
        """One line for people: what, which object, both versions."""
        label = f"{self.area[:-1]} {self.name!r}" if self.name is not None else f"{self.area[:-1]}"
        return (
            f"input {self.input + 1}: {self.kind} conflict on {label} ({self.guid}): "
            f"ours={self.ours!r} theirs={self.theirs!r}"
        )

    def as_dict(self) -> dict[str, Json]:
        return {
            "kind": self.kind,
            "area": self.area,
            "guid": self.guid,
            "name": self.name,
            "ours": self.ours,
            "theirs": self.theirs,
            "input": self.input,
            "resolution": self.resolution,
        }


@dataclass(frozen=True, slots=True)
class TextCarry:
    """Theirs' copy of one text re-based onto ours' (step 0): how each selection fared."""

    source: str | None
    guid: str
    input: int
    kind: str  # representation (exact map) or edited (aligned)
    outcomes: tuple[SelectionOutcome, ...]
    carried: str = "theirs"  # whose selections moved onto the other's text

    def counts(self) -> dict[str, int]:
        found = Counter(o.status for o in self.outcomes)
        return {status: found.get(status, 0) for status in ("unchanged", "moved", "lost")}

    def as_dict(self) -> dict[str, Json]:
        return {
            "source": self.source,
            "guid": self.guid,
            "input": self.input,
            "kind": self.kind,
            "carried": self.carried,
            "selections": self.counts(),
            "lost": [o.as_dict() for o in self.outcomes if o.status == "lost"],
        }


@dataclass(frozen=True, slots=True)
class MergeResult:
    """The merged project, every conflict met (with how it was resolved) and every text re-based."""

    project: Project
    conflicts: tuple[Conflict, ...] = ()
    texts: tuple[TextCarry, ...] = ()


class MergeConflictError(QdxError):
    """``policy="fail"`` and the inputs conflict; ``conflicts`` lists them all."""

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        self.conflicts = tuple(conflicts)
        first = self.conflicts[0].message()
        more = f" (and {len(self.conflicts) - 1} more)" if len(self.conflicts) > 1 else ""
        super().__init__(f"{len(self.conflicts)} merge conflict(s): {first}{more}")


@dataclass(frozen=True, slots=True)
class Conflict3(Conflict):
    """A :class:`~qdx.ops.merge.Conflict` of a three-way merge: ``base`` is the common ancestor's
    value (None when the object is new on both sides); ``ours``/``theirs`` are the two sides'."""

    base: Json = None

    def message(self) -> str:
        label = f"{self.area[:-1]} {self.name!r}" if self.name is not None else f"{self.area[:-1]}"
        return (
            f"{self.kind} conflict on {label} ({self.guid}): "
            f"base={self.base!r} ours={self.ours!r} theirs={self.theirs!r}"
        )

    def as_dict(self) -> dict[str, Json]:
        out = {k: v for k, v in Conflict.as_dict(self).items() if k != "input"}
        return {**out, "base": self.base}

    def swapped(self) -> Conflict3:
        """The same conflict seen from the other side (``merge3(base, theirs, ours)``)."""
        flip = {"ours": "theirs", "theirs": "ours"}
        return replace(self, ours=self.theirs, theirs=self.ours, resolution=flip.get(self.resolution, self.resolution))
