"""Intercoder agreement between two coders (or two groups of coders) on text sources.

Definitions are docs/methods.md §A:

* **NVivo Coding Comparison** (§A.1): per (code, source) a 2×2 table over units — characters
  (default), sentences or paragraphs — giving percent agreement and Cohen's κ in NVivo's count
  form; neither coder coding gives κ = 1, one coder alone gives κ = 0. A group of users counts
  as having coded a unit when at least one member did (union of spans).
* **Aggregates** (§A.1 "Averaging"), each labelled: simple mean over sources, mean weighted by
  source size, and pooled over all units (all sources concatenated).
* **Krippendorff's α** (§A.0), nominal and binary per code over the same units ("α-binary over
  units", *not* ATLAS.ti's continuum α, §A.3).
* **Segment measures** (§A.2, §A.3), labelled MAXQDA-style: a coded segment agrees when the
  other coder applied the same code to a segment overlapping it by at least ``overlap``
  (intersection over union by default); Holsti's index over one-to-one segment matches; and
  Brennan–Prediger κn with chance 1/k, k = number of codes in the analysis.

Only text selections (and whole-source codings of text sources) are compared; NVivo reports
media and picture regions separately (§A.1 "Units") and qdx does not yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qdx.analysis import _intervals as iv
from qdx.analysis._agreement_data import Catalog, Side, doc_units, gather, prepare_docs, resolve_users, side_arrays
from qdx.analysis._agreement_results import (
    Aggregate,
    AgreementResult,
    CodeAgreement,
    CodeSourceAgreement,
    Disagreement,
)
from qdx.analysis._passages import Passage, differing_passages
from qdx.analysis.coefficients import (
    Table2x2,
    binary_alpha,
    brennan_prediger,
    cohen_kappa,
    holsti,
    percent_agreement,
    unitized_binary_alpha,
)
from qdx.errors import NoDataError, UsageError
from qdx.model import Project
from qdx.options import AGREE_UNITS, OVERLAP_MEASURES, AgreeUnit, OverlapMeasure

UNITS = AGREE_UNITS

__all__ = ["UNITS", "Aggregate", "AgreementResult", "CodeAgreement", "CodeSourceAgreement", "Disagreement",
           "agree"]


# --------------------------------------------------------------------------- aggregation


def _mean(values: Sequence[float], weights: Sequence[int] | None = None) -> float:
    if not values:
        return 1.0
    if weights is None:
        return sum(values) / len(values)
    total = sum(weights)
    return sum(v * w for v, w in zip(values, weights, strict=True)) / total if total else 1.0


def _aggregate(rows: Sequence[CodeSourceAgreement], n_codes: int) -> Aggregate:
    """All labelled summaries of some rows (docs/methods.md §A.1 N1, §A.2 M1, §A.0 Holsti)."""
    table = Table2x2(both=0, a_only=0, b_only=0, neither=0)
    for row in rows:
        table = table + row.table
    kappas = [r.kappa for r in rows]
    sizes = [r.units for r in rows]
    segs = sum(r.segments_a + r.segments_b for r in rows)
    matched = sum(r.matched_a + r.matched_b for r in rows)
    seg_agreement = matched / segs if segs else 1.0
    return Aggregate(
        rows=len(rows),
        table=table,
        kappa_mean=_mean(kappas),
        kappa_weighted=_mean(kappas, sizes),
        kappa_pooled=cohen_kappa(table),
        agreement=percent_agreement(table),
        agreement_mean=_mean([r.agreement for r in rows]),
        alpha=binary_alpha(table),
        u_alpha=unitized_binary_alpha(table, sum(r.run_squares for r in rows)),
        segments=segs,
        segment_agreement=seg_agreement,
        holsti=holsti(sum(r.pairs for r in rows), sum(r.segments_a for r in rows), sum(r.segments_b for r in rows)),
        bp_kappa=brennan_prediger(seg_agreement, n_codes),
    )


# --------------------------------------------------------------------------- main entry


@dataclass(frozen=True, slots=True)
class _Arrays:
    code: iv.IntArray
    doc: iv.IntArray
    start: iv.IntArray
    end: iv.IntArray


def _group_keys(a: _Arrays, b: _Arrays, docs: set[int], n_docs: int, n_codes: int, all_pairs: bool) -> iv.IntArray:
    """The (code, doc) pairs to report, as ``code * n_docs + doc``, sorted, for ``docs`` only."""
    if all_pairs:
        keys = np.arange(n_codes * n_docs, dtype=np.int64)
    else:
        keys = np.unique(np.concatenate([a.code * n_docs + a.doc, b.code * n_docs + b.doc]))
    wanted = np.zeros(max(n_docs, 1), dtype=bool)
    wanted[sorted(docs)] = True
    return keys[wanted[keys % max(n_docs, 1)]] if keys.size else keys


def _compared_docs(catalog: Catalog, a: Side, b: Side, one_project: bool, all_sources: bool) -> set[int]:
    """Sources in both projects, or (one project) coded by both sides; all with ``all_sources``.

    A second coder usually codes a sample of the sources (the study's coder B: transcripts
    1–5); counting the rest as "coded by A only" would measure sampling, not agreement.
    """
    everything = set(range(len(catalog.docs)))
    if all_sources:
        return everything
    in_a, in_b = (set(a.doc), set(b.doc)) if one_project else (a.present, b.present)
    common = in_a & in_b
    left_out = len(everything - common)
    if left_out:
        what = "coded by one side only" if one_project else "present in one project only"
        catalog.warnings.append(f"{left_out} source(s) {what} are left out (use all_sources to include them)")
    return common


def _rows(
    catalog: Catalog,
    keys: iv.IntArray,
    unit_arrays: tuple[_Arrays, _Arrays],
    unit: str,
    overlap: tuple[float, str],
    segs: tuple[dict[int, list[tuple[int, int]]], dict[int, list[tuple[int, int]]]],
) -> tuple[list[CodeSourceAgreement], iv.Pieces]:
    n_docs = len(catalog.docs)
    ua, ub = unit_arrays
    stride = max((doc_units(d, unit) for d in catalog.docs), default=0) + 1

    def intervals(arr: _Arrays) -> iv.Intervals:
        wanted = arr.code * n_docs + arr.doc
        gid = np.minimum(np.searchsorted(keys, wanted), max(keys.size - 1, 0)).astype(np.int64)
        keep = keys[gid] == wanted if keys.size else np.zeros(wanted.size, dtype=bool)
        return iv.Intervals(group=gid[keep], start=arr.start[keep], end=arr.end[keep])

    pieces = iv.sweep(intervals(ua), intervals(ub), stride)
    both, a_only, b_only = iv.counts(pieces, len(keys))
    squares = iv.run_square_sums(pieces, pieces.in_a, len(keys)) + iv.run_square_sums(pieces, pieces.in_b, len(keys))
    seg_a, seg_b = segs
    rows = []
    for i, key in enumerate(keys.tolist()):
        doc = catalog.docs[key % n_docs]
        path = catalog.code_paths[key // n_docs]
        sa, sb = seg_a.get(key, []), seg_b.get(key, [])
        matched_a, matched_b, pairs = iv.match_segments(sa, sb, *overlap)
        total = doc_units(doc, unit)
        table = Table2x2(
            both=int(both[i]),
            a_only=int(a_only[i]),
            b_only=int(b_only[i]),
            neither=total - int(both[i] + a_only[i] + b_only[i]),
        )
        rows.append(
            CodeSourceAgreement(
                code=path[-1],
                code_path=path,
                source=doc.name,
                table=table,
                segments_a=len(sa),
                segments_b=len(sb),
                matched_a=matched_a,
                matched_b=matched_b,
                pairs=pairs,
                run_squares=int(squares[i]),
            )
        )
    return rows, pieces


def _disagreements(catalog: Catalog, keys: iv.IntArray, pieces: iv.Pieces, unit: str) -> list[Disagreement]:
    """Passages coded by one side only, with their text (for the xlsx disagreement sheet)."""
    n_docs = len(catalog.docs)
    odd = iv.disagreements(pieces)
    out = []
    key_of = keys.tolist()
    for g, s, e, by_a in zip(odd.group.tolist(), odd.start.tolist(), odd.end.tolist(), odd.in_a.tolist(), strict=True):
        key = key_of[g]
        doc = catalog.docs[key % n_docs]
        path = catalog.code_paths[key // n_docs]
        if unit == "char" or doc.unit_start is None or doc.unit_end is None:
            c0, c1 = s, e
        else:
            c0, c1 = int(doc.unit_start[s]), int(doc.unit_end[e - 1])
        text = doc.text[c0:c1] if doc.text is not None else ""
        out.append(
            Disagreement(
                code=path[-1],
                code_path=path,
                source=doc.name,
                start=c0,
                end=c1,
                units=e - s,
                coded_by="A" if by_a else "B",
                text=text,
            )
        )
    return out


def _require_shared_data(
    rows: Sequence[CodeSourceAgreement], docs: set[int], a: Side, b: Side, one_project: bool
) -> None:
    """Agreement over no coded unit has no value: κ and PA would only be the empty-table
    convention (1.0), which reads as perfect agreement. Refuse instead of making one up.

    Raises:
        NoDataError: no source is compared, or no compared source holds a coding of either side.
    """
    coded = sum(r.table.both + r.table.a_only + r.table.b_only for r in rows)
    if docs and coded:
        return
    if not docs:
        what, in_a, in_b = ("coded", set(a.doc), set(b.doc)) if one_project else ("holds", a.present, b.present)
        reason = f"the sides share no source (side A {what} {len(in_a)} source(s), side B {len(in_b)}, none in common)"
    else:
        reason = "neither side coded any text in the compared sources"
    raise NoDataError(f"no agreement to compute: {reason} (agreement over zero shared units is undefined)")


def _check_options(unit: str, overlap: float, overlap_measure: str) -> None:
    if unit not in UNITS:
        raise UsageError(f"unknown unit {unit!r}; choose one of {', '.join(UNITS)}")
    if overlap_measure not in OVERLAP_MEASURES:
        raise UsageError(f"unknown overlap measure {overlap_measure!r}; choose {', '.join(OVERLAP_MEASURES)}")
    if not 0.0 < overlap <= 1.0:
        raise UsageError(f"overlap must be in (0, 1], got {overlap}")


def agree(
    a: Project,
    b: Project | None = None,
    *,
    coders_a: Sequence[str] = (),
    coders_b: Sequence[str] = (),
    unit: AgreeUnit = "char",
    overlap: float = 0.9,
    overlap_measure: OverlapMeasure = "iou",
    all_pairs: bool = False,
    all_sources: bool = False,
    passages: bool = True,
    label_a: str | None = None,
    label_b: str | None = None,
) -> AgreementResult:
    """Compare two coders' (or two groups') coding of the same text sources.

    Args:
        a: side A's project (or the one project holding both coders).
        b: side B's project; ``None`` compares two groups of users inside ``a``.
        coders_a: user names, ids or GUIDs forming side A (a group: union of their spans).
            Empty means every coding of ``a``.
        coders_b: the same for side B.
        unit: ``char`` (NVivo's default), ``sentence`` (the study's ``A-i-j`` lines when
            present) or ``paragraph`` (non-blank lines); a unit counts as coded when any of its
            characters is.
        overlap: minimum overlap rate for two segments to agree (segment measures only).
        overlap_measure: ``iou`` (intersection over combined extent) or ``min_len``
            (intersection over the shorter segment).
        all_pairs: report every code × source pair like NVivo's full grid (uncoded pairs then
            count as κ = 1 in the means); by default only pairs coded by at least one side.
        all_sources: compare every source; by default only sources in both projects (or, in one
            project, sources both sides coded), since a second coder often codes a sample.
        passages: collect the disagreeing passages with their text (the workbook's
            Disagreements sheet); skip them to save time and memory on large projects.
        label_a: display name of side A (default: the coders, or the project name).
        label_b: display name of side B.

    Returns:
        An :class:`AgreementResult` with per (code, source) rows, per-code and overall aggregates
        and the disagreeing passages.

    Raises:
        UsageError: an unknown option value, or one project with no coders.
        UnknownNameError: a coder that is no user of the project (close spellings suggested).
        NoDataError: the sides share no coded source, so there is nothing to agree on (never
            reported as κ = 1).

    Example:
        >>> result = agree(qdx.read("a.qdpx"), qdx.read("b.qdpx"))   # doctest: +SKIP
        >>> result.overall.kappa_pooled                               # doctest: +SKIP
    """
    _check_options(unit, overlap, overlap_measure)
    if b is None and not (coders_a and coders_b):
        raise UsageError("comparing coders inside one project needs coders for both sides")
    proj_b = a if b is None else b
    catalog = Catalog()
    side_a = gather(a, resolve_users(a, coders_a, "A"), catalog, "A")
    side_b = gather(proj_b, resolve_users(proj_b, coders_b, "B"), catalog, "B")
    prepare_docs(catalog, (side_a, side_b), unit)
    char_a = _Arrays(*side_arrays(side_a, catalog, "char"))
    char_b = _Arrays(*side_arrays(side_b, catalog, "char"))
    unit_a = char_a if unit == "char" else _Arrays(*side_arrays(side_a, catalog, unit))
    unit_b = char_b if unit == "char" else _Arrays(*side_arrays(side_b, catalog, unit))
    n_docs, n_codes = len(catalog.docs), len(catalog.code_paths)
    docs = _compared_docs(catalog, side_a, side_b, b is None, all_sources)
    keys = _group_keys(unit_a, unit_b, docs, n_docs, n_codes, all_pairs)
    segs = (_segments(char_a, n_docs), _segments(char_b, n_docs))
    rows, pieces = _rows(catalog, keys, (unit_a, unit_b), unit, (overlap, overlap_measure), segs)
    _require_shared_data(rows, docs, side_a, side_b, b is None)
    # Group by code number, not path: two same-named codes of one project stay apart.
    by_code: dict[int, list[CodeSourceAgreement]] = {}
    for key, row in zip(keys.tolist(), rows, strict=True):
        by_code.setdefault(key // max(n_docs, 1), []).append(row)
    k = len(by_code)
    return AgreementResult(
        unit=unit,
        overlap=overlap,
        overlap_measure=overlap_measure,
        label_a=label_a or (", ".join(coders_a) if coders_a else a.name or "A"),
        label_b=label_b or (", ".join(coders_b) if coders_b else proj_b.name or "B"),
        all_pairs=all_pairs,
        per_code_source=tuple(rows),
        per_code=tuple(
            CodeAgreement(code=r[0].code, code_path=r[0].code_path, summary=_aggregate(r, k)) for r in by_code.values()
        ),
        overall=_aggregate(rows, k),
        disagreements=tuple(_disagreements(catalog, keys, pieces, unit)) if passages else (),
        warnings=tuple(dict.fromkeys(catalog.warnings)),
        passages=tuple(_passages(catalog, keys, segs)) if passages else (),
    )


def _segments(chars: _Arrays, n_docs: int) -> dict[int, list[tuple[int, int]]]:
    """Each (code, source) group's passages in characters (the segment measures and the
    differing passages both start from them)."""
    return iv.segments_by_group(chars.code * n_docs + chars.doc, chars.start, chars.end)


def _passages(catalog: Catalog, keys: iv.IntArray,
              segs: tuple[dict[int, list[tuple[int, int]]], dict[int, list[tuple[int, int]]]]) -> list[Passage]:
    """Whole passages the sides coded differently, per compared (code, source) pair."""
    n_docs = len(catalog.docs)
    seg_a, seg_b = segs
    out = []
    for key in keys.tolist():
        doc, path = catalog.docs[key % n_docs], catalog.code_paths[key // n_docs]
        for start, end, text_a, text_b in differing_passages(seg_a.get(key, []), seg_b.get(key, []), doc.text):
            out.append(Passage(code=path[-1], code_path=path, source=doc.name, start=start, end=end,
                               text_a=text_a, text_b=text_b))
    return out
