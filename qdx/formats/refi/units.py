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
from collections.abc import Iterator
from dataclasses import dataclass

from qdx.errors import Issue, Severity
from qdx.formats.refi._context import Context
from qdx.model import AudioSource, Project, TextDoc, TextSource, Transcript, VideoSource, text_docs
from qdx.text import CODEPOINT, CODEPOINT_LF, UNITS, UTF16, PositionMap, is_word_start

# Only a comment before the root counts (anchored, so a quoted marker in text cannot fool it).
MARKER_RE = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?<!--\s*qdx:\s*positions=([a-z0-9-]+)(?:\s+lf=([0-9]{1,9}(?:,[0-9]{1,9})*))?\s*-->"
)
# Overriding ``origin`` needs a clear majority on enough evidence (docs/quirks.md §8 numbers).
MIN_EVIDENCE = 5
MIN_SHARE = 0.8
MIN_MARGIN = 0.3
# Enough discriminating selections to decide; more only costs time on huge projects.
MAX_EVIDENCE = 5000


def marker(unit: str, lf_docs: list[int]) -> str:
    """The comment qdx writes to record its position unit and which texts (indices in
    :func:`iter_docs` order) it widened from LF to CRLF for the ``nvivo`` dialect."""
    lf = f" lf={','.join(map(str, lf_docs))}" if lf_docs else ""
    return f" qdx: positions={unit}{lf} "


@dataclass(frozen=True, slots=True)
class Marker:
    unit: str
    lf_docs: frozenset[int]


def find_marker(data: bytes) -> Marker | None:
    """What a qdx-written document declares about its positions, if anything."""
    found = MARKER_RE.match(data)
    if found is None:
        return None
    unit = found.group(1).decode("ascii")
    lf = found.group(2) or b""
    docs = frozenset(int(i) for i in lf.decode("ascii").split(",") if i)
    return Marker(unit, docs) if unit in UNITS else None


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
    """Word-start hits per unit over the selections where the units disagree."""

    hits: dict[str, int]
    total: int

    def share(self, unit: str) -> float:
        return self.hits[unit] / self.total if self.total else 0.0


def measure(project: Project) -> Evidence:
    """Count, per candidate unit, how many discriminating selection starts are word starts."""
    hits = dict.fromkeys(UNITS, 0)
    total = 0
    for doc in iter_docs(project):
        if doc.text is None or not isinstance(doc, TextSource) or not doc.selections:
            continue
        maps = {unit: PositionMap(doc.text, unit) for unit in UNITS}
        if all(m.identity for m in maps.values()):
            continue
        for sel in doc.selections:
            if total >= MAX_EVIDENCE:
                return Evidence(hits, total)
            starts = {unit: m.to_model(sel.start) for unit, m in maps.items()}
            if len(set(starts.values())) == 1:
                continue
            total += 1
            for unit, pos in starts.items():
                hits[unit] += is_word_start(doc.text, pos)
    return Evidence(hits, total)


def choose_unit(project: Project, ctx: Context, *, forced: str | None, declared: str | None) -> str:
    """Decide the producer unit: forced > qdx marker > measurement > ``origin``."""
    if forced is not None:
        return forced
    if declared is not None:
        return declared
    prior = unit_from_origin(project.origin)
    evidence = measure(project)
    if evidence.total < MIN_EVIDENCE:
        return prior
    best = max(UNITS, key=evidence.share)
    clear = evidence.share(best) >= MIN_SHARE and evidence.share(best) - evidence.share(prior) >= MIN_MARGIN
    if best != prior and clear:
        ctx.issues.append(
            _unit_issue(ctx, f"positions read as {best} ({evidence.share(best):.0%} of starts on a word)"
                        f" although origin {project.origin!r} suggests {prior}"
                        f" ({evidence.share(prior):.0%})")
        )
        ctx.quirk("quirk23:origin-unit-mismatch")
        return best
    return prior


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
