"""Agreement coefficients as plain formulas (docs/methods.md §A.0), written in-house.

Everything here is a pure function of counts or of a reliability matrix, so each one can be
checked against the published oracles (K1–K6, N1–N3, M1, H1) without any project around it.
The PyPI ``krippendorff`` package is GPL (docs/methods.md §A.4), so α is implemented here from
Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability" (coincidence matrix form).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qdx.options import MeasurementLevel

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Table2x2:
    """Two coders, one code, N units: ``both`` (a), ``a_only`` (b), ``b_only`` (c), ``neither`` (d)."""

    both: int
    a_only: int
    b_only: int
    neither: int

    @property
    def units(self) -> int:
        return self.both + self.a_only + self.b_only + self.neither

    def __add__(self, other: Table2x2) -> Table2x2:
        return Table2x2(
            both=self.both + other.both,
            a_only=self.a_only + other.a_only,
            b_only=self.b_only + other.b_only,
            neither=self.neither + other.neither,
        )


def percent_agreement(t: Table2x2) -> float:
    """PA = (a + d) / N (docs/methods.md §A.0; NVivo's "Agreement (%)" as a fraction).

    An empty table (N = 0) agrees trivially: 1.0.
    """
    return (t.both + t.neither) / t.units if t.units else 1.0


def cohen_kappa(t: Table2x2) -> float:
    """Cohen's κ in NVivo's count form: K = (TA − ΣEF) / (TU − ΣEF) (docs/methods.md §A.1).

    EF1 = A·B/TU, EF2 = (TU−A)(TU−B)/TU. The 0/0 case (neither coder, or both coders, coded
    every unit alike so ΣEF = TU) is 1.0, exactly as NVivo defines it; one coder alone gives 0.

    Args:
        t: the 2×2 table.

    Returns:
        κ in [−1, 1].
    """
    tu = t.units
    if tu == 0:
        return 1.0
    coded_a = t.both + t.a_only
    coded_b = t.both + t.b_only
    sum_ef = (coded_a * coded_b + (tu - coded_a) * (tu - coded_b)) / tu
    ta = t.both + t.neither
    if tu - sum_ef <= 1e-12 * tu:
        return 1.0
    return (ta - sum_ef) / (tu - sum_ef)


def scott_pi(t: Table2x2) -> float:
    """Scott's π: Pe from pooled marginals p̄ = (2a+b+c)/2N (docs/methods.md §A.0)."""
    n = t.units
    if n == 0:
        return 1.0
    p = (2 * t.both + t.a_only + t.b_only) / (2 * n)
    pe = p * p + (1 - p) * (1 - p)
    po = percent_agreement(t)
    return 1.0 if pe >= 1.0 else (po - pe) / (1 - pe)


def binary_alpha(t: Table2x2) -> float:
    """Krippendorff's α (nominal) for two coders, binary values, no missing data.

    From the coincidence matrix: o₁₁ = 2a, o₀₀ = 2d, o₀₁ = o₁₀ = b + c, n = 2N, so
    α = 1 − (n − 1)(b + c) / (n₀ n₁). No variation at all (De = 0) gives 1.0, the same
    convention as NVivo's κ = 1 (docs/methods.md §A.4 says qdx must decide).
    """
    n = 2 * t.units
    n1 = 2 * t.both + t.a_only + t.b_only
    n0 = n - n1
    if n0 == 0 or n1 == 0:
        return 1.0
    return 1.0 - (n - 1) * (t.a_only + t.b_only) / (n0 * n1)


def alpha_expected_agreement(t: Table2x2) -> float:
    """α's chance agreement Ae = Σ_c n_c(n_c − 1) / (n(n − 1)) over pooled values (1 − De).

    ATLAS.ti reports it as "expected agreement" (docs/methods.md K2: (14·13/19 + 6·5/19)/20 = 0.558).
    """
    n = 2 * t.units
    n1 = 2 * t.both + t.a_only + t.b_only
    n0 = n - n1
    return (n1 * (n1 - 1) + n0 * (n0 - 1)) / (n * (n - 1)) if n > 1 else 1.0


def unitized_binary_alpha(t: Table2x2, coded_square_sum: int) -> float:
    """Krippendorff's |uα for two coders on a continuum of N units (docs/methods.md §A.3, U1–U2).

    The continuum is each coder's coded runs (value k) and gaps (φ). With m = 2 coders the
    observed coincidences are ℓ_kk = 2a, ℓ_φφ = 2d, ℓ_kφ = ℓ_φk = b + c; the expected ones use
    ε_kφ = ℓ_k· ℓ_φ· / (ℓ·· − S/ℓ··), where S = Σ len² over coded runs (``coded_square_sum``,
    both coders) plus Σ len over gaps (= ℓ_φ·). So |uα = 1 − (b + c)(ℓ·· − S/ℓ··) / (ℓ_k· ℓ_φ·).
    No variation (nothing or everything coded) gives 1.0, as for :func:`binary_alpha`.
    """
    total = 2 * t.units
    coded = 2 * t.both + t.a_only + t.b_only
    gaps = total - coded
    if coded == 0 or gaps == 0:
        return 1.0
    correction = total - (coded_square_sum + gaps) / total
    return 1.0 - (t.a_only + t.b_only) * correction / (coded * gaps)


def brennan_prediger(po: float, categories: int) -> float:
    """Brennan & Prediger's free-marginal κn = (Po − 1/q) / (1 − 1/q) (docs/methods.md §A.0, §A.2).

    Args:
        po: observed agreement in [0, 1].
        categories: q, the number of categories (MAXQDA: codes in the analysis).

    Returns:
        κn; with fewer than two categories chance is undefined, so Po itself is returned.
    """
    if categories < 2:
        return po
    pc = 1.0 / categories
    return (po - pc) / (1 - pc)


def holsti(agreements: int, n1: int, n2: int) -> float:
    """Holsti's index 2A / (N1 + N2) (docs/methods.md §A.0, as in the ATLAS.ti manual); 1.0 if empty."""
    total = n1 + n2
    return 2 * agreements / total if total else 1.0


# --------------------------------------------------------------------------- reliability matrix


def _matrix(data: Sequence[Sequence[float | None]]) -> FloatArray:
    """Coders × units as floats, ``None``/NaN = missing."""
    return np.array([[np.nan if v is None else v for v in row] for row in data], dtype=np.float64)


def _coincidences(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The coincidence matrix o_ck and the category values, over pairable units (m_u ≥ 2)."""
    cats = np.unique(values[~np.isnan(values)])
    counts = np.stack([(values == c).sum(axis=0) for c in cats], axis=1).astype(np.float64)
    m = counts.sum(axis=1)
    keep = m >= 2
    counts, m = counts[keep], m[keep]
    # o_ck = Σ_u n_uc (n_uk − [c = k]) / (m_u − 1)   (Krippendorff 2011, eq. for o_ck)
    weighted = counts / (m - 1)[:, None]
    o = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    return o, cats


def _delta2(cats: FloatArray, n_c: FloatArray, level: str) -> FloatArray:
    """Squared difference functions δ²_ck per level of measurement (Krippendorff 2011)."""
    c, k = np.meshgrid(cats, cats, indexing="ij")
    if level == "nominal":
        return np.asarray(c != k, dtype=np.float64)
    if level == "interval":
        return np.asarray((c - k) ** 2, dtype=np.float64)
    if level == "ratio":
        total = c + k
        safe = np.where(total == 0, 1.0, total)
        return np.where(total == 0, 0.0, ((c - k) / safe) ** 2)
    if level == "ordinal":
        cum = np.cumsum(n_c)
        i, j = np.meshgrid(np.arange(cats.size), np.arange(cats.size), indexing="ij")
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        between = cum[hi] - np.where(lo > 0, cum[lo - 1], 0.0)
        return np.asarray((between - (n_c[i] + n_c[j]) / 2) ** 2, dtype=np.float64)
    raise ValueError(f"unknown level of measurement {level!r}")


def krippendorff_alpha(data: Sequence[Sequence[float | None]], level: MeasurementLevel = "nominal") -> float:
    """Krippendorff's α for coders × units data with missing values (docs/methods.md §A.0, K1–K4).

    α = 1 − (n − 1) Σ o_ck δ²_ck / Σ n_c n_k δ²_ck over pairable values.

    Args:
        data: one row per coder, one column per unit; ``None`` or NaN where a coder gave no value.
        level: ``nominal``, ``ordinal``, ``interval`` or ``ratio``.

    Returns:
        α; 1.0 when there is no variation at all (every pairable value equal).

    Raises:
        ValueError: an unknown level.

    Example:
        >>> round(krippendorff_alpha([[0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
        ...                           [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]), 4)
        0.0952
    """
    values = _matrix(data)
    if not np.any(~np.isnan(values)):
        return 1.0
    o, cats = _coincidences(values)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    delta = _delta2(cats, n_c, level)
    expected = float((np.outer(n_c, n_c) * delta).sum())
    if n <= 1 or expected == 0.0:
        return 1.0
    return 1.0 - (float(n) - 1) * float((o * delta).sum()) / expected


def brennan_prediger_matrix(data: Sequence[Sequence[float | None]], categories: Sequence[float]) -> float:
    """Brennan–Prediger κn for several coders with missing values (Gwet's form; docs/methods.md K5).

    pa averages Σ_k r_ik(r_ik − 1) / (r_i(r_i − 1)) over units rated by at least two coders;
    pe = 1/q with q = len(categories), given explicitly (irrCAC's pitfall, docs/methods.md §A.4).
    """
    values = _matrix(data)
    counts = np.stack([(values == c).sum(axis=0) for c in categories], axis=1).astype(np.float64)
    r = counts.sum(axis=1)
    keep = r >= 2
    pa = float(np.mean((counts[keep] * (counts[keep] - 1)).sum(axis=1) / (r[keep] * (r[keep] - 1))))
    return brennan_prediger(pa, len(categories))
