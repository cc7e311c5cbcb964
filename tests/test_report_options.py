"""`qdx report --level / --sheets / --profile`, the Presence sheet, the matrix by a variable with column
percentages and the strongest co-occurring pairs on the Overview — read back from the written
workbook and checked against pandas recounts of ``qdx segments --json`` (plus the case ↔ source
links and variable values taken from the model), never against qdx's own matrix code.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

import qdx
from qdx.cli import main
from qdx.model import Code, Coding, Guid, Project, TextSelection, TextSource
from tests.conftest import load_module

HERE = Path(__file__).resolve().parent
STUDY = HERE.parent / "fixtures" / "wechat-moments"


def _mx() -> ModuleType:
    return load_module(HERE / "_mx_projects.py", "_mx_projects")


def _run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    return result.output


def _segments(path: Path) -> pd.DataFrame:
    frame = pd.DataFrame(json.loads(_run("segments", str(path), "--json")))
    frame["path"] = frame["code_path"].map(tuple)
    return frame


def _table(path: Path, title: str) -> tuple[list[object], list[list[object]]]:
    """Header and rows of a sheet (a caption row above the header is skipped)."""
    ws = load_workbook(path)[title]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    # A note or caption is one wrapped cell merged across the printed page, which can reach past
    # the table's last column: those empty columns are not part of the table.
    width = max((len(r) - next((i for i, v in enumerate(reversed(r)) if v is not None), len(r)) for r in rows),
                default=0)
    rows = [r[:width] for r in rows]
    head = 1 if rows[0][1:] == [None] * (len(rows[0]) - 1) and len(rows[0]) > 1 else 0
    body = [r for r in rows[head + 1:] if any(v is not None for v in r)]
    body = [r for r in body if not (isinstance(r[0], str) and r[1:] == [None] * (len(r) - 1))]  # notes
    return rows[head], body


@pytest.fixture(scope="module")
def gt_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gt") / "gt.qdpx"
    qdx.write(_mx().gt(), path)
    return path


@pytest.fixture(scope="module")
def study() -> Path:
    path = STUDY / "project.qdpx"
    if not path.exists():
        pytest.skip("the bundled study is not generated")
    return path


# --------------------------------------------------------------------------- --level


@pytest.mark.parametrize(("level", "depth"), [("main", 2), ("2", 2), ("subcategories", 3), ("3", 3)])
def test_level_counts_the_matrix_at_that_level(tmp_path: Path, gt_path: Path, level: str, depth: int) -> None:
    """Rows: the codes at the level (core = depth 1), each with every coding below it; the
    coding on a subcategory rolls into its main category; the grand total is every coding."""
    out = tmp_path / "r.xlsx"
    _run("report", str(gt_path), "--level", level, "-o", str(out))
    segs = _segments(gt_path)
    sources = list(dict.fromkeys(s.name for s in _mx().gt().sources))
    header, rows = _table(out, "Matrix")
    labels = depth - 1  # the core column is left out (it is on every row)
    assert header == [*["main category", "subcategory"][:labels], *sources, "Total"]
    *body, total = rows
    prefixes = sorted({p[:depth] for p in segs["path"] if len(p) >= depth})
    assert [tuple(r[:labels]) for r in body] == [p[1:] for p in prefixes]  # gt() has no coding above depth 2
    for row, prefix in zip(body, prefixes, strict=True):
        mine = segs[segs["path"].map(lambda p, f=prefix: p[: len(f)] == f)]
        assert row[labels:-1] == [int((mine["source"] == s).sum()) for s in sources], prefix
        assert row[-1] == len(mine)
    assert total[labels:] == [*[int((segs["source"] == s).sum()) for s in sources], len(segs)]
    facts = {r[0]: r[1] for r in _table(out, "Overview")[1]}
    assert str(facts["Level"]).startswith(["main category", "subcategory"][labels - 1])
    assert "level" in str(load_workbook(out)["Matrix"]["A1"].value)  # the caption says so


def _two_level_project() -> Project:
    """Two roots (not a grounded-theory tree), hand-counted: A has a1 ×2 in D1 and a2 ×1 in D2,
    B has b1 ×1 in D1 and one coding on B itself in D2."""
    n = iter(range(1, 100))

    def guid() -> Guid:
        return Guid(f"00000000-0000-4000-8000-{next(n):012d}")

    a1, a2, b1 = Code(guid=guid(), name="a1"), Code(guid=guid(), name="a2"), Code(guid=guid(), name="b1")
    a, b = Code(guid=guid(), name="A", children=(a1, a2)), Code(guid=guid(), name="B", children=(b1,))

    def sel(start: int, code: Code) -> TextSelection:
        return TextSelection(guid=guid(), start=start, end=start + 5, codings=(Coding(guid=guid(), code=code.guid),))

    d1 = TextSource(guid=guid(), name="D1", text="x" * 50, selections=(sel(0, a1), sel(10, a1), sel(20, b1)))
    d2 = TextSource(guid=guid(), name="D2", text="y" * 50, selections=(sel(0, a2), sel(30, b)))
    return Project(name="two roots", codes=(a, b), sources=(d1, d2))


def test_level_1_of_a_tree_that_is_not_grounded_theory(tmp_path: Path) -> None:
    path, out = tmp_path / "p.qdpx", tmp_path / "r.xlsx"
    qdx.write(_two_level_project(), path)
    _run("report", str(path), "--level", "1", "-o", str(out))
    header, rows = _table(out, "Matrix")
    assert header == ["Level 1", "D1", "D2", "Total"]
    assert rows == [["A", 2, 1, 3], ["B", 1, 1, 2], ["Total", 3, 2, 5]]
    header, coverage = _table(out, "Coverage")
    assert header[0] == "Level 1"
    assert [r[0] for r in coverage] == ["A", "B", "Any code"]
    assert coverage[0][1:] == [10 / 50, 5 / 50]  # a1's two 5-character passages; a2's one
    _run("report", str(path), "--level", "main", "-o", str(out))  # no core: main is the top level
    assert _table(out, "Matrix")[1] == rows


@pytest.mark.parametrize("level", ["4", "9", "core"])
def test_a_level_the_tree_does_not_have_is_a_usage_error(tmp_path: Path, level: str) -> None:
    path, out = tmp_path / "p.qdpx", tmp_path / "r.xlsx"
    qdx.write(_two_level_project(), path)  # two levels, two roots: no 3rd level, no core
    output = _run("report", str(path), "--level", level, "-o", str(out), code=2)
    assert len(output.strip().splitlines()) == 1 and "level" in output
    assert not out.exists()


def test_unknown_level_or_sheet_set_names_are_one_line_usage_errors(tmp_path: Path, gt_path: Path) -> None:
    for option, value in (("--level", "themes"), ("--sheets", "appendix")):
        output = _run("report", str(gt_path), option, value, "-o", str(tmp_path / "r.xlsx"), code=2)
        assert len(output.strip().splitlines()) == 1 and value in output
    output = _run("report", str(gt_path), "--level", "main", "-o", str(tmp_path / "r.html"), code=2)
    assert "--level" in output  # the web page would ignore it: refused, not dropped
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- --sheets, --profile


@pytest.mark.parametrize(("chosen", "sheets"), [
    ("minimal", ["Overview", "Codebook", "Matrix", "About"]),
    ("thesis", ["Overview", "Codebook", "Matrix", "Coverage", "Co-occurrence", "Presence", "Matrix by gender",
                "Saturation", "About"]),
])
def test_sheets_option_chooses_the_sheets_and_says_what_it_left_out(tmp_path: Path, study: Path, chosen: str,
                                                                     sheets: list[str]) -> None:
    out = tmp_path / "r.xlsx"
    summary = json.loads(_run("report", str(study), "--sheets", chosen, "-o", str(out), "--json"))
    assert load_workbook(out).sheetnames == sheets == summary["sheets"]
    facts = {r[0]: r[1] for r in _table(out, "Overview")[1]}
    assert str(facts["Sheets"]).startswith(f"{chosen}: left out ")
    assert "Segments" in str(facts["Sheets"])
    assert summary["codings"] == summary["matrix_total"] == len(_segments(study))


def test_study_profile_names_the_levels_and_drives_the_structure_sheet(tmp_path: Path, study: Path) -> None:
    """The TOML `qdx validate --profile` reads: its level names label the sheets, its expected
    counts are checked on the Structure sheet (the study has 4 main categories: expecting 5 is
    one GT8 finding, as `qdx validate --structure gt --profile` reports it)."""
    profile = tmp_path / "study.toml"
    profile.write_text('levels = ["core", "theme", "subtheme", "code"]\n[expect]\nmain = 5\n', encoding="utf-8")
    out = tmp_path / "r.xlsx"
    _run("report", str(study), "--profile", str(profile), "-o", str(out))
    segs = _segments(study)
    mains = {p[1] for p in segs["path"]}
    assert len(mains) == 4  # the oracle: four main categories are coded
    header, _ = _table(out, "Matrix")
    assert header[:3] == ["theme", "subtheme", "code"]
    assert _table(out, "Coverage")[0][0] == "theme"
    facts = {r[0]: r[1] for r in _table(out, "Overview")[1]}
    assert facts["Level names"] == "the study profile's names" and facts["Structure: findings"] == 1
    structure = " ".join(str(v) for r in _table(out, "Structure")[1] for v in r)
    assert "GT8" in structure and "5" in structure
    validate = CliRunner().invoke(main, ["validate", str(study), "--structure", "gt", "--profile", str(profile)])
    assert "GT8" in validate.output


def test_a_malformed_profile_is_a_usage_error_before_any_work(tmp_path: Path, gt_path: Path) -> None:
    profile = tmp_path / "bad.toml"
    profile.write_text("levels = [1, 2]\n", encoding="utf-8")
    output = _run("report", str(gt_path), "--profile", str(profile), "-o", str(tmp_path / "r.xlsx"), code=2)
    assert len(output.strip().splitlines()) == 1 and "profile" in output
    assert not (tmp_path / "r.xlsx").exists()


# --------------------------------------------------------------------------- Presence, by variable


def _case_sources(project: Project) -> dict[str, set[str]]:
    names = {str(s.guid).lower(): s.name for s in project.sources}
    return {c.name: {names[str(g).lower()] for g in c.source_refs} for c in project.cases}


def test_presence_by_case_matches_a_pandas_recount(tmp_path: Path, study: Path) -> None:
    out = tmp_path / "r.xlsx"
    _run("report", str(study), "-o", str(out))
    project = qdx.read(study)
    cases = _case_sources(project)
    segs = _segments(study)
    header, rows = _table(out, "Presence")
    first = header.index(project.cases[0].name)
    assert header[first:] == [*cases, "Cases"]
    core = segs["path"].iloc[0][0]
    *body, total = rows
    expected_totals = dict.fromkeys(cases, 0)
    for row in body:
        full = (core, *(v for v in row[:first] if v is not None))
        concept = len(full) == first + 1
        # A concept: any coding of it or below it; a category with its own row: its own codings.
        mine = segs[segs["path"].map(lambda p, f=full, c=concept: p[: len(f)] == f if c else p == f)]
        present = [int(bool(set(mine["source"]) & cases[c])) for c in cases]
        assert row[first:-1] == present, full
        assert row[-1] == sum(present)
        for c, v in zip(cases, present, strict=True):
            expected_totals[c] += v
    assert total[0] == "Codes present"
    assert total[first:-1] == list(expected_totals.values())


def test_matrix_by_variable_has_column_percentages(tmp_path: Path, gt_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    _run("report", str(gt_path), "--level", "main", "-o", str(out))
    project = _mx().gt()
    gender = next(v.guid for v in project.variables if v.name == "gender")
    names = {str(s.guid).lower(): s.name for s in project.sources}
    value_of = {names[str(g).lower()]: vv.value for c in project.cases for g in c.source_refs
                for vv in c.variable_values if vv.variable == gender}
    segs = _segments(gt_path)
    segs["gender"] = segs["source"].map(value_of)
    segs["main"] = segs["path"].map(lambda p: p[1])
    counts = pd.crosstab(segs["main"], segs["gender"])
    header, rows = _table(out, "Matrix by gender")
    values = sorted(value_of.values())
    values = list(dict.fromkeys(values))
    assert header == ["main category", *values, "Total", *[f"% of {v}" for v in [*values, "Total"]]]
    for row in rows[:-1]:
        n = [int(counts.loc[row[0], v]) for v in values]
        assert row[1:1 + len(values) + 1] == [*n, sum(n)]
        shares = [c / int(counts[v].sum()) for c, v in zip(n, values, strict=True)] + [sum(n) / len(segs)]
        assert row[2 + len(values):] == pytest.approx(shares)
    assert rows[-1][0] == "Total" and rows[-1][2 + len(values):] == [1.0] * (len(values) + 1)
    ws = load_workbook(out)["Matrix by gender"]
    assert ws.cell(row=2, column=2 + len(values) + 1).number_format.endswith("%")


# --------------------------------------------------------------------------- co-occurrence


def _overlap_pairs(segs: pd.DataFrame, depth: int) -> pd.DataFrame:
    """n A, n B, n AB and c per pair of codes at ``depth``: pairs of coded passages, one of
    each code, overlapping by at least one character in the same source (docs/methods.md)."""
    segs = segs[segs["path"].map(len) >= depth].assign(code=lambda f: f["path"].map(lambda p: p[depth - 1]))
    n = segs.groupby("code").size()
    found: dict[tuple[str, str], int] = {}
    for _, group in segs.groupby("source"):
        recs = list(group[["code", "start", "end"]].itertuples(index=False))
        for i, x in enumerate(recs):
            for y in recs[i + 1:]:
                if x.code != y.code and x.start < y.end and y.start < x.end:
                    key = (min(x.code, y.code), max(x.code, y.code))
                    found[key] = found.get(key, 0) + 1
    rows = [(a, b, n[a], n[b], k, k / (n[a] + n[b] - k)) for (a, b), k in found.items()]
    return pd.DataFrame(rows, columns=["a", "b", "n_a", "n_b", "n_ab", "c"])


def test_concept_pairs_listed_and_the_strongest_named_on_the_overview(tmp_path: Path, study: Path) -> None:
    out = tmp_path / "r.xlsx"
    _run("report", str(study), "-o", str(out))
    oracle = _overlap_pairs(_segments(study), 4)  # core > main > subcategory > concept
    rows = _table(out, "Co-occurrence")[1]
    listed = {}
    for r in rows:
        if r[0] == "concept":
            (a, n_a), (b, n_b) = sorted([(r[1], r[3]), (r[2], r[4])])
            listed[(a, b)] = (n_a, n_b, r[5])
    assert listed == {(r.a, r.b): (r.n_a, r.n_b, r.n_ab) for r in oracle.itertuples()}
    strongest = oracle.sort_values(["c", "n_ab"], ascending=False).head(3)
    facts = [r for r in _table(out, "Overview")[1] if str(r[0]).startswith("Strongest co-occurrence (concept)")]
    assert len(facts) == 3
    for fact, r in zip(facts, strongest.itertuples(), strict=True):
        assert {r.a, r.b} <= set(str(fact[1]).split(": c = ")[0].split(" + "))
        assert f"c = {r.c:.3f}" in str(fact[1]) and f"({r.n_ab} overlapping" in str(fact[1])


# --------------------------------------------------------------------------- per-code kappa chart


def test_agreement_sheets_carry_the_per_code_kappa_chart(tmp_path: Path, study: Path) -> None:
    """`agree -o` (Per node) and the report's Agreement sheet: a PNG chart under the table."""
    other = STUDY / "coder-b.qdpx"
    _run("agree", str(study), str(other), "-o", str(tmp_path / "a.xlsx"))
    _run("report", str(study), "--compare", str(other), "--sheets", "thesis", "-o", str(tmp_path / "r.xlsx"))
    for name, sheet in (("a.xlsx", "Per node"), ("r.xlsx", "Agreement")):
        ws = load_workbook(tmp_path / name)[sheet]
        assert len(ws._images) == 1, (name, sheet)
        assert ws._images[0]._data().startswith(b"\x89PNG")
        anchor = ws._images[0].anchor._from.row + 1
        assert anchor > ws.max_row  # below the table and its notes, never over them


def test_kappa_chart_leaves_undefined_kappa_without_a_bar() -> None:
    from qdx.report.plots import kappa_chart

    png = kappa_chart([("a", 0.9), ("b", float("nan")), ("c", 0.0), ("d", -0.2)], 0.4)
    assert png.startswith(b"\x89PNG")
    assert kappa_chart([("only n/a", float("nan"))], 0.4).startswith(b"\x89PNG")



def test_chart_labels_take_any_name_without_a_warning() -> None:
    """Tabs, returns, mathtext dollars, CJK and emoji in names: drawn (pytest turns any warning
    into an error), one line each; the CLI would otherwise print matplotlib warnings."""
    from qdx.report.plots import kappa_chart, label

    names = ["\t=cmd|' /C calc'!A0\r", "$x^2$ cost", "朋友圈分组", "emoji 😀", "x" * 80]
    assert kappa_chart([(n, 0.5) for n in names], 0.4).startswith(b"\x89PNG")
    assert label("a\tb\r\nc") == "a b c" and label("$5") == r"\$5" and len(label("x" * 80)) == 48


def test_report_saturation_sheet_embeds_the_curve(tmp_path: Path, study: Path) -> None:
    """The curve `qdx saturation --plot x.png` draws, as an image under the table (the native
    chart sits there too); the thesis profile keeps the sheet."""
    out = tmp_path / "r.xlsx"
    _run("report", str(study), "--sheets", "thesis", "-o", str(out))
    ws = load_workbook(out)["Saturation"]
    assert len(ws._images) == 1 and ws._images[0]._data().startswith(b"\x89PNG")
    assert ws._images[0].anchor._from.row + 1 > ws.max_row


def test_sheet_images_print_at_the_figure_size() -> None:
    """The PNG's stated resolution makes XlsxWriter's size × the sheet writer's 60 % equal the
    figure's inches (96 px an inch on a sheet): 9 in wide at 150 dpi states 90 dpi."""
    import struct

    from qdx.report.plots import kappa_chart

    png = kappa_chart([("a", 0.5)], 0.4)
    at = png.index(b"pHYs")
    x, y, unit = struct.unpack(">IIB", png[at + 4:at + 13])
    assert unit == 1 and round(x * 0.0254) == round(y * 0.0254) == 90
    width = struct.unpack(">I", png[16:20])[0]
    assert width / (x * 0.0254) * 96 * 0.6 == pytest.approx(9.0 * 96, rel=0.01)


def test_co_occurrence_lists_the_strongest_pairs_and_says_how_many_more(tmp_path: Path, study: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A level with more pairs than the sheet lists: the strongest, and a note with the count."""
    import qdx.report.matrix_sheets as ms
    from qdx.report.excel import write_report_file

    monkeypatch.setattr(ms, "MAX_PAIRS", 5)
    out = tmp_path / "r.xlsx"
    write_report_file(qdx.read(study), out)
    oracle = _overlap_pairs(_segments(study), 4).sort_values(["c", "n_ab"], ascending=False)
    ws = load_workbook(out)["Co-occurrence"]
    rows = [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]
    concepts = [r for r in rows if r[0] == "concept"]
    assert [round(r[6], 9) for r in concepts] == [round(c, 9) for c in oracle["c"].head(5)]
    notes = [str(r[0]) for r in rows if r[0] and r[1] is None]
    assert f"concept: the 5 strongest of {len(oracle)} co-occurring pairs" in " ".join(notes)
