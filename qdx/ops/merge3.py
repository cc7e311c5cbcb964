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

1. **Align** both sides to the base with the two-way merge's pairing (:class:`qdx.ops._merge_pair.MergeStep`:
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

from dataclasses import replace

from qdx.errors import UsageError
from qdx.model import Guid, Project, iter_codes, iter_selections
from qdx.ops._merge3_codes import CodeTree3
from qdx.ops._merge3_run import Merge3
from qdx.ops._merge3_values import merge_set
from qdx.ops._merge_pair import MergeStep
from qdx.ops._merge_types import Conflict3, MergeConflictError, MergeResult
from qdx.ops.pairing import own_key, owners, remap_guids
from qdx.ops.renames import DEFAULT_SIMILARITY
from qdx.options import MATCH_LEVELS, POLICIES, MatchLevel, Policy

__all__ = ["Conflict3", "align", "merge3"]

# Salts for re-minted GUIDs: aligning ours, theirs, and theirs' new objects to ours' new ones.
_SALT_OURS, _SALT_THEIRS, _SALT_BOTH = 31, 32, 33


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
    run = Merge3(base, a, b, policy)
    project = _merged_project(run)
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

    Uses the two-way merge's pairing and collision re-minting (phases 1 and 2 of
    :class:`qdx.ops._merge_pair.MergeStep`); GUIDs in ``keep`` are never changed (the base's, when two
    sides already speak them).
    """
    step = MergeStep(ref, side, salt, "ours", match, similarity)
    step.pair_all()
    step.mint_collisions()
    remap = {k: v for k, v in step.remap.items() if k not in keep and v.key not in keep}
    return remap_guids(side, remap) if remap else side


def _merged_project(run: Merge3) -> Project:
    """Every record and field of the project merged three-way, then its code tree."""
    b, o, t = run.base, run.ours, run.theirs
    sources = run.records("sources", b.sources, o.sources, t.sources)
    notes = run.records("notes", b.notes, o.notes, t.notes)
    merged = replace(
        o,
        users=run.records("users", b.users, o.users, t.users),
        variables=run.records("variables", b.variables, o.variables, t.variables),
        cases=run.records("cases", b.cases, o.cases, t.cases),
        sources=sources,
        notes=notes,
        links=run.records("links", b.links, o.links, t.links),
        sets=run.records("sets", b.sets, o.sets, t.sets),
        graphs=run.records("graphs", b.graphs, o.graphs, t.graphs),
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
        value = run.pick("project", o, name, getattr(b, name), getattr(o, name), getattr(t, name))
        if value != getattr(merged, name):
            merged = replace(merged, **{name: value})
    merged = replace(merged, note_refs=merge_set(b.note_refs, o.note_refs, t.note_refs))
    merged = replace(merged, codes=CodeTree3(run).build())
    return _drop_dangling(merged)


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
