"""Intercoder agreement: every expected number is a METHODS.md oracle or a hand count.

Each test names the definition it checks (METHODS.md §A.0 primitives, §A.1 NVivo Coding
Comparison, §A.2 MAXQDA segments, §A.3 Holsti/α) and the oracle id from §E.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from qdx.analysis._intervals import Intervals, counts, sweep
from qdx.analysis.agreement import agree
from qdx.analysis.coefficients import (
    Table2x2,
    alpha_expected_agreement,
    binary_alpha,
    brennan_prediger,
    brennan_prediger_matrix,
    cohen_kappa,
    holsti,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
)
from qdx.errors import NoDataError, UsageError
from qdx.model import Code, Coding, Guid, Project, TextSelection, TextSource, User
from qdx.report.agreement_book import write_agreement_xlsx

# --------------------------------------------------------------------------- building projects

Span = tuple[str, str, int, int, str]  # (code, source, start, end, user)


def _g(kind: str, name: str) -> Guid:
    """A stable GUID per (kind, name), so two projects built separately share GUIDs."""
    return Guid(str(uuid.uuid5(uuid.NAMESPACE_URL, f"qdx-test/{kind}/{name}")))


def build(texts: dict[str, str], spans: Sequence[Span], *, tree: dict[str, str] | None = None) -> Project:
    """A project whose ``spans`` are (code, source, start, end, user) codings.

    ``tree`` maps a code to its parent category (categories are created as needed).
    """
    tree = tree or {}
    users = sorted({s[4] for s in spans})
    leaves = sorted({s[0] for s in spans})

    def code(name: str) -> Code:
        kids = tuple(code(k) for k in sorted(k for k, p in tree.items() if p == name))
        return Code(guid=_g("code", name), name=name, children=kids)

    roots = sorted({n for n in [*leaves, *tree.values()] if n not in tree})
    sources = []
    for name, text in texts.items():
        sels = tuple(
            TextSelection(
                guid=_g("sel", f"{i}"),
                start=s,
                end=e,
                codings=(Coding(guid=_g("coding", f"{i}"), code=_g("code", c), creating_user=_g("user", u)),),
            )
            for i, (c, src, s, e, u) in enumerate(spans)
            if src == name
        )
        sources.append(TextSource(guid=_g("source", name), name=name, text=text, selections=sels))
    return Project(
        name="test",
        users=tuple(User(guid=_g("user", u), name=u) for u in users),
        codes=tuple(code(r) for r in roots),
        sources=tuple(sources),
    )


def two_coders(
    texts: dict[str, str], a: Sequence[tuple[str, str, int, int]], b: Sequence[tuple[str, str, int, int]]
) -> tuple[Project, Project]:
    return build(texts, [(*s, "A") for s in a]), build(texts, [(*s, "B") for s in b])


def row(result: object, code: str, source: str) -> object:
    rows = [r for r in result.per_code_source if r.code == code and r.source == source]  # type: ignore[attr-defined]
    assert len(rows) == 1
    return rows[0]


# --------------------------------------------------------------------------- §A.0 primitives


K1_A = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
K1_B = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]


def _table(a: Sequence[int], b: Sequence[int]) -> Table2x2:
    pairs = list(zip(a, b, strict=True))
    return Table2x2(
        both=pairs.count((1, 1)), a_only=pairs.count((1, 0)), b_only=pairs.count((0, 1)), neither=pairs.count((0, 0))
    )


def test_k1_krippendorff_2011_binary() -> None:
    """K1 (§A.0): α 0.0952, PA 0.60, Cohen κ 0.0909, Scott π 0.0476."""
    t = _table(K1_A, K1_B)
    assert percent_agreement(t) == pytest.approx(0.60)
    assert cohen_kappa(t) == pytest.approx(0.0909, abs=5e-5)
    assert scott_pi(t) == pytest.approx(0.0476, abs=5e-5)
    assert binary_alpha(t) == pytest.approx(0.0952, abs=5e-5)
    assert krippendorff_alpha([K1_A, K1_B]) == pytest.approx(0.0952, abs=5e-5)


def test_k2_atlas_percent_agreement() -> None:
    """K2 (§A.0, ATLAS.ti manual): PA 60%, expected agreement 55.8%, α 0.0952 (K1's marginals)."""
    c1 = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    c2 = [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]
    t = _table(c1, c2)
    assert percent_agreement(t) == pytest.approx(0.60)
    assert alpha_expected_agreement(t) == pytest.approx(0.558, abs=5e-4)
    assert krippendorff_alpha([c1, c2]) == pytest.approx(0.0952, abs=5e-5)
    assert binary_alpha(t) == pytest.approx(0.0952, abs=5e-5)


K3 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


@pytest.mark.parametrize(
    ("level", "expected"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_k3_krippendorff_4x12_missing(level: str, expected: float) -> None:
    """K3 (§A.0): Krippendorff 2011 4 observers × 12 units with missing values."""
    assert krippendorff_alpha(K3, level) == pytest.approx(expected, abs=5e-4)


def test_k4_three_coders_fifteen_units() -> None:
    """K4 (§A.0): the Wikipedia / krippendorff docstring example, nominal .691, interval .811."""
    n = None
    data = [
        [n, n, n, n, n, 3, 4, 1, 2, 1, 1, 3, 3, n, 3],
        [1, n, 2, 1, 3, 3, 4, 3, n, n, n, n, n, n, n],
        [n, n, 2, 1, 3, 4, 4, n, 2, 1, 1, 3, 3, n, 4],
    ]
    assert krippendorff_alpha(data, "nominal") == pytest.approx(0.691, abs=5e-4)
    assert krippendorff_alpha(data, "interval") == pytest.approx(0.811, abs=5e-4)


def test_k5_brennan_prediger_on_k3() -> None:
    """K5 (§A.0): Gwet's benchmark with categories 1..5 explicit → BP 0.77273."""
    assert brennan_prediger_matrix(K3, [1, 2, 3, 4, 5]) == pytest.approx(0.77273, abs=5e-6)


def test_k6_cohen_wikipedia() -> None:
    """K6 (§A.0): yes/yes 20, yes/no 5, no/yes 10, no/no 15 → κ 0.40, Po 0.70."""
    t = Table2x2(both=20, a_only=5, b_only=10, neither=15)
    assert percent_agreement(t) == pytest.approx(0.70)
    assert cohen_kappa(t) == pytest.approx(0.40)


def test_m1_brennan_prediger_formula() -> None:
    """M1 (§A.2): Po 0.80, k = 5 codes → κn 0.75."""
    assert brennan_prediger(0.80, 5) == pytest.approx(0.75)


def test_h1_holsti() -> None:
    """H1 (§A.0): A = 8, N1 = 10, N2 = 12 → 0.727."""
    assert holsti(8, 10, 12) == pytest.approx(0.727, abs=5e-4)


def test_alpha_cross_check_with_krippendorff_package() -> None:
    """§A.4: the GPL package as a dev-only cross-check of α (skipped when absent)."""
    kripp = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(7)
    for _ in range(20):
        data = rng.integers(0, 2, size=(2, 40)).astype(float)
        if data.min() == data.max():
            continue
        theirs = kripp.alpha(reliability_data=data, level_of_measurement="nominal")
        assert krippendorff_alpha(data.tolist()) == pytest.approx(theirs)
        assert binary_alpha(_table(data[0].astype(int).tolist(), data[1].astype(int).tolist())) == pytest.approx(theirs)


# --------------------------------------------------------------------------- §A.1 NVivo


N1_TEXTS = {"S1": "x" * 1000, "S2": "y" * 200}
# S1: both 50, A only 100, B only 50, neither 800. S2: both 40, A only 10, B only 10, neither 140.
N1_A = [("X", "S1", 0, 150), ("X", "S2", 0, 50)]
N1_B = [("X", "S1", 100, 200), ("X", "S2", 10, 60)]


def test_n1_nvivo_two_sources_every_aggregate() -> None:
    """N1 (§A.1): K 0.3182 / 0.7333; mean 0.5258; weighted 0.3874; pooled 0.4333; PA 85.83% / 87.5%."""
    a, b = two_coders(N1_TEXTS, N1_A, N1_B)
    result = agree(a, b)
    s1, s2 = row(result, "X", "S1"), row(result, "X", "S2")
    assert (s1.table.both, s1.table.a_only, s1.table.b_only, s1.table.neither) == (50, 100, 50, 800)  # type: ignore[attr-defined]
    assert s1.kappa == pytest.approx(0.3182, abs=5e-5)  # type: ignore[attr-defined]
    assert s2.kappa == pytest.approx(0.7333, abs=5e-5)  # type: ignore[attr-defined]
    assert s1.agreement == pytest.approx(0.85)  # type: ignore[attr-defined]
    assert s2.agreement == pytest.approx(0.90)  # type: ignore[attr-defined]
    (x,) = result.per_code
    assert x.summary.kappa_mean == pytest.approx(0.5258, abs=5e-5)
    assert x.summary.kappa_weighted == pytest.approx(0.3874, abs=5e-5)
    assert x.summary.kappa_pooled == pytest.approx(0.4333, abs=5e-5)
    assert x.summary.agreement == pytest.approx(0.8583, abs=5e-5)
    assert x.summary.agreement_mean == pytest.approx(0.875)
    assert result.overall.kappa_pooled == pytest.approx(0.4333, abs=5e-5)


def test_n1_one_project_two_named_coders() -> None:
    """N1 (§A.1) again, both coders inside one project, chosen with coders_a / coders_b."""
    project = build(N1_TEXTS, [(*s, "Researcher A") for s in N1_A] + [(*s, "Researcher B") for s in N1_B])
    result = agree(project, coders_a=["Researcher A"], coders_b=["Researcher B"])
    assert result.per_code[0].summary.kappa_pooled == pytest.approx(0.4333, abs=5e-5)
    assert result.label_a == "Researcher A"


def test_group_of_users_is_the_union_of_members() -> None:
    """§A.1 groups: content counts as coded by group A if at least one member coded it."""
    # Two members split A's S1 span [0,150) into [0,90) and [60,150): the union is N1's A.
    spans = [("X", "S1", 0, 90, "a1"), ("X", "S1", 60, 150, "a2"), ("X", "S1", 100, 200, "b")]
    project = build({"S1": "x" * 1000}, spans)
    result = agree(project, coders_a=["a1", "a2"], coders_b=["b"])
    assert row(result, "X", "S1").kappa == pytest.approx(0.3182, abs=5e-5)  # type: ignore[attr-defined]


def test_n2_nvivo_100_units() -> None:
    """N2 (§A.1): 100 units, both 40, neither 30, A 50, B 60 → K 0.40, PA 70%."""
    a, b = two_coders({"D": "z" * 100}, [("X", "D", 0, 50)], [("X", "D", 10, 70)])
    r = row(agree(a, b), "X", "D")
    assert (r.table.both, r.table.neither) == (40, 30)  # type: ignore[attr-defined]
    assert r.kappa == pytest.approx(0.40)  # type: ignore[attr-defined]
    assert r.agreement == pytest.approx(0.70)  # type: ignore[attr-defined]


def test_n3_nvivo_1000_chars_percent_agreement() -> None:
    """N3 (§A.1, NVivo help): 1000 chars, 50 both, 150 one coder, 800 neither → PA 85%."""
    a, b = two_coders({"D": "z" * 1000}, [("X", "D", 0, 150)], [("X", "D", 100, 200)])
    assert row(agree(a, b), "X", "D").agreement == pytest.approx(0.85)  # type: ignore[attr-defined]


def test_edge_nobody_coded_is_kappa_one_and_one_coder_is_zero() -> None:
    """§A.1 edge oracles: TU 500 nobody → K 1, PA 100%; only A coded 30 → K 0, PA 94%."""
    a, b = two_coders({"D": "z" * 500, "E": "e" * 500}, [("X", "D", 0, 30)], [("Y", "E", 0, 5)])
    result = agree(a, b, all_pairs=True)
    only_a = row(result, "X", "D")
    assert only_a.kappa == 0.0  # type: ignore[attr-defined]
    assert only_a.agreement == pytest.approx(0.94)  # type: ignore[attr-defined]
    nobody = row(result, "X", "E")
    assert nobody.kappa == 1.0  # type: ignore[attr-defined]
    assert nobody.agreement == 1.0  # type: ignore[attr-defined]
    # Without all_pairs only pairs someone coded are rows (X in E is then absent).
    assert {(r.code, r.source) for r in agree(a, b).per_code_source} == {("X", "D"), ("Y", "E")}


def test_inputs_are_not_mutated() -> None:
    """STYLE rule 5: analysis is a pure function."""
    a, b = two_coders(N1_TEXTS, N1_A, N1_B)
    before = copy.deepcopy((a, b))
    agree(a, b, unit="sentence")
    assert (a, b) == before


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("XY"), st.integers(0, 60), st.integers(0, 25)), max_size=8),
    st.lists(st.tuples(st.sampled_from("XY"), st.integers(0, 60), st.integers(0, 25)), max_size=8),
)
def test_char_counts_equal_a_per_character_count(
    a_spans: list[tuple[str, int, int]], b_spans: list[tuple[str, int, int]]
) -> None:
    """§A.1 per-character 2×2: the interval sweep equals counting characters one by one."""
    size = 80
    a, b = two_coders(
        {"D": "q" * size}, [(c, "D", s, s + n) for c, s, n in a_spans], [(c, "D", s, s + n) for c, s, n in b_spans]
    )
    if not any(n for _, _, n in [*a_spans, *b_spans]):
        # No coded character on either side: nothing to agree on, so no number (issue 14).
        with pytest.raises(NoDataError):
            agree(a, b, all_pairs=True)
        return
    result = agree(a, b, all_pairs=True)
    for code in "XY":
        ca = np.zeros(size, bool)
        cb = np.zeros(size, bool)
        for c, s, n in a_spans:
            ca[s : s + n] |= c == code
        for c, s, n in b_spans:
            cb[s : s + n] |= c == code
        rows = [r for r in result.per_code_source if r.code == code]
        if not rows:
            assert not ca.any() and not cb.any()
            continue
        t = rows[0].table
        assert (t.both, t.a_only, t.b_only, t.neither) == (
            int((ca & cb).sum()),
            int((ca & ~cb).sum()),
            int((~ca & cb).sum()),
            int((~ca & ~cb).sum()),
        )


def test_sweep_handles_overlapping_spans_of_one_coder() -> None:
    """The sweep counts coverage, so one coder's overlapping spans are a union (no double count)."""
    a = Intervals.of([0, 0, 1], [0, 5, 0], [10, 15, 4])
    b = Intervals.of([0, 1], [8, 2], [20, 3])
    both, a_only, b_only = counts(sweep(a, b, 100), 2)
    assert both.tolist() == [7, 1]  # [8,15) ; [2,3)
    assert a_only.tolist() == [8, 3]  # [0,8) ; [0,2)+[3,4)
    assert b_only.tolist() == [5, 0]  # [15,20)


# --------------------------------------------------------------------------- units


def _sentences(n: int) -> tuple[str, list[tuple[int, int]]]:
    parts, spans, pos = [], [], 0
    for i in range(n):
        s = f"Sentence number {i + 1} is here."
        parts.append(s)
        spans.append((pos, pos + len(s)))
        pos += len(s) + 1
    return " ".join(parts), spans


def test_k1_end_to_end_over_sentence_units() -> None:
    """K1 (§A.0) through agree(unit="sentence"): a sentence counts when any of it is coded."""
    text, spans = _sentences(10)

    def coded(bits: Sequence[int]) -> list[tuple[str, str, int, int]]:
        # Code only two characters in the middle of each chosen sentence.
        return [("X", "D", spans[i][0] + 3, spans[i][0] + 5) for i, bit in enumerate(bits) if bit]

    a, b = two_coders({"D": text}, coded(K1_A), coded(K1_B))
    result = agree(a, b, unit="sentence")
    r = row(result, "X", "D")
    assert r.units == 10  # type: ignore[attr-defined]
    assert r.kappa == pytest.approx(0.0909, abs=5e-5)  # type: ignore[attr-defined]
    assert result.per_code[0].summary.alpha == pytest.approx(0.0952, abs=5e-5)


def test_study_lines_are_the_sentence_units() -> None:
    """§A.1 units / study README: each ``A-i-j`` line is one sentence, whatever its punctuation."""
    lines = ["A-1-1 I post often. Really often!", "A-1-2 Privacy matters", "A-1-3 我很在意。真的。"]
    text = "\n".join(lines) + "\n"
    starts = [text.index(line) for line in lines]
    # A codes line 1 (partly), B codes lines 1 and 3: 3 units, both 1, B only 1, neither 1.
    a, b = two_coders(
        {"T": text},
        [("X", "T", starts[0] + 8, starts[0] + 12)],
        [("X", "T", starts[0], starts[0] + 3), ("X", "T", starts[2] + 7, starts[2] + 9)],
    )
    r = row(agree(a, b, unit="sentence"), "X", "T")
    assert (r.table.both, r.table.a_only, r.table.b_only, r.table.neither) == (1, 0, 1, 1)  # type: ignore[attr-defined]


def test_paragraph_units_are_non_blank_lines() -> None:
    """§A.1 paragraph unit: a non-blank line; hand count over 4 paragraphs."""
    text = "First para. Two sentences.\n\nSecond para\nThird\n   \nFourth one\n"
    p = [text.index(x) for x in ("First", "Second", "Third", "Fourth")]
    a, b = two_coders(
        {"T": text}, [("X", "T", p[0], p[1] + 3)], [("X", "T", p[1] + 2, p[1] + 4), ("X", "T", p[3], p[3] + 1)]
    )
    r = row(agree(a, b, unit="paragraph"), "X", "T")
    # A: paragraphs 1, 2; B: 2, 4 → both 1, A only 1, B only 1, neither 1.
    assert (r.table.both, r.table.a_only, r.table.b_only, r.table.neither) == (1, 1, 1, 1)  # type: ignore[attr-defined]
    assert r.kappa == pytest.approx(0.0)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- §A.2/§A.3 segments


def test_segment_overlap_agreement_and_holsti() -> None:
    """§A.2 overlap ≥ 90% (intersection over combined extent) and §A.0 Holsti, by hand.

    The overlap-rate definition and the 90% default are [R] in METHODS.md (§F item 1), so qdx
    labels these measures "MAXQDA-style"; this test fixes qdx's own definition.

    A: [0,100) [200,300); B: [5,100) IoU .95 ✓, [200,250) IoU .50 ✗, [400,500) none.
    Matched segments 1 + 1 of 5 → 40%; one-to-one pairs 1 → Holsti 2·1/5 = 0.4.
    """
    a, b = two_coders(
        {"D": "w" * 600},
        [("X", "D", 0, 100), ("X", "D", 200, 300)],
        [("X", "D", 5, 100), ("X", "D", 200, 250), ("X", "D", 400, 500)],
    )
    s = agree(a, b).per_code[0].summary
    assert s.segments == 5
    assert s.segment_agreement == pytest.approx(0.4)
    assert s.holsti == pytest.approx(0.4)
    # With a 50% threshold [200,250) matches too: 4 of 5 segments, 2 pairs → Holsti 0.8.
    s50 = agree(a, b, overlap=0.5).per_code[0].summary
    assert s50.segment_agreement == pytest.approx(0.8)
    assert s50.holsti == pytest.approx(0.8)
    # "min_len" divides by the shorter segment: [200,250) is wholly inside [200,300).
    assert agree(a, b, overlap_measure="min_len").per_code[0].summary.segment_agreement == pytest.approx(0.8)


def test_holsti_pairs_one_to_one() -> None:
    """§A.0 Holsti counts one-to-one decisions: two B segments on one A segment make one pair."""
    a, b = two_coders({"D": "w" * 200}, [("X", "D", 0, 100)], [("X", "D", 0, 100), ("X", "D", 0, 98)])
    s = agree(a, b).per_code[0].summary
    assert s.segment_agreement == pytest.approx(1.0)  # every segment has a partner
    assert s.holsti == pytest.approx(2 / 3)


def test_brennan_prediger_uses_number_of_codes() -> None:
    """§A.2 κn: Po = segment agreement over all codes, chance 1/k with k = codes analysed (M1 form)."""
    texts = {"D": "w" * 1000}
    codes = "VWXYZ"
    # 5 codes; each coder 1 segment per code → 10 segments; 4 codes match, Z does not: Po 8/10.
    a_spans = [(c, "D", 100 * i, 100 * i + 50) for i, c in enumerate(codes)]
    b_spans = [(c, "D", 100 * i, 100 * i + (50 if c != "Z" else 10)) for i, c in enumerate(codes)]
    a, b = two_coders(texts, a_spans, b_spans)
    overall = agree(a, b).overall
    assert overall.segment_agreement == pytest.approx(0.8)
    assert overall.bp_kappa == pytest.approx(0.75)


# --------------------------------------------------------------------------- options, output


def test_bad_options_are_usage_errors() -> None:
    """STYLE rule 6/8: impossible requests are UsageErrors with a message naming the option."""
    a, b = two_coders(N1_TEXTS, N1_A, N1_B)
    with pytest.raises(UsageError, match="unit"):
        agree(a, b, unit="word")
    with pytest.raises(UsageError, match="overlap"):
        agree(a, b, overlap=0)
    with pytest.raises(UsageError, match="coders"):
        agree(a)
    with pytest.raises(UsageError, match="nobody"):
        agree(a, b, coders_a=["nobody"])


def test_disagreements_carry_the_passage_text() -> None:
    """The passages where the coders differ, with their exact text (A only / B only)."""
    text = "=SUM(A1) is a formula-looking start, then plain words follow here."
    a, b = two_coders({"D": text}, [("X", "D", 0, 20)], [("X", "D", 9, 30)])
    found = {(d.coded_by, d.text) for d in agree(a, b).disagreements}
    assert found == {("A", text[0:9]), ("B", text[20:30])}


def test_xlsx_layout_and_formula_text_stays_text(tmp_path: Path) -> None:
    """§A.1 output columns; risky cell text (= + - @) stored as text, not formulas."""
    from openpyxl import load_workbook

    text = "=SUM(A1) and +1 and -2 and @here, the rest of the text is plain."
    a, b = two_coders({"=evil": text}, [("@code", "=evil", 0, 20)], [("@code", "=evil", 9, 30)])
    out = tmp_path / "agreement.xlsx"
    write_agreement_xlsx(agree(a, b), out)
    wb = load_workbook(out)
    assert wb.sheetnames == ["Coding Comparison", "Per node", "Disagreements", "README"]
    ws = wb["Coding Comparison"]
    header = [c.value for c in ws[1]]
    for name in (
        "Node",
        "Source",
        "Source Size",
        "Kappa",
        "Agreement (%)",
        "A and B (%)",
        "Not A and Not B (%)",
        "Disagreement (%)",
        "A and Not B (%)",
        "B and Not A (%)",
    ):
        assert name in header
    values = dict(zip(header, [c.value for c in ws[2]], strict=True))
    assert values["Node"] == "@code" and ws.cell(2, header.index("Node") + 1).data_type == "s"
    assert values["Source"] == "=evil" and ws.cell(2, header.index("Source") + 1).data_type == "s"
    assert values["Source Size"] == len(text)
    # both [9,20) 11, A only 9, B only 10 → agreement = (len − 19)/len.
    # Percentages are 0-1 numbers shown with a percent format (issue 16: percent as percent).
    assert values["Agreement (%)"] == pytest.approx((len(text) - 19) / len(text))
    assert values["A and Not B (%)"] == pytest.approx(9 / len(text))
    assert ws.cell(2, header.index("Agreement (%)") + 1).number_format.endswith("%")
    dis = wb["Disagreements"]
    # One passage group: A coded [0, 20), B [9, 30): whole passages side by side, wrapped.
    assert dis["E1"].value.startswith("A: ") and dis["F1"].value.startswith("B: ")
    assert (dis["E2"].value, dis["F2"].value) == (text[0:20], text[9:30])
    assert (dis["C2"].value, dis["D2"].value) == (0, 30)
    assert dis["E2"].data_type == "s" and dis["E2"].alignment.wrap_text
    labels = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    assert any(str(v).endswith("pooled over all units") for v in labels)


def test_second_coder_sample_only_compares_common_sources() -> None:
    """A second coder who coded a sample: sources only one project has are left out (warned)."""
    texts = {"S1": "x" * 1000, "S2": "y" * 200, "S3": "z" * 300}
    a = build(texts, [(*s, "A") for s in [*N1_A, ("X", "S3", 0, 100)]])
    b = build({k: texts[k] for k in ("S1", "S2")}, [(*s, "B") for s in N1_B])
    result = agree(a, b)
    assert {r.source for r in result.per_code_source} == {"S1", "S2"}
    assert result.per_code[0].summary.kappa_pooled == pytest.approx(0.4333, abs=5e-5)
    assert any("left out" in w for w in result.warnings)
    everything = agree(a, b, all_sources=True)
    assert row(everything, "X", "S3").kappa == 0.0  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- CLI


def _write_pair(tmp_path: Path) -> tuple[Path, Path]:
    import qdx

    a, b = two_coders(N1_TEXTS, N1_A, N1_B)
    pa, pb = tmp_path / "a.qdpx", tmp_path / "b.qdpx"
    qdx.write(a, pa)
    qdx.write(b, pb)
    return pa, pb


def test_cli_json_has_the_documented_keys(tmp_path: Path) -> None:
    """`qdx agree A B --json`: per_code_source / per_code / overall with N1's numbers."""
    from qdx.cli import main

    pa, pb = _write_pair(tmp_path)
    out = CliRunner().invoke(main, ["agree", str(pa), str(pb), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    keys = {"code", "code_path", "source", "units", "both", "a_only", "b_only", "neither", "agreement", "kappa"}
    assert keys <= set(data["per_code_source"][0])
    code_keys = {"code", "code_path", "kappa_mean", "kappa_weighted", "kappa_pooled", "agreement", "alpha"}
    assert code_keys <= set(data["per_code"][0])
    assert data["per_code"][0]["kappa_weighted"] == pytest.approx(0.3874, abs=5e-5)
    assert data["overall"]["kappa_pooled"] == pytest.approx(0.4333, abs=5e-5)


def test_cli_table_and_workbook(tmp_path: Path) -> None:
    """N1 (§A.1) through `qdx agree -o`: the table shows the three labelled means; the xlsx κ cell."""
    from openpyxl import load_workbook

    from qdx.cli import main

    pa, pb = _write_pair(tmp_path)
    xlsx = tmp_path / "agreement.xlsx"
    out = CliRunner().invoke(main, ["agree", str(pa), str(pb), "-o", str(xlsx), "--agree-unit", "char"])
    assert out.exit_code == 0, out.output
    assert "OVERALL" in out.output and "0.526" in out.output and "0.387" in out.output and "0.433" in out.output
    assert ">= 90% overlap" in out.output
    assert load_workbook(xlsx)["Coding Comparison"].cell(2, 4).value == pytest.approx(0.3182, abs=5e-5)


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    """CLI contract (brief): usage errors exit 2 with a one-line message."""
    from qdx.cli import main

    pa, pb = _write_pair(tmp_path)
    assert CliRunner().invoke(main, ["agree", str(pa)]).exit_code == 2  # one project, no coders
    assert CliRunner().invoke(main, ["agree", str(pa), str(pb), "--agree-unit", "word"]).exit_code == 2
    bad = CliRunner().invoke(main, ["agree", str(pa), "--coders", "A", "nobody"])
    assert bad.exit_code == 2 and "nobody" in bad.output


# --------------------------------------------------------------------------- the bundled study

STUDY = Path(__file__).resolve().parent.parent / "fixtures" / "wechat-moments"


def test_study_two_researchers_agree_plausibly(tmp_path: Path) -> None:
    """§A.1 on the bundled study (A: project.qdpx, B: coder-b.qdpx, transcripts 1–5 only).

    The study's second coder is built to agree substantially but not perfectly: most codes'
    pooled character-level κ falls in 0.5–0.85 (Landis & Koch "moderate" to "substantial").
    """
    from openpyxl import load_workbook

    import qdx

    a_path, b_path = STUDY / "project.qdpx", STUDY / "coder-b.qdpx"
    if not (a_path.exists() and b_path.exists()):
        pytest.skip("the bundled study is not generated yet")
    result = agree(qdx.read(a_path), qdx.read(b_path))
    assert {r.source for r in result.per_code_source} == {f"Interview {n:02d}" for n in range(1, 6)}
    kappas = [c.summary.kappa_pooled for c in result.per_code]
    inside = sum(0.5 <= k <= 0.85 for k in kappas)
    assert inside >= 0.75 * len(kappas), sorted(kappas)
    out = tmp_path / "agreement.xlsx"
    write_agreement_xlsx(result, out)
    sheet = load_workbook(out, read_only=True)["Coding Comparison"]
    assert sheet.max_row >= len(result.per_code_source) + 1


def test_sources_line_up_by_name_across_projects_but_not_within_one() -> None:
    """§A.2 (MAXQDA pairs same-named documents): different GUIDs, same name → one source;
    two same-named sources inside one project stay apart."""
    texts = {"S1": "x" * 1000}
    a = build(texts, [("X", "S1", 0, 150, "A")])
    b = build(texts, [("X", "S1", 100, 200, "B")])
    fresh = [replace(s, guid=Guid(str(uuid.uuid4()))) for s in b.sources]
    b2 = replace(b, sources=tuple(fresh))
    assert row(agree(a, b2), "X", "S1").table.both == 50  # type: ignore[attr-defined]
    # Inside one project: a second "S1" (another GUID) is another source, not a merge.
    twin = replace(a.sources[0], guid=Guid(str(uuid.uuid4())), selections=())
    a2 = replace(a, sources=(*a.sources, twin))
    rows = agree(a2, b, all_sources=True, all_pairs=True).per_code_source
    assert sorted(r.table.both for r in rows) == [0, 50]


def test_non_text_codings_are_reported_not_compared() -> None:
    """§A.1 units: regions and media are reported separately by NVivo; qdx says it skipped them."""
    from qdx.model import PictureSelection, PictureSource

    a, b = two_coders(N1_TEXTS, N1_A, N1_B)
    pic = PictureSource(
        guid=Guid(str(uuid.uuid4())),
        name="photo",
        selections=(
            PictureSelection(
                guid=Guid(str(uuid.uuid4())),
                first_x=0,
                first_y=0,
                second_x=5,
                second_y=5,
                codings=(Coding(guid=Guid(str(uuid.uuid4())), code=a.codes[0].guid),),
            ),
        ),
    )
    result = agree(replace(a, sources=(*a.sources, pic)), b)
    assert any("1 picture/PDF-region/media coding" in w for w in result.warnings)
    assert result.per_code[0].summary.kappa_pooled == pytest.approx(0.4333, abs=5e-5)


def test_u1_u2_unitizing_alpha_binary() -> None:
    """U1/U2 (§A.3, [D]): L 10, A k[3–6], B k[4–7] (1-based, inclusive) → |uα 0.6292; same → 1.0.

    In code points: A [2,6), B [3,7). Note the ordinary binary α over the same 10 units differs
    (1 − 19·2/(12·8) = 0.6042, by hand from §A.0): unitizing α also weighs run lengths through
    S = Σ len² (METHODS.md §A.3).
    """
    a, b = two_coders({"D": "u" * 10}, [("X", "D", 2, 6)], [("X", "D", 3, 7)])
    s = agree(a, b).per_code[0].summary
    assert s.u_alpha == pytest.approx(0.6292, abs=5e-5)
    assert s.alpha == pytest.approx(0.6042, abs=5e-5)
    same_a, same_b = two_coders({"D": "u" * 10}, [("X", "D", 2, 6)], [("X", "D", 2, 6)])
    assert agree(same_a, same_b).per_code[0].summary.u_alpha == 1.0


def test_unitizing_alpha_counts_runs_not_selections() -> None:
    """§A.3 S_c sums squared lengths of each coder's *runs*: two touching selections are one run."""
    a1, b1 = two_coders({"D": "u" * 10}, [("X", "D", 2, 6)], [("X", "D", 3, 7)])
    a2, b2 = two_coders({"D": "u" * 10}, [("X", "D", 2, 4), ("X", "D", 4, 6)], [("X", "D", 3, 7)])
    assert agree(a2, b2).per_code[0].summary.u_alpha == pytest.approx(agree(a1, b1).per_code[0].summary.u_alpha)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_with_missing_values_cross_checked(level: str) -> None:
    """§A.0/§A.4: α on coders × units with gaps equals the GPL package's (dev-only cross-check)."""
    kripp = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(11)
    for _ in range(15):
        data = rng.integers(1, 6, size=(3, 25)).astype(float)
        data[rng.random(data.shape) < 0.2] = np.nan
        theirs = kripp.alpha(reliability_data=data, level_of_measurement=level)
        ours = krippendorff_alpha([[None if np.isnan(v) else float(v) for v in r] for r in data], level)
        assert ours == pytest.approx(theirs)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 330), st.integers(1, 60)), max_size=6),
    st.lists(st.tuples(st.integers(0, 330), st.integers(1, 60)), max_size=6),
)
def test_sentence_counts_equal_a_unit_by_unit_count(
    a_spans: list[tuple[int, int]], b_spans: list[tuple[int, int]]
) -> None:
    """§A.1 sentence unit: a sentence is coded when any of its characters is (brute force)."""
    text, spans = _sentences(12)
    a, b = two_coders(
        {"D": text}, [("X", "D", s, s + n) for s, n in a_spans], [("X", "D", s, s + n) for s, n in b_spans]
    )

    def coded(coder: list[tuple[int, int]]) -> list[bool]:
        return [any(s < ue and s + n > us for s, n in coder) for us, ue in spans]

    ca, cb = coded(a_spans), coded(b_spans)
    if not any(ca) and not any(cb):
        with pytest.raises(NoDataError):  # no coded sentence: no number (issue 14)
            agree(a, b, unit="sentence", all_pairs=True, all_sources=True)
        return
    result = agree(a, b, unit="sentence", all_pairs=True, all_sources=True)
    t = result.per_code_source[0].table
    pairs = list(zip(ca, cb, strict=True))
    expected = (pairs.count((True, True)), pairs.count((True, False)), pairs.count((False, True)))
    assert (t.both, t.a_only, t.b_only) == expected
    assert t.units == len(spans)


def test_cli_groups_of_users_in_one_project(tmp_path: Path) -> None:
    """`--coder-a x --coder-a y --coder-b z`: group A is the union of its members (§A.1 groups)."""
    import qdx
    from qdx.cli import main

    spans = [("X", "S1", 0, 90, "a1"), ("X", "S1", 60, 150, "a2"), ("X", "S1", 100, 200, "b")]
    path = tmp_path / "team.qdpx"
    qdx.write(build({"S1": "x" * 1000}, spans), path)
    args = ["agree", str(path), "--coder-a", "a1", "--coder-a", "a2", "--coder-b", "b", "--json"]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["per_code_source"][0]["kappa"] == pytest.approx(0.3182, abs=5e-5)
    mixed = CliRunner().invoke(main, ["agree", str(path), "--coders", "a1", "b", "--coder-a", "a2"])
    assert mixed.exit_code == 2


def test_empty_selection_codes_no_sentence() -> None:
    """§A.1 units: a zero-length selection covers no character, so it codes no sentence either."""
    text, spans = _sentences(3)
    a, b = two_coders(
        {"D": text}, [("X", "D", spans[1][0] + 2, spans[1][0] + 2)], [("X", "D", spans[0][0], spans[0][0] + 1)]
    )
    t = agree(a, b, unit="sentence").per_code_source[0].table
    assert (t.both, t.a_only, t.b_only, t.neither) == (0, 0, 1, 2)
