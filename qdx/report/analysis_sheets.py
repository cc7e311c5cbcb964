"""Sheets for analysis results — saturation, agreement, audit findings — one layout each.

The same builders serve the report workbook and the standalone workbooks (``qdx agree -o``,
``qdx audit -o``), so a table looks the same wherever it appears. Every measure that cannot be
computed is written as ``n/a`` with the reason in a note under the table, never as a default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from qdx.report.sheets import COUNT, KAPPA, PERCENT, Chart, Table, table_from_rows, write_tables

if TYPE_CHECKING:
    from qdx.analysis.agreement import Aggregate, AgreementResult
    from qdx.analysis.saturation import SaturationResult
    from qdx.validation.audit import Finding

NA = "n/a"
PATH_SEP = " > "
# Landis & Koch 1977: below 0.40 is "fair" at best — worth a look at a coder meeting.
LOW_KAPPA = 0.4
_LOW = {"type": "cell", "criteria": "<", "value": LOW_KAPPA, "format": None}
_PLURAL = {"concept": "concepts", "subcategory": "subcategories", "main category": "main categories"}


# --------------------------------------------------------------------------- saturation


def _verdicts(result: SaturationResult, holdout_label: str | None) -> list[str]:
    g, f = result.guest2020, result.francis
    lines = [
        f"Guest, Namey & Chen 2020 (base {g.base} documents, runs of {g.run}, threshold {g.threshold:.0%} "
        f"of the {g.base_codes} base codes): "
        + (f"saturation reached at {g.point} (base + run)." if g.reached else "saturation not reached."),
        f"Francis et al. 2010 (initial sample {f.initial}, stop after {f.stop} documents with nothing new): "
        + (f"stop at document {f.point}." if f.point is not None else "stopping point not reached."),
    ]
    h = result.holdout
    if h is not None:
        found = [f"new {kind} {item.name} ({PATH_SEP.join(item.path)}) in {', '.join(item.documents)}"
                 for kind, items in (("code", h.new_codes), ("category", h.new_categories)) for item in items]
        verdict = "PASSED: nothing new" if h.saturated else "FAILED: " + "; ".join(found)
        where = f"set '{holdout_label}'" if holdout_label else "the last documents"
        lines.append(f"Held-out test on {len(h.documents)} documents of {where}: {verdict}.")
    else:
        lines.append("Held-out test: not run (no set named like 'Saturation sample'; give --holdout-set).")
    return lines


def saturation_table(result: SaturationResult, holdout_label: str | None = None,
                     image: bytes | None = None) -> Table:
    """The code-discovery curve, one row per document, the stopping rules' verdicts under it."""
    levels = list(result.levels)
    header = ["#", "document", "held out", "new codes", "codes so far", "share of all codes",
              *[f"{_PLURAL.get(lv, lv)} so far" for lv in levels], "codes first seen here"]
    rows = [[i, p.document, "yes" if p.held_out else None, p.new, p.cumulative, p.percent / 100.0,
             *[p.levels[lv].cumulative for lv in levels], ", ".join(p.new_codes)]
            for i, p in enumerate(result.curve, start=1)]
    lines = [4, *range(6, 6 + len(levels))]
    return table_from_rows(
        "Saturation", header, rows, label_cols=2, wrap=(len(header) - 1,), max_widths={len(header) - 1: 40.0},
        formats={0: COUNT, 3: COUNT, 4: COUNT, 5: PERCENT, **dict.fromkeys(range(6, 6 + len(levels)), COUNT)},
        chart=Chart(x=1, y=lines, title="Code discovery curve", x_title=f"documents (order: {result.order})",
                    y_title="codes found so far") if rows else None,
        notes=_verdicts(result, holdout_label), image=image)


def holdout_set_name(names: Sequence[str]) -> str | None:
    """The set a study names as its saturation sample ("Saturation sample", "饱和度检验"), if any."""
    for name in names:
        folded = name.casefold()
        if "saturation" in folded or "饱和" in name or "hold-out" in folded or "holdout" in folded:
            return name
    return None


# --------------------------------------------------------------------------- agreement

AGREEMENT_HEADER = ["code", "code path", "sources", "units", "kappa (pooled)", "kappa (mean over sources)",
                    "kappa (mean weighted by size)", "agreement", "Krippendorff α", "Krippendorff |uα",
                    "segments", "segments matched", "Holsti", "Brennan–Prediger κ"]


def _num(value: float) -> object:
    return NA if value != value else value  # NaN: undefined (e.g. no variation)


def _aggregate_cells(agg: Aggregate) -> list[object]:
    seg = agg.segments > 0  # with no segments the segment measures are undefined
    return [agg.rows, agg.table.units, _num(agg.kappa_pooled), _num(agg.kappa_mean), _num(agg.kappa_weighted),
            _num(agg.agreement), _num(agg.alpha), _num(agg.u_alpha), agg.segments,
            agg.segment_agreement if seg else NA, agg.holsti if seg else NA, agg.bp_kappa if seg else NA]


def agreement_notes(result: AgreementResult) -> list[str]:
    """What the columns mean, and why a segment measure can be 0 or n/a."""
    return [
        f"A = {result.label_a}, B = {result.label_b}; unit: {result.unit}. kappa: Cohen's κ of the 2×2 table "
        "of units (NVivo's form; 1 when neither side coded the source). Low κ (< 0.40) is highlighted.",
        "agreement: share of units both sides treat alike. α: Krippendorff's binary alpha over units; "
        "|uα: unitizing alpha over coded runs and gaps (ATLAS.ti-style).",
        f"Segment measures (MAXQDA-style) match two passages only when they overlap by ≥ {result.overlap:.0%} "
        f"({result.overlap_measure}); coders who mark passages of different lengths rarely reach that, so 0 "
        "there means 'no passage matched that closely', not 'no agreement' — read κ and α, which compare "
        "characters, or lower --overlap. n/a: no segments to compare.",
        *(f"Warning: {w}" for w in result.warnings),
    ]


def agreement_chart(result: AgreementResult) -> bytes | None:
    """The PNG of each code's pooled kappa, lowest first (None without codes)."""
    from qdx.report.plots import kappa_chart

    kappas = [(c.code, c.summary.kappa_pooled) for c in result.per_code]
    return kappa_chart(kappas, LOW_KAPPA) if kappas else None


def agreement_table(result: AgreementResult, title: str = "Agreement", chart: bytes | None = None) -> Table:
    """One row per code (every measure labelled) and an Overall row, low kappa highlighted; under
    the table a chart of each code's pooled kappa, lowest first (n/a codes listed, no bar).
    ``chart``: that chart drawn already (:func:`agreement_chart`), else it is drawn here."""
    rows = [[c.code, PATH_SEP.join(c.code_path), *_aggregate_cells(c.summary)] for c in result.per_code]
    rows.append(["Overall", f"{len(result.per_code)} codes", *_aggregate_cells(result.overall)])
    if chart is None:
        chart = agreement_chart(result)
    return table_from_rows(
        title, AGREEMENT_HEADER, rows, label_cols=1, totals=1, max_widths={0: 24.0, 1: 28.0},
        formats={2: COUNT, 3: COUNT, 4: KAPPA, 5: KAPPA, 6: KAPPA, 7: PERCENT, 8: KAPPA, 9: KAPPA, 10: COUNT,
                 11: PERCENT, 12: KAPPA, 13: KAPPA},
        rules=[(4, 6, {**_LOW, "format": "low"})], notes=agreement_notes(result), image=chart)


def comparison_table(result: AgreementResult) -> Table:
    """NVivo's Coding Comparison layout: one row per code and source (docs/methods.md §A.1)."""
    header = ["code", "source", "source size", "kappa", "agreement", "A and B", "not A and not B",
              "disagreement", "A and not B", "B and not A", "code path"]
    rows: list[list[object]] = []
    for r in result.per_code_source:
        t = r.table
        shares = [n / t.units if t.units else NA for n in (t.both, t.neither, t.a_only, t.b_only)]
        rows.append([r.code, r.source, t.units, _num(r.kappa), r.agreement, *shares[:2], 1.0 - r.agreement,
                     *shares[2:], PATH_SEP.join(r.code_path)])
    o = result.overall
    for label, kappa, agreement in (("simple mean", o.kappa_mean, o.agreement_mean),
                                    ("mean weighted by source size", o.kappa_weighted, o.agreement),
                                    ("pooled over all units", o.kappa_pooled, o.agreement)):
        rows.append([f"All codes and sources: {label}", None, o.table.units, _num(kappa), _num(agreement),
                     None, None, _num(1.0 - agreement), None, None, None])
    return table_from_rows(
        "Coding Comparison", header, rows, label_cols=2, totals=3, max_widths={0: 24.0, 1: 16.0, 10: 36.0},
        formats={2: COUNT, 3: KAPPA, **dict.fromkeys(range(4, 10), PERCENT)},
        rules=[(3, 3, {**_LOW, "format": "low"})], notes=agreement_notes(result)[:1])


def disagreement_table(passages: Sequence[Sequence[Any]], label_a: str, label_b: str) -> Table:
    """Passages one side coded and the other did not, whole, A's text beside B's, wrapped.

    ``passages``: (code path, source, start, end, A's text, B's text) per group of overlapping
    passages of one code in one source where the two sides differ.
    """
    header = ["code", "source", "start", "end", f"A: {label_a}", f"B: {label_b}"]
    rows = [list(p) for p in passages]
    return table_from_rows("Disagreements", header, rows, label_cols=1, wrap=(0, 4, 5),
                           formats={2: COUNT, 3: COUNT}, max_widths={0: 28.0, 1: 16.0, 4: 48.0, 5: 48.0},
                           notes=["Each row: overlapping passages of one code in one source that the two sides "
                                  "coded differently; a blank side did not code that passage."])


# --------------------------------------------------------------------------- audit


def audit_table(findings: Sequence[Finding]) -> Table:
    """Audit findings: one row each (file, rule, name, severity, code path, message), the
    message whole and wrapped; with no findings a line under the header says so."""
    header = ["File", "Rule", "Name", "Severity", "Code path", "Message"]
    rows = [[f.file or None, f.rule, f.name, f.severity.value, f.code_path, f.message] for f in findings]
    notes = [] if rows else ["No findings: every audit rule passed (rules: docs/rules.md)."]
    return table_from_rows("Audit", header, rows, label_cols=0, wrap=(4, 5), notes=notes,
                           max_widths={4: 40.0, 5: 60.0})


def write_audit(findings: Sequence[Finding], stream: IO[bytes], *, project: str = "") -> None:
    """Write audit findings as a one-sheet workbook to ``stream`` (atomic through the caller).

    Example:
        >>> atomic_write("audit.xlsx", lambda s: write_audit(findings, s))   # doctest: +SKIP
    """
    write_tables(stream, [audit_table(findings)], project=project, title="qdx audit")
