"""Three-way merge: two copies of a project (``ours``, ``theirs``) edited from a common ``base``.

A two-way merge cannot tell "A changed this definition" from "B still has the old one", so
every one-sided edit is a conflict or is lost. With the base, each field of each object is
merged like git merges lines:

* changed on one side only -> that side's value;
* changed the same way on both -> that value, once;
* changed differently -> a :class:`Conflict3` (with the base value), resolved by ``policy``
  as in :func:`qdx.ops.merge.merge`: ``fail`` lists them all and raises, ``ours`` / ``theirs``
  take that side, ``keep-both`` keeps ours' value (a field cannot hold two values).

The steps:

1. **Align** both sides to the base with the two-way merge's pairing (:class:`qdx.ops.merge._Step`:
   codes by GUID, path, name, or content with ``match="content"``; sources by GUID, content,
   name; ...), so every object speaks the base's GUIDs. Objects that both sides added are then
   paired with each other the same way. GUIDs that would collide are re-minted (REFI §3.1).
2. **Merge** per object and field: code name, description, colour, codable flag and parent;
   every scalar field of sources, notes, cases, variables, users, sets, links and graphs;
   GUID lists (set memberships, note references, case members) as sets; variable values per
   variable. An object deleted on one side and unchanged on the other is deleted; deleted on
   one side and changed on the other is a ``deleted`` conflict.
3. **Codings** are compared per text or media part as a multiset of (range, code, coder), the
   identity the two-way merge and diff use (REFI §3.13), so a coding added on one side is
   added, one removed on one side is removed, and a boundary change is a removal plus an
   addition (a selection whose boundary both sides changed differently keeps both and is a
   listed ``range`` conflict; a coding recoded differently on both sides is a conflict too).
   A text edited on one side keeps the other side's codings by carrying them across with
   :mod:`qdx.textmap`; a coding that cannot be carried is listed as a ``lost`` conflict.
   A code deleted on one side but still used by a merged coding or code is kept and listed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

from qdx.errors import UsageError
from qdx.model import (
    Code,
    Coding,
    Guid,
    Project,
    Source,
    TextSource,
    Transcript,
    VariableValue,
    iter_codes,
    iter_selections,
)
from qdx.ops.merge import (
    Conflict,
    MergeConflictError,
    MergeResult,
    TextCarry,
    _Step,
)
from qdx.ops.pairing import mint_guid, own_key, owners, remap_guids, selection_range
from qdx.ops.renames import DEFAULT_SIMILARITY
from qdx.options import MATCH_LEVELS, POLICIES, MatchLevel, Policy
from qdx.textmap import TextMap, carry_doc

R = TypeVar("R")
Json = object
# Salts for re-minted GUIDs: aligning ours, theirs, and theirs' new objects to ours' new ones.
_SALT_OURS, _SALT_THEIRS, _SALT_BOTH, _SALT_OUT = 31, 32, 33, 34


class _Missing:
    """The value of a field of an object that does not exist on that side."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


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


def merge3(
    base: Project,
    ours: Project,
    theirs: Project,
    *,
    policy: Policy = "fail",
    match: MatchLevel = "path",
    similarity: float = DEFAULT_SIMILARITY,
) -> MergeResult:
    """Merge ``ours`` and ``theirs``, two edited copies of ``base``; no input is modified.

    Args:
        base: the common ancestor (e.g. the project the lead sent out; git's ``%O``).
        ours: one edited copy; its order and metadata come first (git's ``%A``).
        theirs: the other edited copy (git's ``%B``).
        policy: how a field changed differently on both sides is resolved: ``fail``
            (default: raise listing all), ``ours``, ``theirs`` or ``keep-both``.
        match: loosest criterion pairing codes that lost their shared GUID: ``guid``,
            ``path``, ``name`` or ``content`` (:mod:`qdx.ops.renames`).
        similarity: the least similarity (0..1) pairing two codes with ``match="content"``.

    Returns:
        :class:`~qdx.ops.merge.MergeResult`: the merged project, the :class:`Conflict3` list
        (with each resolution) and the texts whose codings were carried across an edit.

    Raises:
        UsageError: an unknown policy or match level.
        MergeConflictError: ``policy="fail"`` and some field changed differently on both sides.

    Example:
        >>> merged = merge3(sent_out, coder_a, coder_b).project  # doctest: +SKIP
    """
    if policy not in POLICIES:
        raise UsageError(f"unknown conflict policy {policy!r}; use one of {', '.join(POLICIES)}")
    if match not in MATCH_LEVELS:
        raise UsageError(f"unknown match level {match!r}; use one of {', '.join(MATCH_LEVELS)}")
    a = ours if ours is base else align(base, ours, match, _SALT_OURS, similarity=similarity)
    b = theirs if theirs is base else align(base, theirs, match, _SALT_THEIRS, similarity=similarity)
    # Objects both sides added (not in the base) pair with each other, by the same criteria.
    before = _top_keys(base)
    if _top_keys(a) - before and _top_keys(b) - before:
        b = align(a, b, match, _SALT_BOTH, keep=frozenset(owners(base)), similarity=similarity)
    run = _Merge3(base, a, b, policy)
    project = run.project()
    if run.conflicts and policy == "fail":
        raise MergeConflictError(run.conflicts)
    return MergeResult(project, tuple(run.conflicts), tuple(run.texts))


def align(
    ref: Project,
    side: Project,
    match: MatchLevel,
    salt: int,
    keep: frozenset[str] = frozenset(),
    similarity: float = DEFAULT_SIMILARITY,
) -> Project:
    """``side`` with every object paired with one of ``ref``'s under ``ref``'s GUID.

    Uses the two-way merge's pairing and collision re-minting (phase 1 of
    :class:`qdx.ops.merge._Step`); GUIDs in ``keep`` are never changed (the base's, when two
    sides already speak them).
    """
    step = _Step(ref, side, salt, "ours", match, similarity)
    step._pair_all()
    step._mint_collisions()
    remap = {k: v for k, v in step.remap.items() if k not in keep and v.key not in keep}
    return remap_guids(side, remap) if remap else side


# --------------------------------------------------------------------------- the merge


def _norm(name: str, value: object) -> object:
    # Colour case carries no meaning (REFI RGBType, docs/quirks.md §2); an empty description
    # is no description (as the two-way merge's signature treats it).
    if name == "color" and isinstance(value, str):
        return value.upper()
    if name == "description" and value == "":
        return None
    return value


def _is_guid_list(value: object) -> bool:
    return isinstance(value, tuple) and all(isinstance(x, Guid) for x in value) and len(value) > 0


def _union_order(*sides: Iterable[R], key: Callable[[R], object]) -> list[R]:
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
        return _union_order(theirs, ours, base, key=key)
    return _union_order(ours, theirs, base, key=key)


def merge_set(base: Sequence[Guid], ours: Sequence[Guid], theirs: Sequence[Guid]) -> tuple[Guid, ...]:
    """Three-way merge of a set of references: kept by both, or added by one side."""
    kb, ko, kt = ({g.key for g in s} for s in (base, ours, theirs))
    keep = (ko & kt) | (ko - kb) | (kt - kb)
    return tuple(g for g in preferred(base, ours, theirs, key=lambda g: g.key) if g.key in keep)


_Rng = tuple[int | str | None, ...]
_CodingKey = tuple[_Rng, str, str | None]
# Fields handled by their own merge (not as plain values).
_DOC_FIELDS = frozenset({"selections", "codings", "representation", "text_description", "transcripts"})


class _Merge3:
    def __init__(self, base: Project, ours: Project, theirs: Project, policy: Policy) -> None:
        self.base, self.ours, self.theirs, self.policy = base, ours, theirs, policy
        self.conflicts: list[Conflict3] = []
        self.texts: list[TextCarry] = []
        self.used: set[str] = set()  # selection and coding GUIDs already emitted
        self.coded: set[str] = set()  # code keys used by merged codings

    # ---------------------------------------------------------------- values

    def pick(
        self,
        area: str,
        record: object,
        name: str,
        base: R,
        ours: R,
        theirs: R,
        show: Callable[[Any, Any, Any], tuple[object, object, object]] | None = None,
    ) -> R:
        """Three-way merge of one value; a conflict when both sides changed it differently
        (reported through ``show`` when the raw value says little to people)."""
        nb, no, nt = _norm(name, base), _norm(name, ours), _norm(name, theirs)
        if no == nt:
            return ours
        if no == nb:
            return theirs
        if nt == nb:
            return ours
        kind = {"text": "text", "parent": "moved"}.get(name, "content")
        if show is None and name == "text":
            show = _text_labels
        values = (base, ours, theirs) if show is None else show(base, ours, theirs)
        chosen = self.conflict(kind, area, record, name, *values)
        return theirs if chosen == "theirs" else ours

    def conflict(
        self,
        kind: str,
        area: str,
        record: object,
        field: str | None,
        base: object,
        ours: object,
        theirs: object,
        resolution: str | None = None,
    ) -> str:
        """Record a conflict; returns the side whose value is taken (``ours`` or ``theirs``)."""
        resolution = (
            resolution or {"fail": "fail", "ours": "ours", "theirs": "theirs", "keep-both": "ours"}[self.policy]
        )
        name = getattr(record, "name", None)
        label = f"{name} [{field}]" if field is not None and name is not None else (name or field)
        guid = getattr(record, "guid", None)
        ident = str(guid) if guid is not None else ""
        conflict = Conflict3(kind, area, ident, label, _json(ours), _json(theirs), 2, resolution, _json(base))
        self.conflicts.append(conflict)
        return "theirs" if resolution == "theirs" else "ours"

    # ---------------------------------------------------------------- records

    def records(
        self,
        area: str,
        base: Sequence[R],
        ours: Sequence[R],
        theirs: Sequence[R],
        merge: Callable[[str, R | None, R | None, R | None], R | None] | None = None,
    ) -> tuple[R, ...]:
        """Records keyed by GUID: existence and then every field merged three-way."""
        merge = merge or self.record
        by_b, by_o, by_t = ({own_key(x): x for x in s} for s in (base, ours, theirs))
        out: list[R] = []
        for item in preferred(base, ours, theirs, key=own_key):
            key = own_key(item)
            rb, ro, rt = by_b.get(key), by_o.get(key), by_t.get(key)
            if not self.exists(area, rb, ro, rt):
                continue
            merged = merge(area, rb, ro, rt)
            if merged is not None:
                out.append(merged)
        return tuple(out)

    def exists(self, area: str, base: object, ours: object, theirs: object, record: object = None) -> bool:
        """Whether an object survives: deleted on one side and unchanged on the other goes."""
        if base is None:
            return True
        if ours is None and theirs is None:
            return False
        if ours is not None and theirs is not None:
            return True
        kept = ours if ours is not None else theirs
        if kept == base:
            return False
        # Deleted on one side, changed on the other.
        before = "deleted" if ours is None else "changed"
        after = "deleted" if theirs is None else "changed"
        side = self.conflict("deleted", area, record or kept, None, "present", before, after)
        return (side == "ours") == (ours is not None)

    def record(self, area: str, base: R | None, ours: R | None, theirs: R | None) -> R | None:
        """Every plain field three-way; GUID lists as sets; nested documents and values by key."""
        whole = self.whole_record(base, ours, theirs)
        if whole is not None:
            return whole
        template = ours if ours is not None else theirs if theirs is not None else base
        assert template is not None
        changes: dict[str, object] = {}
        for f in fields(template):  # type: ignore[arg-type]
            if not f.compare or f.name == "guid":
                continue
            vb, vo, vt = (getattr(x, f.name) if x is not None else MISSING for x in (base, ours, theirs))
            if f.name == "variable_values":
                value: object = self.values(area, template, vb, vo, vt)
            elif f.name in _DOC_FIELDS:
                continue
            elif _is_guid_list(vo) or _is_guid_list(vt) or _is_guid_list(vb):
                value = merge_set(*(() if v is MISSING or v is None else v for v in (vb, vo, vt)))
            else:
                value = self.pick(
                    area, template, f.name, vb, vo if vo is not MISSING else vt, vt if vt is not MISSING else vo
                )
            if value is MISSING:
                continue
            if value is not getattr(template, f.name):
                changes[f.name] = value
        merged = replace(template, **changes) if changes else template  # type: ignore[type-var]
        if any(hasattr(template, name) for name in ("selections", "codings")):
            merged = self.doc(area, base, ours, theirs, merged)
        return merged

    def values(
        self, area: str, record: object, base: object, ours: object, theirs: object
    ) -> tuple[VariableValue, ...]:
        """Variable values per variable, each value three-way."""
        sides: list[tuple[VariableValue, ...]] = [() if v is MISSING else v for v in (base, ours, theirs)]  # type: ignore[misc]
        by = [{x.variable.key: x for x in side} for side in sides]
        out: list[VariableValue] = []
        for value in preferred(sides[0], sides[1], sides[2], key=lambda v: v.variable.key):
            key = value.variable.key
            vb, vo, vt = (d.get(key) for d in by)
            if vb is not None and (vo is None) != (vt is None):
                kept = vo or vt
                assert kept is not None
                if _sig(kept) == _sig(vb):
                    continue  # deleted on one side, unchanged on the other
                label = f"{getattr(record, 'name', None)} / variable {key}"
                side = self.conflict("deleted", area, record, label, _sig(vb), _sig(vo), _sig(vt))
                if (side == "ours") == (vo is not None):
                    out.append(kept)
                continue
            if vo is None and vt is None:
                continue
            so, st = _sig(vo) if vo else _sig(vt), _sig(vt) if vt else _sig(vo)
            chosen = self.pick(area, record, f"variable {key}", _sig(vb), so, st)
            out.append(vo if vo is not None and _sig(vo) == chosen else vt)  # type: ignore[arg-type]
        return tuple(out)

    # ---------------------------------------------------------------- documents and codings

    def doc(self, area: str, base: Any, ours: Any, theirs: Any, merged: Any) -> Any:
        """The selections and codings of one source (or note, or nested document)."""
        sides = [base, ours, theirs]
        if isinstance(merged, TextSource) and merged.text is not None:
            sides = [self.rebase(i, x, merged.text, base) for i, x in enumerate(sides)]
        changes: dict[str, object] = {}
        if hasattr(merged, "selections"):
            changes["selections"] = self.selections(*(x.selections if x is not None else () for x in sides))
        if hasattr(merged, "codings"):
            changes["codings"] = self.whole(*(x.codings if x is not None else () for x in sides))
        for name in ("representation", "text_description"):
            if hasattr(merged, name):
                parts = [getattr(x, name) if x is not None else None for x in sides]
                changes[name] = self.nested(area, *parts)
        if hasattr(merged, "transcripts"):
            tb, to, tt = (x.transcripts if x is not None else () for x in sides)
            changes["transcripts"] = self.records(area, tb, to, tt)
        return replace(merged, **changes)

    def nested(self, area: str, base: Any, ours: Any, theirs: Any) -> Any:
        if not self.exists(area, base, ours, theirs):
            return None
        if ours is None and theirs is None:
            return None
        return self.record(area, base, ours, theirs)

    def rebase(self, side: int, doc: Any, text: str, base: Any = None) -> Any:
        """``doc``'s selections carried onto the merged text; a side's own codings that cannot
        be carried are listed (the base's ones the other side's edit removed are not)."""
        if not isinstance(doc, TextSource) or doc.text is None or doc.text == text:
            return doc
        tmap = TextMap(doc.text, text)
        moved, outcomes = carry_doc(doc, text, tmap)
        if side == 0:
            return moved
        self.texts.append(TextCarry(doc.name, str(doc.guid), side, tmap.kind, tuple(outcomes)))
        lost = {o.selection for o in outcomes if o.status == "lost"}
        inherited: Counter[_CodingKey] = Counter()
        if isinstance(base, TextSource) and base.text == doc.text:
            inherited.update(_coding_key(selection_range(x), c) for x in base.selections for c in x.codings)
        for sel in doc.selections:
            if sel.guid.key not in lost:
                continue
            for coding in sel.codings:
                ident = _coding_key(selection_range(sel), coding)
                if inherited[ident] > 0:
                    inherited[ident] -= 1
                    continue
                what = {"range": [sel.start, sel.end], "code": str(coding.code), "text": doc.text[sel.start : sel.end]}
                ours, theirs = (what, None) if side == 1 else (None, what)
                self.conflict("lost", "codings", doc, None, None, ours, theirs, resolution="dropped")
        return moved

    def whole(self, base: Sequence[Coding], ours: Sequence[Coding], theirs: Sequence[Coding]) -> tuple[Coding, ...]:
        """Whole-source codings: a multiset of (code, coder)."""
        sides = [[(c, "") for c in side] for side in (base, ours, theirs)]
        return tuple(c for c, _ in self.codings_at((), sides))

    def codings_at(self, rng: _Rng, sides: list[list[tuple[Coding, str]]]) -> list[tuple[Coding, str]]:
        """The merged codings of one range, each with the key of the selection that carried it.

        Per (code, coder) the count is merged three-way (taken from the side that changed it;
        both changed: the larger, so nothing is lost); the records are taken from the sides in
        the preferred order, each coding GUID once.
        """
        if sides[1] == sides[0] or sides[2] == sides[0] or sides[1] == sides[2]:
            # One side left this range as it was (or both agree): the other side's codings.
            kept = sides[2] if sides[1] == sides[0] else sides[1]
            for coding, _ in kept:
                self.coded.add(coding.code.key)
            return [(self.unique(c), host) for c, host in kept]
        sides = self.recoded(rng, sides)
        idents = [[_coding_key(rng, c) for c, _ in side] for side in sides]
        counts = [Counter(side) for side in idents]
        pools: dict[_CodingKey, list[tuple[Coding, str]]] = {}
        for item in preferred(
            sides[0], sides[1], sides[2], key=lambda x: (x[0].guid.key, x[1], _coding_key(rng, x[0]))
        ):
            pools.setdefault(_coding_key(rng, item[0]), []).append(item)
        out: list[tuple[Coding, str]] = []
        for ident in preferred(idents[0], idents[1], idents[2], key=lambda k: k):
            nb, no, nt = (c[ident] for c in counts)
            n = no if no == nt else nt if no == nb else no if nt == nb else max(no, nt)
            pool = pools[ident]
            taken = _union_order(pool, key=lambda x: x[0].guid.key)[:n]
            while len(taken) < n:  # repeated codings of one side share no GUID with each other
                coding, host = pool[0]
                taken.append((replace(coding, guid=mint_guid(coding.guid.key, _SALT_OUT + len(taken))), host))
            out.extend((self.unique(c), host) for c, host in taken)
        for coding, _ in out:
            self.coded.add(coding.code.key)
        return out

    def recoded(self, rng: _Rng, sides: list[list[tuple[Coding, str]]]) -> list[list[tuple[Coding, str]]]:
        """A coding (same GUID) given a different code or coder on each side is a conflict;
        the side not taken loses its version (``keep-both`` keeps both)."""
        by = [{c.guid.key: c for c, _ in side} for side in sides]
        drop: list[set[str]] = [set(), set(), set()]
        for key, coding in by[1].items():
            other, was = by[2].get(key), by[0].get(key)
            if other is None or was is None:
                continue
            ko, kt, kb = (_coding_key(rng, c)[1:] for c in (coding, other, was))
            if ko == kt or kb in (ko, kt):
                continue
            side = self.conflict("content", "codings", coding, None, str(was.code), str(coding.code), str(other.code))
            if self.policy != "keep-both":
                drop[2 if side == "ours" else 1].add(key)
        if not any(drop):
            return sides
        return [[x for x in side if x[0].guid.key not in gone] for side, gone in zip(sides, drop, strict=True)]

    def whole_record(self, base: R | None, ours: R | None, theirs: R | None) -> R | None:
        """The three-way rule for a whole record (and the fast path for large sources): one side
        unchanged -> the other; both the same -> it. None when it must be merged field by field."""
        if ours is None or theirs is None:
            return None
        if ours == theirs:
            return self.claim(ours)
        if base is not None and ours == base:
            return self.claim(theirs)
        if base is not None and theirs == base:
            return self.claim(ours)
        return None

    def claim(self, record: R) -> R:
        """``record`` taken whole: its selection and coding GUIDs and coded codes are noted."""
        if isinstance(record, Source | Transcript):
            parts = iter_selections(record) if not isinstance(record, Transcript) else iter(record.selections)
            whole = record.codings if not isinstance(record, Transcript) else ()
            for coding in whole:
                self.used.add(coding.guid.key)
                self.coded.add(coding.code.key)
            for sel in parts:
                self.used.add(sel.guid.key)
                for coding in sel.codings:
                    self.used.add(coding.guid.key)
                    self.coded.add(coding.code.key)
        return record

    def unique(self, record: R) -> R:
        """``record`` under a GUID not yet used in the merged project (REFI §3.1)."""
        key = own_key(record)
        assert key is not None
        salt = _SALT_OUT
        while key in self.used:
            guid = mint_guid(key, salt)
            record, key, salt = replace(record, guid=guid), guid.key, salt + 1  # type: ignore[type-var]
        self.used.add(key)
        return record

    def selections(self, base: Sequence[Any], ours: Sequence[Any], theirs: Sequence[Any]) -> tuple[Any, ...]:
        """Selections by GUID and range; their codings three-way per range, code and coder."""
        sides = [list(base), list(ours), list(theirs)]
        versions: list[dict[tuple[str, _Rng], Any]] = [{}, {}, {}]
        by_range: list[dict[_Rng, list[tuple[Coding, str]]]] = [{}, {}, {}]
        for side, version, index in zip(sides, versions, by_range, strict=True):
            for sel in side:
                rng = selection_range(sel)
                version.setdefault((sel.guid.key, rng), sel)
                index.setdefault(rng, []).extend((c, sel.guid.key) for c in sel.codings)
        self.boundaries(sides)
        chosen: dict[_Rng, dict[str, list[Coding]]] = {}
        out: list[Any] = []
        for first in preferred(sides[0], sides[1], sides[2], key=_sel_key):
            key, rng = _sel_key(first)
            if rng not in chosen:
                hosted: dict[str, list[Coding]] = {}
                for coding, host in self.codings_at(rng, [index.get(rng, []) for index in by_range]):
                    hosted.setdefault(host, []).append(coding)
                chosen[rng] = hosted
            codings = chosen[rng].pop(key, [])
            sb, so, st = (v.get((key, rng)) for v in versions)
            alive = (so is not None and st is not None) or (sb is None and (so is not None or st is not None))
            if not alive and not codings:
                continue
            bare = [replace(x, codings=()) if x is not None else None for x in (sb, so, st)]
            template = bare[2] if bare[1] is None or (bare[1] == bare[0] and bare[2] is not None) else bare[1]
            assert template is not None
            out.append(self.unique(replace(template, codings=tuple(codings))))
        return tuple(out)

    def boundaries(self, sides: list[list[Any]]) -> None:
        """A selection whose range both sides changed differently: both are kept (each with its
        codings, nothing lost) and the conflict is listed."""
        ranges = [{sel.guid.key: selection_range(sel) for sel in side} for side in sides]
        for sel in sides[1]:
            key = sel.guid.key
            rb, ro, rt = (r.get(key) for r in ranges)
            if rb is None or rt is None or len({rb, ro, rt}) < 3:
                continue
            self.conflict("range", "selections", sel, None, list(rb), list(ro or ()), list(rt), resolution="keep-both")

    # ---------------------------------------------------------------- project and codes

    def project(self) -> Project:
        b, o, t = self.base, self.ours, self.theirs
        sources = self.records("sources", b.sources, o.sources, t.sources)
        notes = self.records("notes", b.notes, o.notes, t.notes)
        merged = replace(
            o,
            users=self.records("users", b.users, o.users, t.users),
            variables=self.records("variables", b.variables, o.variables, t.variables),
            cases=self.records("cases", b.cases, o.cases, t.cases),
            sources=sources,
            notes=notes,
            links=self.records("links", b.links, o.links, t.links),
            sets=self.records("sets", b.sets, o.sets, t.sets),
            graphs=self.records("graphs", b.graphs, o.graphs, t.graphs),
        )
        for name in (
            "name",
            "origin",
            "creating_user",
            "creation_datetime",
            "modifying_user",
            "modified_datetime",
            "base_path",
            "description",
            "is_codebook",
        ):
            value = self.pick("project", o, name, getattr(b, name), getattr(o, name), getattr(t, name))
            if value != getattr(merged, name):
                merged = replace(merged, **{name: value})
        merged = replace(merged, note_refs=merge_set(b.note_refs, o.note_refs, t.note_refs))
        merged = replace(merged, codes=_CodeTree3(self).build())
        return _drop_dangling(merged)


def _text_labels(*texts: object) -> tuple[object, object, object]:
    """Texts in a conflict report: length and hash, not the whole interview."""

    def label(text: object) -> object:
        if not isinstance(text, str):
            return text
        return f"{len(text)} chars, sha256 {hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}"

    base, ours, theirs = map(label, texts)
    return base, ours, theirs


def _sel_key(sel: Any) -> tuple[str, _Rng]:
    return (sel.guid.key, selection_range(sel))


def _sig(value: VariableValue | None) -> tuple[object, str | None] | None:
    return None if value is None else (value.kind, value.value)


def _coding_key(rng: tuple[int | str | None, ...], coding: Coding) -> _CodingKey:
    return (rng, coding.code.key, coding.creating_user.key if coding.creating_user is not None else None)


def _json(value: object) -> Json:
    if value is MISSING:
        return None
    if isinstance(value, tuple):
        return [_json(x) for x in value]
    if isinstance(value, (str, int, float, bool)) or value is None or isinstance(value, dict | list):
        return value if not isinstance(value, Guid) else str(value)
    return repr(value)


_CODE_FIELDS = ("name", "description", "color", "is_codable", "parent")


class _CodeTree3:
    """The code tree merged per code and field (the parent is a field: a move is an edit)."""

    def __init__(self, run: _Merge3) -> None:
        self.run = run
        self.sides = [self._flat(p.codes) for p in (run.base, run.ours, run.theirs)]
        self.orders = [[c.guid.key for c, _ in iter_codes(p.codes)] for p in (run.base, run.ours, run.theirs)]

    @staticmethod
    def _flat(codes: tuple[Code, ...]) -> dict[str, tuple[Code, str | None]]:
        return {c.guid.key: (c, a[-1].guid.key if a else None) for c, a in iter_codes(codes)}

    def _facts(self, side: int, key: str) -> dict[str, object] | None:
        hit = self.sides[side].get(key)
        if hit is None:
            return None
        code, parent = hit
        facts: dict[str, object] = {f: getattr(code, f) for f in _CODE_FIELDS[:-1]}
        facts["parent"] = parent
        facts["notes"] = tuple(sorted(g.key for g in code.note_refs))
        return {k: _norm(k, v) for k, v in facts.items()}

    def build(self) -> tuple[Code, ...]:
        run = self.run
        keys = _union_order(self.orders[1], self.orders[2], self.orders[0], key=lambda k: k)
        nodes: dict[str, Code] = {}
        parent: dict[str, str | None] = {}
        deleted: dict[str, tuple[Code, str | None]] = {}
        for key in keys:
            fb, fo, ft = (self._facts(i, key) for i in range(3))
            hit = next(self.sides[i][key] for i in (1, 2, 0) if key in self.sides[i])
            if not run.exists("codes", fb, fo, ft, hit[0]):
                deleted[key] = hit
                continue
            nodes[key], parent[key] = self._merge(key)
        # A code deleted on one side but used by a merged coding or kept child stays (listed).
        wanted = sorted({k for k in run.coded if k in deleted} | {p for p in parent.values() if p in deleted})
        while wanted:
            key = wanted.pop()
            if key in nodes or key not in deleted:
                continue
            code, up = deleted.pop(key)
            ours, theirs = ("deleted" if key not in self.sides[i] else "in use" for i in (1, 2))
            run.conflict("deleted-in-use", "codes", code, None, "present", ours, theirs, resolution="kept")
            nodes[key], parent[key] = replace(code, children=()), up
            if up is not None and up not in nodes:
                wanted.append(up)
        self._break_cycles(parent)
        kids: dict[str | None, list[str]] = {}
        for key in self._child_order(keys, parent):
            up = parent[key]
            kids.setdefault(up if up in nodes else None, []).append(key)

        def make(key: str) -> Code:
            node = nodes[key]
            children = tuple(make(k) for k in kids.get(key, ()))
            return node if children == node.children else replace(node, children=children)

        return tuple(make(k) for k in kids.get(None, ()))

    def _merge(self, key: str) -> tuple[Code, str | None]:
        """The code's fields merged three-way (children come later), and its merged parent."""
        hits = [self.sides[i].get(key) for i in range(3)]
        template = next(h[0] for h in (hits[1], hits[2], hits[0]) if h is not None)
        changes: dict[str, Any] = {}
        parent: str | None = None
        raw = [(h[0], h[1]) if h is not None else None for h in hits]
        for name in _CODE_FIELDS:
            vals = [MISSING if r is None else (r[1] if name == "parent" else getattr(r[0], name)) for r in raw]
            vo = vals[1] if vals[1] is not MISSING else vals[2]
            vt = vals[2] if vals[2] is not MISSING else vals[1]
            show = self._paths if name == "parent" else None
            value = self.run.pick("codes", template, name, vals[0], vo, vt, show)
            if name == "parent":
                parent = value
            elif value != getattr(template, name):
                changes[name] = value
        notes = [() if r is None else r[0].note_refs for r in raw]
        refs = merge_set(*notes)
        if refs != template.note_refs:
            changes["note_refs"] = refs
        return replace(template, **changes, children=()), parent

    def _break_cycles(self, parent: dict[str, str | None]) -> None:
        """Moves on both sides that together make a code its own ancestor: every moved code on
        the cycle goes back to its base parent (whichever side is "ours"), listed as a conflict."""
        changed = True
        while changed:
            changed = False
            for key in sorted(parent):
                cycle = self._cycle(parent, key)
                if cycle:
                    for member in sorted(cycle):
                        self._revert(parent, member)
                    changed = True
                    break

    @staticmethod
    def _cycle(parent: dict[str, str | None], key: str) -> list[str]:
        path = [key]
        walk = parent[key]
        while walk is not None and walk in parent:
            if walk == key:
                return path
            if walk in path:
                return []  # a cycle above this code; found from one of its members
            path.append(walk)
            walk = parent[walk]
        return []

    def _revert(self, parent: dict[str, str | None], key: str) -> None:
        base = self.sides[0].get(key)
        before = base[1] if base is not None else None
        if parent[key] == before and base is not None:
            return
        code = next(self.sides[i][key][0] for i in (1, 2, 0) if key in self.sides[i])
        paths = self._paths(before, self._up(1, key), self._up(2, key))
        self.run.conflict("moved", "codes", code, "parent", *paths)
        parent[key] = before if before in parent else None

    def _child_order(self, keys: list[str], parent: dict[str, str | None]) -> list[str]:
        """Siblings in ours' order unless ours kept the base's order and theirs changed it."""
        result = [k for k in keys if k in parent]
        groups: dict[str | None, list[str]] = {}
        for k in result:
            groups.setdefault(parent[k], []).append(k)
        below: list[dict[str | None, list[str]]] = [{}, {}, {}]  # each side's children, in order
        for i, order in enumerate(self.orders):
            for k in order:
                below[i].setdefault(self._up(i, k), []).append(k)
        rank: dict[str, tuple[int, int]] = {}
        for up, members in groups.items():
            mset = set(members)
            lists = [[k for k in side.get(up, ()) if k in mset] for side in below]
            primary = lists[2] if lists[1] == lists[0] else lists[1]
            ordered = _union_order(primary, lists[1], lists[2], members, key=lambda k: k)
            for i, k in enumerate(ordered):
                rank[k] = (0, i)
        return sorted(result, key=lambda k: rank[k])

    def _paths(self, base: object, ours: object, theirs: object) -> tuple[list[str], list[str], list[str]]:
        """Each side's parent as that side names it (for reports; [] is the top level)."""
        return self._path(base, 0), self._path(ours, 1), self._path(theirs, 2)

    def _path(self, key: object, side: int) -> list[str]:
        names: list[str] = []
        seen: set[object] = set()
        order = (side, *(i for i in (0, 1, 2) if i != side))
        while isinstance(key, str) and key not in seen:
            seen.add(key)
            hit = next((self.sides[i][key] for i in order if key in self.sides[i]), None)
            if hit is None:
                break
            names.append(hit[0].name)
            key = hit[1]
        return names[::-1]

    def _up(self, side: int, key: str) -> str | None:
        hit = self.sides[side].get(key)
        return hit[1] if hit is not None else None


def _top_keys(project: Project) -> set[str]:
    """GUIDs of the objects pairing works on (codes, sources, notes, users, ...), not nested ones."""
    keys = {code.guid.key for code, _ in iter_codes(project.codes)}
    groups: tuple[tuple[object, ...], ...] = (
        project.sources,
        project.notes,
        project.users,
        project.variables,
        project.cases,
        project.sets,
        project.links,
        project.graphs,
    )
    for group in groups:
        keys.update(key for key in map(own_key, group) if key is not None)
    return keys


def _drop_dangling(project: Project) -> Project:
    """References to objects the merge deleted go with them (set members, case members)."""
    present = _top_keys(project)
    if any(case.selection_refs for case in project.cases):
        present.update(sel.guid.key for source in project.sources for sel in iter_selections(source))

    def keep(refs: tuple[Guid, ...]) -> tuple[Guid, ...]:
        kept = tuple(g for g in refs if g.key in present)
        return refs if len(kept) == len(refs) else kept

    sets = tuple(
        replace(
            s,
            member_codes=keep(s.member_codes),
            member_sources=keep(s.member_sources),
            member_notes=keep(s.member_notes),
        )
        for s in project.sets
    )
    cases = tuple(
        replace(c, code_refs=keep(c.code_refs), source_refs=keep(c.source_refs), selection_refs=keep(c.selection_refs))
        for c in project.cases
    )
    return replace(
        project,
        sets=sets if sets != project.sets else project.sets,
        cases=cases if cases != project.cases else project.cases,
    )
