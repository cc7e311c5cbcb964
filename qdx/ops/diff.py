"""What changed between two projects or codebooks: codebook, sources, codings and the rest.

Objects are paired across the two inputs before they are compared, because GUIDs are not
stable across tools (ATLAS.ti re-mints them on every export, docs/quirks.md §6):

* codes by GUID, then by full path, then by a name unique on both sides;
* sources by GUID, then by identical content (SHA-256 of the text or embedded file), then name;
* users, variables, cases and sets by GUID, then name; notes by GUID, then identical text.

Every change of an object paired by something other than its GUID says so (``match``), and
such a pair also yields a ``guid-changed`` change, so ``diff(a, b) == ()`` exactly when the
two inputs hold the same things under the same identities.

Codings are compared per (source, code): a coding is identified by its selection range and
coder (REFI §3.13: one code per Coding; the range is the selection's). Equal ones cancel; of
the rest, same-coder codings whose ranges overlap are paired by a sweep over the ranges sorted
by start (``boundary-changed``); what is left is ``added`` or ``removed``. Everything is
O(n log n) in the number of selections.

When the two copies of a text differ, B's codings are compared in A's positions through
:mod:`qdx.textmap`: copies that differ only in line endings, a BOM or trailing whitespace map
exactly (the source is ``representation-changed``, its codings unchanged); an edited text is
aligned, and a coding is ``moved`` (same passage, new place), ``lost`` (its passage is gone) or
``passage-edited`` (paired with B's coding over the edited passage). Codings on the same
passage that differ only in coder are counted once per coder pair (``codings-reattributed``).

The result types and the pairing context are in :mod:`qdx.ops._diff_base` (imported from here),
objects are compared in :mod:`qdx.ops._diff_objects` and codings in :mod:`qdx.ops._diff_codings`.
"""

from __future__ import annotations

from qdx.model import Project, ProjectIndex
from qdx.ops._diff_base import AREAS, Change, DiffContext, DiffResult
from qdx.ops._diff_codings import diff_codings, report_reattributed
from qdx.ops._diff_objects import diff_codes, diff_others, diff_project, diff_sources, text_diff
from qdx.ops.pairing import match_named, match_sources
from qdx.ops.renames import DEFAULT_SIMILARITY, code_matching
from qdx.options import MatchLevel

__all__ = ["AREAS", "Change", "DiffResult", "diff", "text_diff"]


def diff(
    a: Project, b: Project, *, match: MatchLevel = "path", similarity: float = DEFAULT_SIMILARITY
) -> DiffResult:
    """Compare two projects (or codebooks) and list what changed from ``a`` to ``b``.

    Args:
        a: the "before" project; never modified.
        b: the "after" project; never modified.
        match: the loosest criterion used to pair codes: ``guid``, ``path`` (default: GUID,
            then full path), ``name`` (also a name unique in both projects) or ``content``
            (codes still unpaired are then paired by similarity, as git detects renames; such a
            pair's changes carry ``similarity``, :mod:`qdx.ops.renames`). ``path`` is
            :func:`~qdx.ops.merge.merge`'s default too, so a diff shows the pairing a merge uses.
        similarity: the least similarity (0..1) that pairs two codes by content.

    Returns:
        A :class:`DiffResult`: a tuple of :class:`Change` (empty when nothing differs) with
        ``matching`` counts per area and criterion.

    Raises:
        UsageError: ``match`` is not a known level.

    Example:
        >>> [c.kind for c in diff(before, after) if c.area == "codes"]  # doctest: +SKIP
        ['renamed', 'moved']
    """
    ia, ib = ProjectIndex(a), ProjectIndex(b)
    ctx = DiffContext(
        a=ia,
        b=ib,
        codes=code_matching(ia, ib, match, similarity),
        sources=match_sources(a.sources, b.sources),
        users=match_named(a.users, b.users, lambda u: u.name),
        notes=match_named(a.notes, b.notes, lambda n: n.text),
        variables=match_named(a.variables, b.variables, lambda v: v.name),
        changes=[],
    )
    diff_project(ctx)
    diff_codes(ctx)
    diff_sources(ctx)
    diff_codings(ctx)
    diff_others(ctx)
    report_reattributed(ctx)
    matching = {
        "codes": ctx.codes.counts(),
        "sources": ctx.sources.counts(),
        "users": ctx.users.counts(),
    }
    return DiffResult(ctx.changes, matching)
