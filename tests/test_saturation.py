"""Saturation: every expected number is a METHODS.md §B oracle (S1–S4) or a hand count.

Each test names the definition it checks (§B.1 Guest 2006 curve, §B.2 Guest 2020, §B.4 Francis
2010, §B.5 held-out test, §B.6 curve conventions).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from qdx.analysis.saturation import francis2010, guest2020, order_sources, saturation
from qdx.errors import UsageError
from qdx.model import (
    Case,
    Code,
    Coding,
    Guid,
    Project,
    Set,
    TextSelection,
    TextSource,
    ValueKind,
    Variable,
    VariableType,
    VariableValue,
)

STUDY = Path(__file__).resolve().parent.parent / "fixtures" / "wechat-moments"


def _g(kind: str, name: object) -> Guid:
    return Guid(str(uuid.uuid5(uuid.NAMESPACE_URL, f"qdx-sat-test/{kind}/{name}")))


def _doc(name: str, codes: Sequence[str], **extra: object) -> TextSource:
    """A document whose i-th code is applied to characters [i, i+1)."""
    sels = tuple(
        TextSelection(
            guid=_g("sel", f"{name}/{i}"),
            start=i,
            end=i + 1,
            codings=(Coding(guid=_g("coding", f"{name}/{i}"), code=_g("code", c)),),
        )
        for i, c in enumerate(codes)
    )
    return TextSource(guid=_g("source", name), name=name, text="x" * max(len(codes), 1), selections=sels, **extra)  # type: ignore[arg-type]


def _flat(names: Sequence[str]) -> tuple[Code, ...]:
    return tuple(Code(guid=_g("code", n), name=n) for n in names)


def _project_from_new_counts(new: Sequence[int]) -> Project:
    """Document i introduces new[i] fresh codes (and repeats one old code, which is not new)."""
    docs, made = [], 0
    for i, count in enumerate(new, start=1):
        codes = [f"t{made + k}" for k in range(count)] + ([f"t{made - 1}"] if made else [])
        made += count
        docs.append(_doc(f"Interview {i}", codes))
    return Project(name="synthetic", codes=_flat([f"t{k}" for k in range(made)]), sources=tuple(docs))


# --------------------------------------------------------------------------- §B.2 Guest 2020

S2 = [20, 9, 5, 3, 2, 3, 1, 0, 1, 0, 0, 0]


def test_s2_guest2020_run_two_at_five_percent() -> None:
    """S2 (§B.2): base 4 → 37 themes; runs 5–6 13.5%, 6–7 10.8% (≈ 11%), 7–8 2.7% → "6+2"."""
    g = guest2020(S2, base=4, run=2, threshold=0.05)
    assert g.base_codes == 37
    assert [(r.first, r.last, r.new) for r in g.runs] == [(5, 6, 5), (6, 7, 4), (7, 8, 1)]
    assert [round(100 * r.ratio, 1) for r in g.runs] == [13.5, 10.8, 2.7]
    assert g.point == "6+2"


def test_s2_guest2020_run_three_at_five_percent() -> None:
    """S2 (§B.2): run length 3 → 16.2%, 10.8%, 5.4%, 2.7% → "7+3"."""
    g = guest2020(S2, base=4, run=3, threshold=0.05)
    assert [round(100 * r.ratio, 1) for r in g.runs] == [16.2, 10.8, 5.4, 2.7]
    assert g.point == "7+3"


def test_s2_guest2020_no_new_information() -> None:
    """S2 (§B.2): threshold 0% → the first run with 0 new is 10–11 → "9+2"."""
    assert guest2020(S2, base=4, run=2, threshold=0.0).point == "9+2"


def test_guest2020_not_reached() -> None:
    """§B.2: if no run qualifies, "not reached"."""
    assert guest2020([5, 5, 5, 5, 5, 5], base=4, run=2).point == "not reached"
    assert not guest2020([0, 0, 0, 0, 0, 0], base=4, run=2).reached  # no base themes: undefined


def test_s2_end_to_end_through_a_project() -> None:
    """S2 (§B.2, §B.6) from codings: repeated old codes are not new; the point is still "6+2"."""
    result = saturation(_project_from_new_counts(S2), base=4, run=2, threshold=0.05)
    assert [p.new for p in result.curve] == S2
    assert result.guest2020.point == "6+2"
    assert result.guest2020.base_codes == 37


# --------------------------------------------------------------------------- §B.4 Francis, §B.1 Guest 2006


def test_s3_francis_ten_plus_three() -> None:
    """S3 (§B.4): […10 interviews…, 0, 0, 0] → stop at 13; a new idea at 12 restarts the count."""
    assert francis2010([3] * 10 + [0, 0, 0], initial=10, stop=3).point == 13
    assert francis2010([3] * 10 + [0, 1, 0, 0, 0], initial=10, stop=3).point == 15
    assert francis2010([3] * 10 + [0, 0], initial=10, stop=3).point is None


def test_s1_guest2006_checkpoints() -> None:
    """S1 (§B.1): 80 themes @ 6 docs, 100 @ 12, of 114 → 70.2% and 87.7% of the final codebook."""
    new = [40, 15, 10, 7, 5, 3, 6, 5, 3, 3, 2, 1] + [1] * 14 + [0] * 4
    result = saturation(_project_from_new_counts(new))
    assert result.total_codes == 114
    assert result.curve[5].cumulative == 80
    assert result.curve[11].cumulative == 100
    assert round(result.curve[5].percent, 1) == 70.2
    assert round(result.curve[11].percent, 1) == 87.7


# --------------------------------------------------------------------------- §B.5 held-out test


def _gt_codes(extra: bool = False) -> tuple[Code, ...]:
    """Core → m1..m4 → s1..s20 (5 per main) → c1..c40 (2 per sub); ``extra`` adds s21/c41 under m4."""

    def sub(k: int) -> Code:
        kids = (k * 2 - 1, k * 2) if k <= 20 else (41,)
        return Code(guid=_g("code", f"s{k}"), name=f"s{k}", children=_flat([f"c{c}" for c in kids]))

    mains = []
    for m in range(1, 5):
        subs = [sub(k) for k in range(5 * m - 4, 5 * m + 1)] + ([sub(21)] if extra and m == 4 else [])
        mains.append(Code(guid=_g("code", f"m{m}"), name=f"m{m}", children=tuple(subs)))
    return (Code(guid=_g("code", "core"), name="core", children=tuple(mains)),)


def _s4_project(test_codes: Sequence[str], extra: bool = False) -> Project:
    train = [_doc(f"T{i:02d}", [f"c{c}" for c in range(1, 41) if c % 15 == i % 15]) for i in range(1, 16)]
    test = [_doc("Z1", test_codes[:1]), _doc("Z2", test_codes[1:])]
    sets = (Set(guid=_g("set", "hold"), name="Saturation sample", member_sources=tuple(d.guid for d in test)),)
    return Project(name="s4", codes=_gt_codes(extra), sources=(*train, *test), sets=sets)


def test_s4_holdout_passes_when_nothing_is_new() -> None:
    """S4 (§B.5): train codes c1..c40; the test references only c3, c17 → PASS."""
    result = saturation(_s4_project(["c3", "c17"]), holdout_set="Saturation sample")
    assert result.holdout is not None
    assert result.holdout.saturated
    assert result.holdout.documents == ("Z1", "Z2")
    assert not result.failed


def test_s4_holdout_fails_with_new_concept_and_category() -> None:
    """S4 (§B.5): the test also references c41, child of the new s21 → FAIL: {c41}, {s21}."""
    result = saturation(_s4_project(["c3", "c17", "c41"], extra=True), holdout_set="Saturation sample")
    h = result.holdout
    assert h is not None and not h.saturated and result.failed
    assert [(c.name, c.path) for c in h.new_codes] == [("c41", ("core", "m4", "s21", "c41"))]
    assert [(c.name, c.path) for c in h.new_categories] == [("s21", ("core", "m4", "s21"))]
    assert h.new_codes[0].documents == ("Z2",)


def test_holdout_last_n_documents() -> None:
    """§B.5 with "the last N documents" as the test part."""
    result = saturation(_s4_project(["c3", "c17", "c41"], extra=True), holdout=1)
    assert result.holdout is not None
    assert result.holdout.documents == ("Z2",)
    assert [c.name for c in result.holdout.new_codes] == ["c41"]


# --------------------------------------------------------------------------- §B.6 curve per level


def test_curve_per_level_rolls_children_up() -> None:
    """§B.6: upper levels roll child references up; concept = leaves. Hand count:

    D1 codes c1 (s1, m1) → concepts 1, subcategories 1, main 1; D2 codes c2 (s1) and c21 (s11, m3)
    → concepts +2, subcategories +1 (s11), main +1 (m3); D3 codes c1 again → nothing new.
    """
    project = Project(
        name="levels", codes=_gt_codes(), sources=(_doc("D1", ["c1"]), _doc("D2", ["c2", "c21"]), _doc("D3", ["c1"]))
    )
    result = saturation(project)
    assert result.levels == ("concept", "subcategory", "main category", "core")
    table = [
        (p.levels["concept"].new, p.levels["subcategory"].new, p.levels["main category"].new) for p in result.curve
    ]
    assert table == [(1, 1, 1), (2, 1, 1), (0, 0, 0)]
    assert [p.levels["subcategory"].cumulative for p in result.curve] == [1, 2, 2]
    assert result.curve[1].new_codes == ("c2", "c21")


def test_empty_documents_add_nothing() -> None:
    """§B.6: a document with zero references adds 0 new codes."""
    project = Project(name="e", codes=_flat(["a"]), sources=(_doc("D1", ["a"]), _doc("D2", [])))
    assert [p.new for p in saturation(project).curve] == [1, 0]


# --------------------------------------------------------------------------- order


def _ordered_project() -> Project:
    var = Variable(guid=_g("var", "date"), name="interview_no", type=VariableType.INTEGER)
    docs = (
        _doc("Interview 10", ["a"], creation_datetime="2024-01-01T00:00:00Z"),
        _doc("Interview 2", ["b"], creation_datetime="2024-03-01T00:00:00Z"),
        _doc("Interview 1", ["c"], creation_datetime="2024-02-01T00:00:00Z"),
    )
    # "interview_no" lives on cases (the usual REFI place for interviewee attributes).
    cases = tuple(
        Case(
            guid=_g("case", d.name),
            variable_values=(VariableValue(variable=var.guid, kind=ValueKind.INTEGER, value=str(v)),),
            source_refs=(d.guid,),
        )
        for d, v in zip(docs, (3, 11, 2), strict=True)
    )
    sets = (Set(guid=_g("set", "s"), name="Order", member_sources=(docs[1].guid, docs[0].guid)),)
    return Project(name="o", codes=_flat("abc"), sources=docs, variables=(var,), cases=cases, sets=sets)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("name", ["Interview 1", "Interview 2", "Interview 10"]),  # natural, not "1, 10, 2"
        ("created", ["Interview 10", "Interview 1", "Interview 2"]),
        ("set:Order", ["Interview 2", "Interview 10", "Interview 1"]),
        ("variable:interview_no", ["Interview 1", "Interview 10", "Interview 2"]),  # 2 < 3 < 11 numerically
    ],
)
def test_document_order(order: str, expected: list[str]) -> None:
    """§B.6: order matters and is stated; numbers in names and variable values sort numerically."""
    assert [s.name for s in order_sources(_ordered_project(), order)] == expected


def test_bad_order_set_or_holdout_is_a_usage_error() -> None:
    """§B.6 order must be stated and valid; bad held-out choices are UsageErrors (exit 2)."""
    project = _ordered_project()
    for kwargs in (
        {"order": "random"},
        {"order": "set:Nope"},
        {"order": "variable:nope"},
        {"holdout": 3},
        {"holdout_set": "Nope"},
        {"holdout": 1, "holdout_set": "Order"},
    ):
        with pytest.raises(UsageError):
            saturation(project, **kwargs)  # type: ignore[arg-type]


def test_inputs_are_not_mutated() -> None:
    """STYLE rule 5: analysis is a pure function."""
    project = _s4_project(["c3", "c41"], extra=True)
    before = copy.deepcopy(project)
    saturation(project, holdout_set="Saturation sample")
    assert project == before


# --------------------------------------------------------------------------- CLI


def test_cli_json_exit_status_and_plot(tmp_path: Path) -> None:
    """`qdx saturation`: exit 1 when the held-out test fails, 0 when it passes; --json keys; PNG."""
    import qdx
    from qdx.cli import main

    passing, failing = tmp_path / "pass.qdpx", tmp_path / "fail.qdpx"
    qdx.write(_s4_project(["c3", "c17"]), passing)
    qdx.write(_s4_project(["c3", "c41"], extra=True), failing)
    png = tmp_path / "curve.png"
    ok = CliRunner().invoke(
        main, ["saturation", str(passing), "--holdout-set", "Saturation sample", "--json", "--plot", str(png)]
    )
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.output)
    assert {"curve", "holdout", "guest2020"} <= set(data)
    assert {"document", "new", "cumulative", "levels"} <= set(data["curve"][0])
    assert {"documents", "new_codes", "new_categories", "saturated"} <= set(data["holdout"])
    assert {"base", "run", "threshold", "point"} <= set(data["guest2020"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = CliRunner().invoke(main, ["saturation", str(failing), "--holdout-set", "Saturation sample"])
    assert bad.exit_code == 1
    assert "FAILED" in bad.output and "c41" in bad.output and "s21" in bad.output
    assert CliRunner().invoke(main, ["saturation", str(passing), "--order", "bogus"]).exit_code == 2


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF-")])
def test_cli_plot_writes_the_format_its_suffix_names(tmp_path: Path, suffix: str, magic: bytes) -> None:
    """Issue 16: --plot x.svg wrote PNG bytes under that name; each suffix now gets its format."""
    import qdx
    from qdx.cli import main

    project = tmp_path / "p.qdpx"
    qdx.write(_s4_project(["c3", "c17"]), project)
    out = tmp_path / f"curve{suffix}"
    result = CliRunner().invoke(main, ["saturation", str(project), "--plot", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(magic)
    if suffix == ".svg":
        assert b"<svg" in data[:2000]


@pytest.mark.parametrize("name", ["curve.jpg", "curve", "curve.png.txt"])
def test_cli_plot_refuses_an_unsupported_suffix_in_one_line(tmp_path: Path, name: str) -> None:
    import qdx
    from qdx.cli import main

    project = tmp_path / "p.qdpx"
    qdx.write(_s4_project(["c3", "c17"]), project)
    result = CliRunner().invoke(main, ["saturation", str(project), "--plot", str(tmp_path / name)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "use .png, .svg, .pdf" in result.output
    assert not (tmp_path / name).exists()


# --------------------------------------------------------------------------- the bundled study


def _study() -> Project:
    import qdx

    path = STUDY / "project.qdpx"
    if not path.exists():
        pytest.skip("fixtures/wechat-moments/project.qdpx not generated yet")
    return qdx.read(path)


def test_study_holdout_passes() -> None:
    """§B.5 on the bundled study: the 5 held-out transcripts bring no new concept or category."""
    result = saturation(_study(), holdout_set="Saturation sample")
    assert result.holdout is not None
    assert len(result.holdout.documents) == 5
    assert result.holdout.saturated, result.holdout.as_dict()


def test_study_variant_with_a_concept_only_in_transcript_18_fails() -> None:
    """§B.5: a new concept coded only in transcript 18 fails the test, named with its category."""
    project = _study()
    core = project.codes[0]
    main = core.children[0]
    sub = main.children[0]
    concept = Code(guid=Guid(str(uuid.uuid4())), name="Screenshots shared by others")
    new_sub = replace(sub, children=(*sub.children, concept))
    new_main = replace(main, children=(new_sub, *main.children[1:]))
    codes = (replace(core, children=(new_main, *core.children[1:])),)
    (doc18,) = [s for s in project.sources if s.name is not None and s.name.endswith("18")]
    assert isinstance(doc18, TextSource)
    sel = TextSelection(
        guid=Guid(str(uuid.uuid4())),
        start=0,
        end=10,
        codings=(Coding(guid=Guid(str(uuid.uuid4())), code=concept.guid),),
    )
    variant = replace(
        project,
        codes=codes,
        sources=tuple(replace(s, selections=(*s.selections, sel)) if s is doc18 else s for s in project.sources),
    )
    result = saturation(variant, holdout_set="Saturation sample")
    h = result.holdout
    assert h is not None and result.failed
    assert [(c.name, c.path, c.documents) for c in h.new_codes] == [
        ("Screenshots shared by others", (core.name, main.name, sub.name, concept.name), (doc18.name,))
    ]
    assert h.new_categories == ()  # its subcategory already occurs in the coding sample
