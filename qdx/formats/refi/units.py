"""Which unit a producer counted text positions in, and converting them to code points.

REFI §10.2 asks for code points; NVivo writes UTF-16 units (docs/quirks.md quirk 1) and
ATLAS.ti counts CRLF as one (quirk 9). ``origin`` gives the first guess, but it can be
faked (quirk 23), so the guess is checked by measuring: the right unit puts 98-100 % of
selection starts on a word start, a wrong one 0-25 % (docs/quirks.md §5.1, §8). Only the
selections whose position differs between candidate units are measured.

qdx's own writer states its unit in a comment (``<!-- qdx: positions=utf16 -->``), which is
trusted like an explicit ``unit=`` option.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from qdx.errors import Issue, Severity
from qdx.formats.refi._context import Context
from qdx.model import AudioSource, Guid, Project, Selection, TextDoc, TextSource, Transcript, VideoSource, text_docs
from qdx.text import CODEPOINT, CODEPOINT_LF, UNITS, UTF16, PositionMap, is_word_start

# Only a comment before the root counts (anchored, so a quoted marker in text cannot fool it).
MARKER_RE = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?<!--\s*qdx:\s*positions=([a-z0-9-]+)"
    rb"((?:\s+(?:lf|inline|notext|nopath)=[0-9]{1,9}(?:,[0-9]{1,9})*|\s+split=1|\s+origin=none)*)\s*-->"
)
_TOKEN_RE = re.compile(rb"([a-z]+)=([0-9,]+|none)")
# Derives the GUIDs of the selections the nvivo dialect splits off (one Coding each).
_SPLIT_NS = uuid.UUID("3f0c9a52-6d1e-5b8a-9e27-81c4d6a0b5f3")
# Overriding ``origin`` needs a clear majority on enough evidence (docs/quirks.md §8 numbers).
MIN_EVIDENCE = 5
MIN_SHARE = 0.8
MIN_MARGIN = 0.3
# Enough discriminating selections to decide; more only costs time on huge projects.
MAX_EVIDENCE = 5000


def marker(unit: str, lf_docs: list[int], split: bool = False, **client: list[int] | bool) -> str:
    """The comment qdx writes to record how its file differs from the model it was written from.

    ``positions``: the unit; ``lf``: texts (indices in :func:`iter_docs` order) widened from LF to
    CRLF for the ``nvivo`` dialect; ``split=1``: selections split into one per Coding (see
    :func:`split_guid`). What was written only so that clients do not crash on it (QualCoder
    needs a text file for every text, a path for every file source, an ``origin``): ``inline``
    texts written to a file, ``notext`` texts written as an empty file, ``nopath`` sources (indices
    in ``Project.sources``) given a placeholder path, ``origin=none``. qdx's reader undoes each.
    """
    parts = [f"positions={unit}"]
    if lf_docs:
        parts.append(f"lf={','.join(map(str, lf_docs))}")
    if split:
        parts.append("split=1")
    for name in ("inline", "notext", "nopath"):
        items = client.get(name)
        if isinstance(items, list) and items:
            parts.append(f"{name}={','.join(map(str, items))}")
    if client.get("no_origin"):
        parts.append("origin=none")
    return f" qdx: {' '.join(parts)} "


def split_guid(guid: Guid, number: int) -> Guid:
    """GUID of the ``number``-th (1-based) selection split off ``guid`` by the nvivo dialect:
    derived, so a reader recognises it (and rejoins it) without a list in the file."""
    return Guid(str(uuid.uuid5(_SPLIT_NS, f"{guid.key}/{number}")))


@dataclass(frozen=True, slots=True)
class Marker:
    unit: str
    lf_docs: frozenset[int]
    split: bool = False
    inline: frozenset[int] = frozenset()
    notext: frozenset[int] = frozenset()
    nopath: frozenset[int] = frozenset()
    no_origin: bool = False


def find_marker(data: bytes) -> Marker | None:
    """What a qdx-written document declares about itself, if anything (see :func:`marker`)."""
    found = MARKER_RE.match(data)
    if found is None:
        return None
    unit = found.group(1).decode("ascii")
    tokens = {name.decode("ascii"): value.decode("ascii") for name, value in _TOKEN_RE.findall(found.group(2))}

    def numbers(name: str) -> frozenset[int]:
        return frozenset(int(i) for i in tokens.get(name, "").split(",") if i.isdigit())

    if unit not in UNITS:
        return None
    return Marker(
        unit,
        numbers("lf"),
        tokens.get("split") == "1",
        numbers("inline"),
        numbers("notext"),
        numbers("nopath"),
        tokens.get("origin") == "none",
    )


def restore_client_safe(project: Project, mark: Marker) -> None:
    """Undo what the writer did only for clients (in place, fresh records only; :func:`marker`)."""
    if mark.no_origin:
        project.origin = None
    for i, source in enumerate(project.sources):
        if i in mark.nopath and not isinstance(source, TextSource):
            source.path = None
    for i, doc in enumerate(iter_docs(project)):
        if i in mark.inline:
            doc.text_inline, doc.plain_text_path = True, None
        elif i in mark.notext:
            doc.text, doc.plain_text_path = None, None


def rejoin_split(project: Project) -> None:
    """Undo the nvivo dialect's one-Coding-per-selection split (in place, fresh records only).

    A selection whose GUID is :func:`split_guid` of the selection kept before it, over the same
    range, gives its Coding back to that selection.
    """
    for holder in _selection_holders(project):
        kept: list[Selection] = []
        pending: dict[str, tuple[Selection, int]] = {}
        for sel in holder.selections:
            found = pending.pop(sel.guid.key, None)
            if found is not None and _same_range(found[0], sel):
                owner, number = found
                owner.codings = (*owner.codings, *sel.codings)
                pending[split_guid(owner.guid, number + 1).key] = (owner, number + 1)
                continue
            kept.append(sel)
            pending[split_guid(sel.guid, 1).key] = (sel, 1)
        if len(kept) != len(holder.selections):
            holder.selections = tuple(kept)


def _selection_holders(project: Project) -> Iterator[Any]:
    for source in project.sources:
        if not isinstance(source, TextSource):
            yield source
        yield from text_docs(source)
        if isinstance(source, AudioSource | VideoSource):
            yield from source.transcripts


def _same_range(a: Selection, b: Selection) -> bool:
    return type(a) is type(b) and _range_of(a) == _range_of(b)


def _range_of(sel: Selection) -> tuple[object, ...]:
    names = ("start", "end", "begin", "page", "first_x", "first_y", "second_x", "second_y")
    return tuple(getattr(sel, n, None) for n in (*names, "from_sync_point", "to_sync_point"))


def restore_lf(project: Project, lf_docs: frozenset[int]) -> None:
    """Undo the nvivo dialect's LF -> CRLF widening (in place, fresh records only)."""
    for i, doc in enumerate(iter_docs(project)):
        if i not in lf_docs or doc.text is None:
            continue
        pmap = PositionMap(doc.text, CODEPOINT_LF)
        if isinstance(doc, TextSource):
            for sel in doc.selections:
                sel.start, sel.end = pmap.from_model(sel.start), pmap.from_model(sel.end)
        elif isinstance(doc, Transcript):
            for point in doc.sync_points:
                if point.position is not None:
                    point.position = pmap.from_model(point.position)
        doc.text = doc.text.replace("\r\n", "\n")


def unit_from_origin(origin: str | None) -> str:
    """The unit a producer is known to use (docs/quirks.md §5.1, quirks 1 and 9)."""
    low = (origin or "").lower()
    if "nvivo" in low:
        return UTF16
    if "atlas.ti" in low:
        return CODEPOINT_LF
    return CODEPOINT


def iter_docs(project: Project) -> Iterator[TextDoc]:
    """Every text-bearing element: text sources, representations, transcripts, notes."""
    for source in project.sources:
        yield from text_docs(source)
        if isinstance(source, AudioSource | VideoSource):
            yield from source.transcripts
    yield from project.notes


@dataclass(slots=True)
class Evidence:
    """Measurements per candidate unit over the selections where the units disagree.

    ``hits``: selection starts on a word start (soft evidence, docs/quirks.md §8); ``broken``:
    selections that under the unit end past their text, run backwards, or start or end inside
    a character (half a surrogate pair, between the CR and LF of a line end). A unit that
    breaks selections another unit keeps whole is wrong, whatever ``origin`` says.
    """

    hits: dict[str, int]
    total: int
    broken: dict[str, int] = field(default_factory=lambda: dict.fromkeys(UNITS, 0))

    def share(self, unit: str) -> float:
        return self.hits[unit] / self.total if self.total else 0.0


def measure(project: Project) -> Evidence:
    """Measure every candidate unit on the selections whose model range differs between units."""
    evidence = Evidence(dict.fromkeys(UNITS, 0), 0)
    for doc in iter_docs(project):
        if doc.text is None or not isinstance(doc, TextSource) or not doc.selections:
            continue
        maps = {unit: PositionMap(doc.text, unit) for unit in UNITS}
        if all(m.identity for m in maps.values()):
            continue
        for sel in doc.selections:
            if evidence.total >= MAX_EVIDENCE:
                return evidence
            ranges = {unit: (m.to_model(sel.start), m.to_model(sel.end)) for unit, m in maps.items()}
            if len(set(ranges.values())) == 1:
                continue
            evidence.total += 1
            for unit, (start, end) in ranges.items():
                evidence.hits[unit] += is_word_start(doc.text, start)
                evidence.broken[unit] += _breaks(doc.text, maps[unit], sel.start, sel.end, start, end)
    return evidence


def _breaks(text: str, pmap: PositionMap, raw_start: int, raw_end: int, start: int, end: int) -> bool:
    """True when the selection, read in ``pmap``'s unit, is not a whole passage of ``text``."""
    if start < 0 or end > len(text) or start > end:
        return True
    if not (pmap.exact(raw_start) and pmap.exact(raw_end)):
        return True
    return any(0 < pos < len(text) and text[pos - 1] == "\r" and text[pos] == "\n" for pos in (start, end))


def choose_unit(project: Project, ctx: Context, *, forced: str | None, declared: str | None) -> str:
    """Decide the producer unit: forced > qdx marker > measurements > ``origin``.

    Measurements win over ``origin``: first the units that break fewest selections, then among
    those the one putting most starts on a word (docs/quirks.md §5.1, §8). On fewer than
    :data:`MIN_EVIDENCE` discriminating selections the evidence is thin: qdx still follows it
    when it clearly points away from ``origin``, and says so in an Issue naming both units.
    """
    if forced is not None:
        return forced
    if declared is not None:
        return declared
    prior = unit_from_origin(project.origin)
    evidence = measure(project)
    if evidence.total == 0:
        return prior
    fewest = min(evidence.broken.values())
    whole = [unit for unit in UNITS if evidence.broken[unit] == fewest]
    best = max(whole, key=lambda unit: (evidence.share(unit), unit == prior))
    share_best, share_prior = evidence.share(best), evidence.share(prior)
    # Broken selections decide on thin evidence; on much evidence only when word starts agree
    # (one producer bug - a selection inside an emoji - must not shift every other passage).
    if evidence.broken[prior] > fewest and (evidence.total < MIN_EVIDENCE or share_best >= share_prior):
        reason = (
            f"under {prior} {evidence.broken[prior]} of {evidence.total} distinguishing selection(s) would end "
            f"past their text or split a character or a CRLF, under {best} {evidence.broken[best]}"
        )
        return _override(project, ctx, prior, best, reason)
    if evidence.total >= MIN_EVIDENCE:
        soft = max(UNITS, key=evidence.share)
        share_soft = evidence.share(soft)
        if soft != prior and share_soft >= MIN_SHARE and share_soft - share_prior >= MIN_MARGIN:
            return _override(project, ctx, prior, soft, f"{share_soft:.0%} of starts on a word, {share_prior:.0%}")
        return prior
    if fewest == 0 and best != prior and share_best > share_prior:
        why = f"it keeps every selection whole and puts more starts on a word than {prior}"
        ctx.issues.append(_unit_issue(ctx, _thin(evidence, prior, best, best, why)))
        ctx.quirk("quirk23:origin-unit-mismatch")
        return best
    rivals = [unit for unit in whole if unit != prior and evidence.share(unit) >= share_prior]
    if rivals or fewest > 0:
        why = "the measurements do not tell them apart" if rivals else "every unit breaks some selection"
        ctx.issues.append(_unit_issue(ctx, _thin(evidence, prior, rivals[0] if rivals else best, prior, why)))
    return prior


def _override(project: Project, ctx: Context, prior: str, best: str, reason: str) -> str:
    ctx.issues.append(
        _unit_issue(ctx, f"positions read as {best} although origin {project.origin!r} suggests {prior}: {reason}")
    )
    ctx.quirk("quirk23:origin-unit-mismatch")
    return best


def _thin(evidence: Evidence, prior: str, other: str, chosen: str, why: str) -> str:
    rejected = other if chosen == prior else prior
    return (
        f"position unit uncertain: only {evidence.total} selection(s) tell {prior} (origin) from {other} "
        f"({evidence.hits[prior]} vs {evidence.hits[other]} start on a word); read as {chosen} because {why}, "
        f"not as {rejected}; check the passages, or force the unit (--position-unit)"
    )


def _unit_issue(ctx: Context, message: str, code: str = "QDX008") -> Issue:
    return Issue(code, Severity.WARNING, message, ctx.label)


def convert_positions(project: Project, unit: str, ctx: Context) -> int:
    """Rewrite, in place, every text position of a freshly read project from ``unit`` to
    code points (the reader owns these records until it returns them).

    Returns:
        How many texts the unit made a difference for.
    """
    changed = 0
    for doc in iter_docs(project):
        if doc.text is None:
            _missing_text(doc, unit, ctx)
            continue
        pmap = PositionMap(doc.text, unit)
        if not pmap.identity:
            changed += 1
            _convert_doc(doc, pmap, ctx)
    return changed


def _missing_text(doc: TextDoc, unit: str, ctx: Context) -> None:
    if unit != CODEPOINT and isinstance(doc, TextSource) and doc.selections:
        message = f"text of {doc.guid} is missing, so its selections stay in {unit} units"
        ctx.issues.append(_unit_issue(ctx, message, "QDX013"))


def _convert_doc(doc: TextDoc, pmap: PositionMap, ctx: Context) -> None:
    if isinstance(doc, TextSource):
        for sel in doc.selections:
            if not (pmap.exact(sel.start) and pmap.exact(sel.end)):
                message = f"selection {sel.guid} starts or ends inside a character ({pmap.unit})"
                ctx.issues.append(Issue("QDX011", Severity.WARNING, message, sel.loc or ctx.label))
            sel.start = pmap.to_model(sel.start)
            sel.end = pmap.to_model(sel.end)
    elif isinstance(doc, Transcript):
        for point in doc.sync_points:
            if point.position is not None:
                point.position = pmap.to_model(point.position)
