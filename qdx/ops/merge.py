"""Merge several coders' projects into one, keeping every coding with its coder.

The inputs are folded left to right: the first is "ours", each next one "theirs". Each step
has three phases, so that the union itself can be done by GUID:

0. **Re-base texts** (:mod:`qdx.textmap`): theirs' copy of a text that differs from ours only
   in line endings, a BOM or trailing whitespace takes ours' text, its selections moved onto it
   through the exact position map, so it is no conflict. A really edited text is a conflict;
   with ``policy="ours"`` theirs' selections are carried onto ours' text by aligning the two
   (each unchanged, moved or lost, and every lost one is listed in :attr:`MergeResult.texts`);
   with ``policy="theirs"`` ours' selections are carried onto theirs' text the same way.
1. **Pair** theirs' objects with ours (:mod:`qdx.ops.diff` matchers): codes by GUID, then full
   path (then a unique name with ``match="name"``); sources by GUID, identical content, then
   name; users, variables, cases, sets by GUID then name; notes by GUID then identical text;
   links and graphs by GUID. Paired objects whose content differs are conflicts. Theirs'
   nested GUIDs (selections, codings, ...) that clash with a different object of ours are
   re-minted (deterministically, uuid5), because REFI GUIDs must be unique (REFI §3.1).
2. **Rewrite** theirs so every GUID and reference speaks ours' GUIDs (one generic walk).
3. **Union** by GUID: codes into ours' tree, selections by GUID or (range, code, coder), so a
   coding present in several inputs (same source, range, code and coder) is kept once, while
   codings by different coders are all kept, each with its ``creatingUser`` (REFI §3.13), which
   is what intercoder agreement on the merged project needs (teams merge, then compare coders).

Conflicts are resolved by ``policy``: ``ours`` keeps the earlier input's version, ``theirs``
takes the later one's, ``keep-both`` keeps both (theirs under a new GUID) and ``fail`` (the
default) raises :class:`MergeConflictError` listing them all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from qdx.errors import QdxError, UsageError
from qdx.model import (
    AudioSource,
    Case,
    Code,
    Coding,
    Guid,
    Link,
    PDFSource,
    PictureSource,
    Project,
    ProjectIndex,
    Selection,
    Set,
    Source,
    TextSource,
    Transcript,
    User,
    Variable,
    VariableValue,
    VideoSource,
    code_tree,
    iter_codes,
)
from qdx.ops.pairing import (
    Matching,
    children,
    content_hash,
    match_named,
    match_sources,
    mint_guid,
    own_key,
    owners,
    remap_guids,
    selection_range,
)
from qdx.ops.renames import DEFAULT_SIMILARITY, code_matching
from qdx.options import MATCH_LEVELS, POLICIES, MatchLevel, Policy
from qdx.textmap import SelectionOutcome, TextMap, carry_doc

R = TypeVar("R")
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


def merge(
    *projects: Project, policy: Policy = "fail", match: MatchLevel = "path", similarity: float = DEFAULT_SIMILARITY
) -> MergeResult:
    """Merge projects (or codebooks); the inputs are never modified.

    Args:
        projects: two or more projects; the first one's metadata and order win.
        policy: how conflicts are resolved: ``fail``, ``ours``, ``theirs`` or ``keep-both``.
        match: the loosest criterion for pairing codes: ``guid``, ``path`` (default: GUID,
            then full path), ``name`` (then also a name unique in both) or ``content`` (then
            also by similarity, :mod:`qdx.ops.renames`).
        similarity: the least similarity (0..1) pairing two codes with ``match="content"``.

    Returns:
        :class:`MergeResult` with the merged project and the conflicts and their resolution.

    Raises:
        UsageError: no project, or an unknown policy or match level.
        MergeConflictError: ``policy="fail"`` and there are conflicts.

    Example:
        >>> merged = merge(coder_a, coder_b, policy="keep-both").project  # doctest: +SKIP
    """
    if not projects:
        raise UsageError("merge needs at least one project")
    if policy not in POLICIES:
        raise UsageError(f"unknown conflict policy {policy!r}; use one of {', '.join(POLICIES)}")
    if match not in MATCH_LEVELS:
        raise UsageError(f"unknown match level {match!r}; use one of {', '.join(MATCH_LEVELS)}")
    result = projects[0]
    conflicts: list[Conflict] = []
    texts: list[TextCarry] = []
    for number, theirs in enumerate(projects[1:], start=1):
        step = _Step(result, theirs, number, policy, match, similarity)
        result = step.run()
        conflicts.extend(step.conflicts)
        texts.extend(step.texts)
    if conflicts and policy == "fail":
        raise MergeConflictError(conflicts)
    return MergeResult(result, tuple(conflicts), tuple(texts))


# --------------------------------------------------------------------------- phase 1: pairing

# Areas where keep-both can keep a second object: it gets a new GUID and its own codings.
_KEEP_BOTH_AREAS = frozenset({"codes", "sources", "notes", "links", "graphs"})


def _colour(value: str | None) -> str | None:
    return value.upper() if value is not None else None


class _Step:
    """Merge ``theirs`` (input number ``number``) into ``ours``: pair, rewrite, union."""

    def __init__(
        self,
        ours: Project,
        theirs: Project,
        number: int,
        policy: Policy,
        match: MatchLevel,
        similarity: float = DEFAULT_SIMILARITY,
    ) -> None:
        self.ours, self.theirs, self.number, self.policy, self.match = ours, theirs, number, policy, match
        self.similarity = similarity
        self.io, self.it = ProjectIndex(ours), ProjectIndex(theirs)
        self.remap: dict[str, Guid] = {}  # theirs key -> result GUID (only when different)
        self.paired: dict[str, str] = {}  # theirs key -> ours key, every paired object
        self.kept: set[str] = set()  # theirs keys kept as a second object (keep-both)
        self.prefer_theirs: set[str] = set()  # ours keys whose scalar content theirs replaces
        self.replace_whole: set[str] = set()  # ours source keys replaced by theirs (text, policy theirs)
        self.drop: set[str] = set()  # ours source keys whose text differs: theirs' codings dropped
        self.moved_to: dict[str, str | None] = {}  # ours code key -> theirs' parent key (theirs space)
        self.conflicts: list[Conflict] = []
        self.texts: list[TextCarry] = []

    def run(self) -> Project:
        self._rebase_texts()
        self._pair_all()
        self._mint_collisions()
        theirs = remap_guids(self.theirs, self.remap) if self.remap else self.theirs
        return _Union(self, theirs).project()

    def result_key(self, key: str) -> str:
        """A theirs key in the merged project's terms."""
        new = self.remap.get(key)
        return new.key if new is not None else key

    def _rebase_texts(self) -> None:
        """Step 0: one side's copy of a shared text re-based onto the other's where that is safe."""
        matching = match_sources(self.ours.sources, self.theirs.sources)
        by_ours = {s.guid.key: i for i, s in enumerate(self.ours.sources)}
        ours, theirs = list(self.ours.sources), list(self.theirs.sources)
        for i, source in enumerate(self.theirs.sources):
            key_o = matching.b_to_a.get(source.guid.key)
            if key_o is not None:
                j = by_ours[key_o]
                ours[j], theirs[i] = self._rebase_source(ours[j], source)
        if any(new is not old for new, old in zip(theirs, self.theirs.sources, strict=True)):
            self.theirs = replace(self.theirs, sources=tuple(theirs))
        if any(new is not old for new, old in zip(ours, self.ours.sources, strict=True)):
            self.ours = replace(self.ours, sources=tuple(ours))

    def _rebase_source(self, ours: Source, theirs: Source) -> tuple[Source, Source]:
        if isinstance(ours, TextSource) and isinstance(theirs, TextSource):
            doc_o, doc_t = self._rebase_doc(ours, theirs, ours)
            return doc_o or ours, doc_t or theirs
        if isinstance(ours, PDFSource) and isinstance(theirs, PDFSource):
            doc_o, doc_t = self._rebase_doc(ours.representation, theirs.representation, ours)
            return (
                ours if doc_o is None else replace(ours, representation=doc_o),
                theirs if doc_t is None else replace(theirs, representation=doc_t),
            )
        if isinstance(ours, PictureSource) and isinstance(theirs, PictureSource):
            doc_o, doc_t = self._rebase_doc(ours.text_description, theirs.text_description, ours)
            return (
                ours if doc_o is None else replace(ours, text_description=doc_o),
                theirs if doc_t is None else replace(theirs, text_description=doc_t),
            )
        return ours, theirs

    def _rebase_doc(
        self, ours: TextSource | None, theirs: TextSource | None, owner: Source
    ) -> tuple[TextSource | None, TextSource | None]:
        """(ours, theirs) with one of them re-based onto the other's text; None: unchanged.

        The same text in another representation: theirs moves onto ours' text. An edited text
        is a conflict: ``ours`` carries theirs' selections onto ours' text, ``theirs`` carries
        ours' onto theirs' (nothing is dropped; lost ones are listed); ``fail`` lists the
        conflict (step 1) and ``keep-both`` keeps both sources.
        """
        if ours is None or theirs is None or ours.text is None or theirs.text is None or ours.text == theirs.text:
            return None, None
        tmap = TextMap(theirs.text, ours.text)
        if tmap.same_text:
            doc, outcomes = carry_doc(theirs, ours.text, tmap)
            self.texts.append(TextCarry(owner.name, str(owner.guid), self.number, tmap.kind, tuple(outcomes)))
            return None, doc
        if self.policy not in ("ours", "theirs"):
            return None, None
        before, after = _text_sig(ours), _text_sig(theirs)
        guid = str(owner.guid)
        self.conflicts.append(Conflict("text", "sources", guid, owner.name, before, after, self.number, self.policy))
        if self.policy == "ours":
            doc, outcomes = carry_doc(theirs, ours.text, tmap)
            self.texts.append(TextCarry(owner.name, guid, self.number, tmap.kind, tuple(outcomes)))
            return None, doc
        doc, outcomes = carry_doc(ours, theirs.text, tmap.reverse())
        self.texts.append(TextCarry(owner.name, guid, self.number, tmap.kind, tuple(outcomes), carried="ours"))
        return replace(doc, text_inline=theirs.text_inline, plain_text_path=theirs.plain_text_path), None

    def _pair_all(self) -> None:
        o, t = self.ours, self.theirs
        self._pair("users", match_named(o.users, t.users, lambda u: u.name), o.users, t.users, _sig_user)
        codes = code_matching(self.io, self.it, self.match, self.similarity)
        self._pair("codes", codes, tuple(self.io.codes.values()), tuple(self.it.codes.values()), _sig_code)
        self._pair_moves(codes)
        self._pair("sources", match_sources(o.sources, t.sources), o.sources, t.sources, _sig_source)
        self._pair("notes", match_named(o.notes, t.notes, lambda n: n.text), o.notes, t.notes, _sig_source)
        variables = match_named(o.variables, t.variables, lambda v: v.name)
        self._pair("variables", variables, o.variables, t.variables, _sig_variable)
        self._pair("cases", match_named(o.cases, t.cases, lambda c: c.name), o.cases, t.cases, _sig_named)
        self._pair("sets", match_named(o.sets, t.sets, lambda s: s.name), o.sets, t.sets, _sig_named)
        links = match_named(o.links, t.links, _link_ends, self._link_ends_theirs)
        self._pair("links", links, o.links, t.links, self._sig_mapped)
        self._pair("graphs", match_named(o.graphs, t.graphs, _no_name), o.graphs, t.graphs, self._sig_mapped)

    def _pair(self, area: str, matching: Matching, ours: Sequence[R], theirs: Sequence[R], sig: _Sig[R]) -> None:
        by_ours = {own_key(x): x for x in ours}
        by_theirs = {own_key(x): x for x in theirs}
        for key_t, key_o in matching.b_to_a.items():
            o, t = by_ours[key_o], by_theirs[key_t]
            self.paired[key_t] = key_o
            if key_t != key_o:
                self.remap[key_t] = _guid_of(o)
            before, after = sig(o, False), sig(t, True)
            if before != after:
                # Report only the fields that differ, so the conflict list is readable.
                before = {k: v for k, v in before.items() if after.get(k) != v}
                after = {k: after[k] for k in before}
                text = area == "sources" and isinstance(o, TextSource) and _text_differs(o, t)
                self._conflict("text" if text else "content", area, o, key_t, before, after)

    def _pair_moves(self, codes: Matching) -> None:
        """A paired code whose parent is not the paired parent has moved (a conflict)."""
        for key_t, key_o in codes.b_to_a.items():
            parent_o = self.io.parents[Guid(key_o)]
            parent_t = self.it.parents[Guid(key_t)]
            where_o = parent_o.guid.key if parent_o is not None else None
            where_t = codes.b_to_a.get(parent_t.guid.key, "new:" + parent_t.guid.key) if parent_t else None
            if where_o == where_t:
                continue
            before = list(self.io.code_path(parent_o)) if parent_o is not None else []
            after = list(self.it.code_path(parent_t)) if parent_t is not None else []
            if self.policy == "theirs":
                self.moved_to[key_o] = parent_t.guid.key if parent_t is not None else None
            self._conflict("moved", "codes", self.io.codes[Guid(key_o)], key_t, before, after)

    def _conflict(self, kind: str, area: str, ours: object, key_t: str, before: Json, after: Json) -> None:
        key_o = own_key(ours)
        assert key_o is not None
        resolution: str = self.policy
        if self.policy == "keep-both" and area in _KEEP_BOTH_AREAS:
            if key_t not in self.kept:
                self.kept.add(key_t)
                self.remap[key_t] = mint_guid(key_t, self.number)
        elif self.policy == "keep-both":
            resolution = "ours"  # a second user/variable/case/set with the same name means nothing
        elif self.policy == "theirs":
            (self.replace_whole if kind == "text" else self.prefer_theirs).add(key_o)
        elif kind == "text":
            self.drop.add(key_o)
        name = getattr(ours, "name", None)
        self.conflicts.append(Conflict(kind, area, str(_guid_of(ours)), name, before, after, self.number, resolution))

    def _link_ends_theirs(self, link: Link) -> Hashable | None:
        ends = (link.origin, link.target)
        if any(end is None for end in ends):
            return None
        return (link.name, *(self.result_key(end.key) for end in ends if end is not None))

    def _sig_mapped(self, record: object, is_theirs: bool) -> dict[str, Json]:
        value = remap_guids(record, self.remap) if is_theirs else record
        return {"content": repr(value)}

    def _mint_collisions(self) -> None:
        """Re-mint theirs' GUIDs that name a different object in ours (REFI §3.1 uniqueness)."""
        ours = owners(self.ours)
        stack: list[tuple[object, str]] = [(child, "") for child in children(self.theirs)]
        while stack:
            record, owner = stack.pop()
            key = own_key(record)
            if key is not None and key not in self.paired and key not in self.kept:
                hit = ours.get(key)
                if hit is not None and (hit != (type(record).__name__, owner) or owner == ""):
                    self.remap[key] = mint_guid(key, self.number)
            new_owner = self.result_key(key) if key is not None else owner
            stack.extend((child, new_owner) for child in children(record))


_Sig = Callable[[R, bool], dict[str, Json]]


def _guid_of(record: object) -> Guid:
    guid = getattr(record, "guid", None)
    assert isinstance(guid, Guid)
    return guid


def _sig_user(user: User, _: bool) -> dict[str, Json]:
    return {"name": user.name}


def _sig_code(code: Code, _: bool) -> dict[str, Json]:
    # Colour case carries no meaning (REFI RGBType, docs/quirks.md §2).
    return {
        "name": code.name,
        "color": _colour(code.color),
        "description": code.description,
        "codable": code.is_codable,
    }


def _sig_source(source: Source, _: bool) -> dict[str, Json]:
    # An empty description is no description (REFI §3.8; NVivo for Windows writes it, Mac omits it).
    sig: dict[str, Json] = {"type": type(source).__name__, "name": source.name}
    sig["description"] = source.description or None
    if isinstance(source, TextSource):
        sig["text"] = _text_sig(source)
    else:
        sig["content"] = _short_hash(source)
    return sig


def _text_sig(source: TextSource) -> str | None:
    return None if source.text is None else f"{len(source.text)} chars, sha256 {_short_hash(source)}"


def _short_hash(source: Source) -> str | None:
    digest = content_hash(source)
    return digest.rsplit(":", 1)[-1][:12] if digest is not None else None


def _sig_variable(variable: Variable, _: bool) -> dict[str, Json]:
    return {"name": variable.name, "type": variable.type.value, "description": variable.description}


def _sig_named(record: Case | Set, _: bool) -> dict[str, Json]:
    return {"name": record.name, "description": record.description}


def _link_ends(link: Link) -> Hashable | None:
    """A link without a GUID match is the same link when it joins the same ends by the same name."""
    if link.origin is None or link.target is None:
        return None
    return (link.name, link.origin.key, link.target.key)


def _no_name(_: object) -> Hashable | None:
    return None


def _text_differs(ours: TextSource, theirs: object) -> bool:
    return isinstance(theirs, TextSource) and ours.text != theirs.text


# --------------------------------------------------------------------------- phase 3: union

_Rng = tuple[int | str | None, ...]
_CodingId = tuple[_Rng, str, str | None]


def _coding_id(rng: _Rng, coding: Coding) -> _CodingId:
    return (rng, coding.code.key, coding.creating_user.key if coding.creating_user is not None else None)


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


class _Union:
    """Phase 3: ``theirs`` already speaks ours' GUIDs; union it into ours."""

    def __init__(self, step: _Step, theirs: Project) -> None:
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
        fresh = tuple(c for c in sel.codings if not seen.consume(_coding_id(rng, c)))
        if not fresh:
            # Everything it codes is already there: fold it into the selection that has it.
            twin = seen.holder.get(_coding_id(rng, sel.codings[0])) if sel.codings else seen.ranges.get(rng)
            if twin is not None:
                self.folded[sel.guid.key] = twin
                return
        out.append(sel if len(fresh) == len(sel.codings) else replace(sel, codings=fresh))

    def _codings(
        self, rng: _Rng, ours: tuple[Coding, ...], theirs: tuple[Coding, ...], seen: _Seen
    ) -> tuple[Coding, ...]:
        """Theirs' codings not matched by one of ours (same range, code and coder), appended to ours."""
        guids = {c.guid.key for c in ours}
        extra: list[Coding] = []
        for coding in theirs:
            if seen.consume(_coding_id(rng, coding)):
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
        self.count: Counter[_CodingId] = Counter()
        self.holder: dict[_CodingId, Guid] = {}
        self.ranges: dict[_Rng, Guid] = {}

    def add(self, rng: _Rng, owner: Guid, codings: Iterable[Coding]) -> _Seen:
        self.ranges.setdefault(rng, owner)
        for coding in codings:
            ident = _coding_id(rng, coding)
            self.count[ident] += 1
            self.holder.setdefault(ident, owner)
        return self

    def consume(self, ident: _CodingId) -> bool:
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

    def __init__(self, step: _Step, codes: tuple[Code, ...]) -> None:
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
