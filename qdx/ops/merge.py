"""Merge several coders' projects into one, keeping every coding with its coder.

The inputs are folded left to right: the first is "ours", each next one "theirs". Each step
has three phases, so that the union itself can be done by GUID:

0. **Re-base texts** (:mod:`qdx.textmap`): theirs' copy of a text that differs from ours only
   in line endings, a BOM or trailing whitespace takes ours' text, its selections moved onto it
   through the exact position map, so it is no conflict. A really edited text is a conflict;
   with ``policy="ours"`` theirs' selections are carried onto ours' text by aligning the two
   (each unchanged, moved or lost, and every lost one is listed in :attr:`MergeResult.texts`);
   with ``policy="theirs"`` ours' selections are carried onto theirs' text the same way.
1. **Pair** theirs' objects with ours (:mod:`qdx.ops.pairing`, as diff pairs them): codes by GUID, then full
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

Phases 0 to 2 are :class:`qdx.ops._merge_pair.MergeStep` (which the three-way merge uses to
align), phase 3 is :mod:`qdx.ops._merge_union`; the result types are in
:mod:`qdx.ops._merge_types` and are imported from here.
"""

from __future__ import annotations

from qdx.errors import UsageError
from qdx.model import Project
from qdx.ops._merge_pair import MergeStep
from qdx.ops._merge_types import Conflict, MergeConflictError, MergeResult, TextCarry
from qdx.ops._merge_union import MergeUnion
from qdx.ops.pairing import remap_guids
from qdx.ops.renames import DEFAULT_SIMILARITY
from qdx.options import MATCH_LEVELS, POLICIES, MatchLevel, Policy

__all__ = ["Conflict", "MergeConflictError", "MergeResult", "TextCarry", "merge"]


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
        step = MergeStep(result, theirs, number, policy, match, similarity)
        result = _merge_step(step)
        conflicts.extend(step.conflicts)
        texts.extend(step.texts)
    if conflicts and policy == "fail":
        raise MergeConflictError(conflicts)
    return MergeResult(result, tuple(conflicts), tuple(texts))


def _merge_step(step: MergeStep) -> Project:
    """One fold: re-base texts and pair (phases 0-1), rewrite theirs in ours' GUIDs (2), union (3)."""
    step.rebase_texts()
    step.pair_all()
    step.mint_collisions()
    theirs = remap_guids(step.theirs, step.remap) if step.remap else step.theirs
    return MergeUnion(step, theirs).project()
