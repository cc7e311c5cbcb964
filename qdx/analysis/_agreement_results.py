"""The results of intercoder agreement (:func:`qdx.analysis.agreement.agree`), as typed records.

Each record's ``as_dict`` is its part of the ``qdx agree --json`` document; the measures are
defined in docs/methods.md §A.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qdx.analysis._passages import Passage
from qdx.analysis.coefficients import Table2x2, cohen_kappa, percent_agreement, unitized_binary_alpha
from qdx.options import AgreeUnit, OverlapMeasure

# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class CodeSourceAgreement:
    """One row of NVivo's Coding Comparison: one code in one source (docs/methods.md §A.1)."""

    code: str
    code_path: tuple[str, ...]
    source: str
    table: Table2x2
    segments_a: int = 0
    segments_b: int = 0
    matched_a: int = 0
    matched_b: int = 0
    pairs: int = 0
    run_squares: int = 0  # Σ len² of both coders' coded runs, for the unitizing α

    @property
    def units(self) -> int:
        return self.table.units

    @property
    def agreement(self) -> float:
        return percent_agreement(self.table)

    @property
    def kappa(self) -> float:
        return cohen_kappa(self.table)

    @property
    def u_alpha(self) -> float:
        return unitized_binary_alpha(self.table, self.run_squares)

    def as_dict(self) -> dict[str, object]:
        t = self.table
        return {
            "code": self.code,
            "code_path": list(self.code_path),
            "source": self.source,
            "units": t.units,
            "both": t.both,
            "a_only": t.a_only,
            "b_only": t.b_only,
            "neither": t.neither,
            "agreement": self.agreement,
            "kappa": self.kappa,
            "u_alpha": self.u_alpha,
            "segments_a": self.segments_a,
            "segments_b": self.segments_b,
            "segments_matched_a": self.matched_a,
            "segments_matched_b": self.matched_b,
        }


@dataclass(frozen=True, slots=True)
class Aggregate:
    """Agreement summarised over several rows, every averaging rule labelled (docs/methods.md §A.1).

    ``kappa_mean``: simple mean over sources; ``kappa_weighted``: mean weighted by source size
    (units); ``kappa_pooled``: κ of the summed 2×2 table (all units concatenated). ``agreement``
    is pooled (equal to the size-weighted mean of PA); ``agreement_mean`` the simple mean.
    ``alpha`` is Krippendorff's α (nominal, binary) over the pooled units; ``u_alpha`` his
    unitizing |uα over the continuum of coded runs and gaps (ATLAS.ti's "α-binary", §A.3), which
    also weighs how long the runs are. Segment measures:
    ``segment_agreement`` (share of both coders' segments matched, MAXQDA-style), ``holsti``
    (one-to-one matches) and ``bp_kappa`` (Brennan–Prediger with k = codes in the analysis).
    """

    rows: int
    table: Table2x2
    kappa_mean: float
    kappa_weighted: float
    kappa_pooled: float
    agreement: float
    agreement_mean: float
    alpha: float
    u_alpha: float
    segments: int
    segment_agreement: float
    holsti: float
    bp_kappa: float

    def as_dict(self) -> dict[str, object]:
        return {
            "sources": self.rows,
            "units": self.table.units,
            "both": self.table.both,
            "a_only": self.table.a_only,
            "b_only": self.table.b_only,
            "neither": self.table.neither,
            "kappa_mean": self.kappa_mean,
            "kappa_weighted": self.kappa_weighted,
            "kappa_pooled": self.kappa_pooled,
            "agreement": self.agreement,
            "agreement_mean": self.agreement_mean,
            "alpha": self.alpha,
            "u_alpha": self.u_alpha,
            "segments": self.segments,
            "segment_agreement": self.segment_agreement,
            "holsti": self.holsti,
            "bp_kappa": self.bp_kappa,
        }


@dataclass(frozen=True, slots=True)
class CodeAgreement:
    """Per-code aggregates over the code's (code, source) rows."""

    code: str
    code_path: tuple[str, ...]
    summary: Aggregate

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "code_path": list(self.code_path), **self.summary.as_dict()}


@dataclass(frozen=True, slots=True)
class Disagreement:
    """A passage coded by one side only: ``coded_by`` is ``"A"`` or ``"B"``; ``start``/``end`` in
    code points of the source text; ``units`` in the comparison unit."""

    code: str
    code_path: tuple[str, ...]
    source: str
    start: int
    end: int
    units: int
    coded_by: str
    text: str

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "code_path": list(self.code_path),
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "units": self.units,
            "coded_by": self.coded_by,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class AgreementResult:
    """Everything :func:`agree` computed; ``as_dict`` is the ``qdx agree --json`` document."""

    unit: AgreeUnit
    overlap: float
    overlap_measure: OverlapMeasure
    label_a: str
    label_b: str
    all_pairs: bool
    per_code_source: tuple[CodeSourceAgreement, ...]
    per_code: tuple[CodeAgreement, ...]
    overall: Aggregate
    disagreements: tuple[Disagreement, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    passages: tuple[Passage, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "unit": self.unit,
            "coder_a": self.label_a,
            "coder_b": self.label_b,
            "scope": "all code x source pairs" if self.all_pairs else "pairs coded by at least one side",
            "segment_overlap": {"threshold": self.overlap, "measure": self.overlap_measure},
            "per_code_source": [r.as_dict() for r in self.per_code_source],
            "per_code": [c.as_dict() for c in self.per_code],
            "overall": {**self.overall.as_dict(), "codes": len(self.per_code)},
            "warnings": list(self.warnings),
        }


__all__ = ["Aggregate", "AgreementResult", "CodeAgreement", "CodeSourceAgreement", "Disagreement"]
