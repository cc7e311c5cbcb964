"""Phase 3 of one merge step (:func:`qdx.ops.merge.merge`): theirs, already speaking ours'
GUIDs, united into ours: records by GUID, codes into ours' tree, selections by GUID or
range, codings as a multiset of (range, code, coder).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TypeVar

from qdx.model import (
    AudioSource,
    Case,
    Code,
    Coding,
    Guid,
    PDFSource,
    PictureSource,
    Project,
    Selection,
    Set,
    Source,
    TextSource,
    Transcript,
    VariableValue,
    VideoSource,
    code_tree,
    iter_codes,
)
from qdx.ops._merge_pair import MergeStep
from qdx.ops._merge_types import Conflict
from qdx.ops.pairing import CodingId, Range, coding_id, mint_guid, own_key, remap_guids, selection_range

R = TypeVar("R")

# --------------------------------------------------------------------------- phase 3: union


def _union_refs(ours: tuple[Guid, ...], theirs: tuple[Guid, ...]) -> tuple[Guid, ...]:
    have = {g.key for g in ours}
    extra = tuple(g for g in theirs if g.key not in have and not have.add(g.key))  # type: ignore[func-returns-value]
    return (*ours, *extra) if extra else ours


def _records(ours: tuple[R, ...], theirs: tuple[R, ...], combine: Callable[[R, R], R]) -> tuple[R, ...]:
    """Union by GUID, ours' order first; ``combine(ours, theirs)`` for records in both."""
    index = {own_key(x): i for i, x in enumerate(ours)}
    out = list(ours)
    changed = False
    for item in theirs:
        i = index.get(own_key(item))
        if i is None:
            index[own_key(item)] = len(out)
            out.append(item)
            changed = True
        else:
            new = combine(out[i], item)
            changed = changed or new is not out[i]
            out[i] = new
    return tuple(out) if changed else ours


class MergeUnion:
    """Phase 3: ``theirs`` already speaks ours' GUIDs; union it into ours."""

    def __init__(self, step: MergeStep, theirs: Project) -> None:
        self.step, self.ours, self.theirs = step, step.ours, theirs
        self.folded: dict[str, Guid] = {}  # theirs selection key -> ours selection it duplicated

    def project(self) -> Project:
        o = self.ours
        sources = _records(o.sources, self.theirs.sources, self._source)
        notes = _records(o.notes, self.theirs.notes, self._note)
        t = remap_guids(self.theirs, self.folded) if self.folded else self.theirs
        return replace(
            o,
            users=_records(o.users, t.users, self._pick),
            codes=_CodeTree(self.step, o.codes).add(t.codes),
            variables=_records(o.variables, t.variables, self._pick),
            cases=_records(o.cases, t.cases, self._case),
            sources=sources,
            notes=notes,
            links=_records(o.links, t.links, self._pick),
            sets=_records(o.sets, t.sets, self._set),
            graphs=_records(o.graphs, t.graphs, self._pick),
            note_refs=_union_refs(o.note_refs, t.note_refs),
            is_codebook=o.is_codebook and t.is_codebook,  # a codebook merged with a project is a project
        )

    def _pick(self, ours: R, theirs: R) -> R:
        return theirs if own_key(ours) in self.step.prefer_theirs else ours

    def _case(self, ours: Case, theirs: Case) -> Case:
        base = self._pick(ours, theirs)
        other = theirs if base is ours else ours
        new = replace(
            base,
            code_refs=_union_refs(base.code_refs, other.code_refs),
            source_refs=_union_refs(base.source_refs, other.source_refs),
            selection_refs=_union_refs(base.selection_refs, other.selection_refs),
            variable_values=self._case_values(ours, theirs),
        )
        return ours if new == ours else new

    def _case_values(self, case: Case, theirs: Case) -> tuple[VariableValue, ...]:
        """Ours' values plus theirs' for other variables; a value both set differently conflicts."""
        values = list(case.variable_values)
        where = {v.variable.key: i for i, v in enumerate(values)}
        policy = self.step.policy
        for value in theirs.variable_values:
            i = where.get(value.variable.key)
            if i is None:
                where[value.variable.key] = len(values)
                values.append(value)
            elif (values[i].kind, values[i].value) != (value.kind, value.value):
                resolution = policy if policy in {"fail", "theirs"} else "ours"
                name = f"{case.name} / variable {value.variable}"
                self.step.conflicts.append(
                    Conflict(
                        "content",
                        "cases",
                        str(case.guid),
                        name,
                        values[i].value,
                        value.value,
                        self.step.number,
                        resolution,
                    )
                )
                if policy == "theirs":
                    values[i] = value
        return tuple(values)

    def _set(self, ours: Set, theirs: Set) -> Set:
        base = self._pick(ours, theirs)
        other = theirs if base is ours else ours
        return replace(
            base,
            member_codes=_union_refs(base.member_codes, other.member_codes),
            member_sources=_union_refs(base.member_sources, other.member_sources),
            member_notes=_union_refs(base.member_notes, other.member_notes),
        )

    def _source(self, ours: Source, theirs: Source) -> Source:
        key = ours.guid.key
        if key in self.step.replace_whole:
            return theirs
        if type(ours) is not type(theirs) or key in self.step.drop:
            return ours
        changes: dict[str, object] = {
            "codings": self._codings((), ours.codings, theirs.codings, _Seen().add((), ours.guid, ours.codings)),
            "note_refs": _union_refs(ours.note_refs, theirs.note_refs),
            "variable_values": _union_values(ours.variable_values, theirs.variable_values),
            "selections": self._selections(ours.selections, theirs.selections),
        }
        if key in self.step.prefer_theirs:
            changes.update(name=theirs.name, description=theirs.description)
        changes.update(self._parts(ours, theirs))
        changed = {k: v for k, v in changes.items() if v is not getattr(ours, k)}
        return replace(ours, **changed) if changed else ours  # type: ignore[arg-type]

    def _note(self, ours: TextSource, theirs: TextSource) -> TextSource:
        return self._doc(ours, theirs) or ours

    def _parts(self, ours: Source, theirs: Source) -> dict[str, object]:
        """Nested text documents and transcripts of non-text sources."""
        if isinstance(ours, PDFSource) and isinstance(theirs, PDFSource):
            return {"representation": self._doc(ours.representation, theirs.representation)}
        if isinstance(ours, PictureSource) and isinstance(theirs, PictureSource):
            return {"text_description": self._doc(ours.text_description, theirs.text_description)}
        if isinstance(ours, AudioSource | VideoSource) and isinstance(theirs, AudioSource | VideoSource):
            return {"transcripts": _records(ours.transcripts, theirs.transcripts, self._transcript)}
        return {}

    def _doc(self, ours: TextSource | None, theirs: TextSource | None) -> TextSource | None:
        if ours is None or theirs is None:
            return ours if theirs is None else theirs
        merged = self._source(ours, theirs)
        assert isinstance(merged, TextSource)
        return merged

    def _transcript(self, ours: Transcript, theirs: Transcript) -> Transcript:
        sels = self._selections(ours.selections, theirs.selections)
        points = _records(ours.sync_points, theirs.sync_points, _first)
        if sels is ours.selections and points is ours.sync_points:
            return ours
        return replace(ours, selections=sels, sync_points=points)  # type: ignore[arg-type]

    def _selections(self, ours: tuple[Selection, ...], theirs: tuple[Selection, ...]) -> tuple[Selection, ...]:
        """Union of selections: by GUID, then by range; codings as a multiset union per (range, code, coder)."""
        by_guid = {s.guid.key: i for i, s in enumerate(ours)}
        seen = _Seen()
        for sel in ours:
            seen.add(selection_range(sel), sel.guid, sel.codings)
        out = list(ours)
        for sel in theirs:
            i = by_guid.get(sel.guid.key)
            if i is not None:
                out[i] = self._same_selection(out[i], sel, seen, out)
            else:
                self._new_selection(sel, seen, out)
        return tuple(out) if len(out) != len(ours) or any(a is not b for a, b in zip(out, ours, strict=False)) else ours

    def _same_selection(self, ours: Selection, theirs: Selection, seen: _Seen, out: list[Selection]) -> Selection:
        rng = selection_range(theirs)
        if selection_range(ours) == rng:
            codings = self._codings(rng, ours.codings, theirs.codings, seen)
            return ours if codings is ours.codings else replace(ours, codings=codings)
        policy = self.step.policy
        self.step.conflicts.append(
            Conflict(
                "range",
                "selections",
                str(ours.guid),
                ours.name,
                list(selection_range(ours)),
                list(rng),
                self.step.number,
                "ours" if policy == "fail" else policy,
            )
        )
        if policy == "theirs":
            return theirs
        if policy == "keep-both":
            # Theirs under a new GUID, as any new selection: codings ours already has (same
            # range, code and coder) are not added twice, so keep-both stays a multiset union.
            self._new_selection(_reminted(theirs, self.step.number), seen, out)
        return ours

    def _new_selection(self, sel: Selection, seen: _Seen, out: list[Selection]) -> None:
        rng = selection_range(sel)
        fresh = tuple(c for c in sel.codings if not seen.consume(coding_id(rng, c)))
        if not fresh:
            # Everything it codes is already there: fold it into the selection that has it.
            twin = seen.holder.get(coding_id(rng, sel.codings[0])) if sel.codings else seen.ranges.get(rng)
            if twin is not None:
                self.folded[sel.guid.key] = twin
                return
        out.append(sel if len(fresh) == len(sel.codings) else replace(sel, codings=fresh))

    def _codings(
        self, rng: Range, ours: tuple[Coding, ...], theirs: tuple[Coding, ...], seen: _Seen
    ) -> tuple[Coding, ...]:
        """Theirs' codings not matched by one of ours (same range, code and coder), appended to ours."""
        guids = {c.guid.key for c in ours}
        extra: list[Coding] = []
        for coding in theirs:
            if seen.consume(coding_id(rng, coding)):
                continue
            kept = self._coding_clash(coding, ours) if coding.guid.key in guids else coding
            if kept is not None:
                extra.append(kept)
        return (*ours, *extra) if extra else ours

    def _coding_clash(self, theirs: Coding, ours: tuple[Coding, ...]) -> Coding | None:
        """Same coding GUID, different code or coder: a conflict (REFI GUIDs are unique)."""
        mine = next(c for c in ours if c.guid.key == theirs.guid.key)
        policy = self.step.policy
        self.step.conflicts.append(
            Conflict(
                "content",
                "codings",
                str(mine.guid),
                None,
                str(mine.code),
                str(theirs.code),
                self.step.number,
                "ours" if policy in {"fail", "theirs"} else policy,
            )
        )
        return replace(theirs, guid=mint_guid(theirs.guid.key, self.step.number)) if policy == "keep-both" else None


class _Seen:
    """Ours' codings of one part of a source, counted. A theirs coding equal to one of them
    (same range, code and coder) consumes it and is dropped, so the merge is the multiset
    union: an input's own repeated codings survive, what several inputs share is kept once."""

    def __init__(self) -> None:
        self.count: Counter[CodingId] = Counter()
        self.holder: dict[CodingId, Guid] = {}
        self.ranges: dict[Range, Guid] = {}

    def add(self, rng: Range, owner: Guid, codings: Iterable[Coding]) -> _Seen:
        self.ranges.setdefault(rng, owner)
        for coding in codings:
            ident = coding_id(rng, coding)
            self.count[ident] += 1
            self.holder.setdefault(ident, owner)
        return self

    def consume(self, ident: CodingId) -> bool:
        if self.count[ident] > 0:
            self.count[ident] -= 1
            return True
        return False


def _first(ours: R, _: R) -> R:
    return ours


def _union_values(ours: tuple[VariableValue, ...], theirs: tuple[VariableValue, ...]) -> tuple[VariableValue, ...]:
    have = {v.variable.key for v in ours}
    extra = tuple(v for v in theirs if v.variable.key not in have)
    return (*ours, *extra) if extra else ours


def _reminted(sel: Selection, salt: int) -> Selection:
    codings = tuple(replace(c, guid=mint_guid(c.guid.key, salt)) for c in sel.codings)
    return replace(sel, guid=mint_guid(sel.guid.key, salt), codings=codings)


class _CodeTree:
    """Ours' code tree as mutable nodes, so theirs' codes can be inserted and moved."""

    def __init__(self, step: MergeStep, codes: tuple[Code, ...]) -> None:
        self.step = step
        self.node: dict[str, Code] = {}
        self.parent: dict[str, str | None] = {}
        self.kids: dict[str | None, list[str]] = {None: []}
        self.original = codes
        self.changed = False
        tree = code_tree(codes)  # each GUID once: a repeated one would make a node its own parent
        for guid, code in tree.codes.items():
            parent = tree.parents[guid]
            self._insert(code, parent.guid.key if parent is not None else None)

    def _insert(self, code: Code, parent: str | None) -> None:
        key = code.guid.key
        self.node[key] = code
        self.parent[key] = parent
        self.kids[key] = []
        self.kids[parent].append(key)

    def add(self, theirs: tuple[Code, ...]) -> tuple[Code, ...]:
        """Insert theirs' codes (pre-order, so parents come first) and rebuild the tuples."""
        for code, ancestors in iter_codes(theirs):
            key = code.guid.key
            parent = ancestors[-1].guid.key if ancestors else None
            if key not in self.node:
                self._insert(code, parent if parent in self.node else None)
                self.changed = True
            else:
                self._update(key, code)
        return tuple(self._build(k) for k in self.kids[None]) if self.changed else self.original

    def _update(self, key: str, theirs: Code) -> None:
        mine = self.node[key]
        new = mine
        if key in self.step.prefer_theirs:
            new = replace(
                new, name=theirs.name, color=theirs.color, description=theirs.description, is_codable=theirs.is_codable
            )
        refs = _union_refs(mine.note_refs, theirs.note_refs)
        if refs is not mine.note_refs:
            new = replace(new, note_refs=refs)
        if new is not mine:
            self.node[key], self.changed = new, True
        if key in self.step.moved_to:
            target = self.step.moved_to[key]
            self._move(key, self.step.result_key(target) if target is not None else None)

    def _move(self, key: str, target: str | None) -> None:
        walk = target
        while walk is not None:  # never move a code under itself or its descendants
            if walk == key or walk not in self.parent:
                return
            walk = self.parent[walk]
        self.kids[self.parent[key]].remove(key)
        self.kids[target].append(key)
        self.parent[key] = target
        self.changed = True

    def _build(self, key: str) -> Code:
        code = self.node[key]
        children = tuple(self._build(k) for k in self.kids[key])
        return code if children == code.children else replace(code, children=children)
