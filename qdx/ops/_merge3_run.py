"""The three-way merge of one project's records, values, documents and codings
(:func:`qdx.ops.merge3.merge3`, steps 2 and 3); the code tree is merged in
:mod:`qdx.ops._merge3_codes`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from typing import Any, TypeVar

from qdx.model import Coding, Guid, Project, Source, TextSource, Transcript, VariableValue, iter_selections
from qdx.ops._merge3_values import MISSING, merge_set, norm, preferred, union_order
from qdx.ops._merge_types import Conflict3, TextCarry
from qdx.ops.pairing import CodingId, Range, coding_id, mint_guid, own_key, selection_range
from qdx.options import Policy
from qdx.textmap import TextMap, carry_doc

R = TypeVar("R")
Json = object
# Salt for GUIDs re-minted so that no two merged records share one (REFI §3.1).
SALT_OUT = 34
# Fields handled by their own merge (not as plain values).
_DOC_FIELDS = frozenset({"selections", "codings", "representation", "text_description", "transcripts"})


def _is_guid_list(value: object) -> bool:
    return isinstance(value, tuple) and all(isinstance(x, Guid) for x in value) and len(value) > 0


class Merge3:
    """One three-way merge: values, records, documents and codings, with every conflict met;
    ``coded`` and ``used`` collect what the code tree and GUID uniqueness need afterwards."""

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
        nb, no, nt = norm(name, base), norm(name, ours), norm(name, theirs)
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
        inherited: Counter[CodingId] = Counter()
        if isinstance(base, TextSource) and base.text == doc.text:
            inherited.update(coding_id(selection_range(x), c) for x in base.selections for c in x.codings)
        for sel in doc.selections:
            if sel.guid.key not in lost:
                continue
            for coding in sel.codings:
                ident = coding_id(selection_range(sel), coding)
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

    def codings_at(self, rng: Range, sides: list[list[tuple[Coding, str]]]) -> list[tuple[Coding, str]]:
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
        idents = [[coding_id(rng, c) for c, _ in side] for side in sides]
        counts = [Counter(side) for side in idents]
        pools: dict[CodingId, list[tuple[Coding, str]]] = {}
        for item in preferred(
            sides[0], sides[1], sides[2], key=lambda x: (x[0].guid.key, x[1], coding_id(rng, x[0]))
        ):
            pools.setdefault(coding_id(rng, item[0]), []).append(item)
        out: list[tuple[Coding, str]] = []
        for ident in preferred(idents[0], idents[1], idents[2], key=lambda k: k):
            nb, no, nt = (c[ident] for c in counts)
            n = no if no == nt else nt if no == nb else no if nt == nb else max(no, nt)
            pool = pools[ident]
            taken = union_order(pool, key=lambda x: x[0].guid.key)[:n]
            while len(taken) < n:  # repeated codings of one side share no GUID with each other
                coding, host = pool[0]
                taken.append((replace(coding, guid=mint_guid(coding.guid.key, SALT_OUT + len(taken))), host))
            out.extend((self.unique(c), host) for c, host in taken)
        for coding, _ in out:
            self.coded.add(coding.code.key)
        return out

    def recoded(self, rng: Range, sides: list[list[tuple[Coding, str]]]) -> list[list[tuple[Coding, str]]]:
        """A coding (same GUID) given a different code or coder on each side is a conflict;
        the side not taken loses its version (``keep-both`` keeps both)."""
        by = [{c.guid.key: c for c, _ in side} for side in sides]
        drop: list[set[str]] = [set(), set(), set()]
        for key, coding in by[1].items():
            other, was = by[2].get(key), by[0].get(key)
            if other is None or was is None:
                continue
            ko, kt, kb = (coding_id(rng, c)[1:] for c in (coding, other, was))
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
        salt = SALT_OUT
        while key in self.used:
            guid = mint_guid(key, salt)
            record, key, salt = replace(record, guid=guid), guid.key, salt + 1  # type: ignore[type-var]
        self.used.add(key)
        return record

    def selections(self, base: Sequence[Any], ours: Sequence[Any], theirs: Sequence[Any]) -> tuple[Any, ...]:
        """Selections by GUID and range; their codings three-way per range, code and coder."""
        sides = [list(base), list(ours), list(theirs)]
        versions: list[dict[tuple[str, Range], Any]] = [{}, {}, {}]
        by_range: list[dict[Range, list[tuple[Coding, str]]]] = [{}, {}, {}]
        for side, version, index in zip(sides, versions, by_range, strict=True):
            for sel in side:
                rng = selection_range(sel)
                version.setdefault((sel.guid.key, rng), sel)
                index.setdefault(rng, []).extend((c, sel.guid.key) for c in sel.codings)
        self.boundaries(sides)
        chosen: dict[Range, dict[str, list[Coding]]] = {}
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


def _text_labels(*texts: object) -> tuple[object, object, object]:
    """Texts in a conflict report: length and hash, not the whole interview."""

    def label(text: object) -> object:
        if not isinstance(text, str):
            return text
        return f"{len(text)} chars, sha256 {hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}"

    base, ours, theirs = map(label, texts)
    return base, ours, theirs


def _sel_key(sel: Any) -> tuple[str, Range]:
    return (sel.guid.key, selection_range(sel))


def _sig(value: VariableValue | None) -> tuple[object, str | None] | None:
    return None if value is None else (value.kind, value.value)


def _json(value: object) -> Json:
    if value is MISSING:
        return None
    if isinstance(value, tuple):
        return [_json(x) for x in value]
    if isinstance(value, (str, int, float, bool)) or value is None or isinstance(value, dict | list):
        return value if not isinstance(value, Guid) else str(value)
    return repr(value)
