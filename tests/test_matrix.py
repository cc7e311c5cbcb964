"""Coding matrices and co-occurrence: oracles R1 and C1 (METHODS.md §D), and every cell value
checked against an independent recomputation from ``qdx.segment.segments`` with pandas."""

from __future__ import annotations

import copy
import csv
import io
import re
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import qdx
from qdx.analysis._codings import build_corpus
from qdx.analysis.cooccurrence import c_coefficient, cooccurrence, pairs_from
from qdx.analysis.matrix import VALUES, matrix
from qdx.errors import UsageError
from qdx.model import Code, Coding, Guid, Project, ProjectIndex, TextSelection, TextSource, iter_selections
from qdx.segment import segments
from tests.conftest import load_module

HERE = Path(__file__).resolve().parent
STUDY = HERE.parent / "fixtures" / "wechat-moments" / "project.qdpx"


def _helper() -> ModuleType:
    return load_module(HERE / "_mx_projects.py", "_mx_projects")


mx = _helper()


# --------------------------------------------------------------------------- oracle R1 / C1


def test_r1_references_and_files_coded() -> None:
    refs = matrix(mx.r1(), value="references")
    assert refs.loc["platform"].tolist() == [1, 2]
    assert refs.loc["user"].tolist() == [1, 1]
    assert refs.loc["situational"].tolist() == [1, 0]
    assert refs.sum(axis=1).tolist() == [3, 2, 1]  # references: platform 3, user 2, situational 1
    assert (matrix(mx.r1(), value="sources") > 0).sum(axis=1).tolist() == [2, 2, 1]  # files coded


def test_r1_row_and_column_percentages() -> None:
    row = matrix(mx.r1(), value="row-pct")
    assert row.loc["platform"].round(1).tolist() == [33.3, 66.7]
    col = matrix(mx.r1(), value="col-pct")
    assert col["D1"].round(4).tolist() == [round(100 / 3, 4)] * 3
    assert col["D2"].round(4).tolist() == [round(200 / 3, 4), round(100 / 3, 4), 0.0]


def test_r1_coverage_of_platform_is_20_percent_in_both_documents() -> None:
    cov = matrix(mx.r1(), value="coverage")
    assert cov.loc["platform"].tolist() == [20.0, 20.0]


def test_r1_cooccurrence_pairs_and_c_coefficient() -> None:
    counts = cooccurrence(mx.r1())
    assert counts.loc["platform", "user"] == counts.loc["user", "platform"] == 2
    assert counts.loc["platform", "situational"] == 0
    assert [counts.loc[c, c] for c in ("platform", "user", "situational")] == [3, 2, 1]
    c = cooccurrence(mx.r1(), value="c-coefficient")
    assert round(float(c.loc["platform", "user"]), 3) == 0.667  # 2 / (3 + 2 - 2)


def test_c1_published_c_coefficient() -> None:
    assert round(c_coefficient(100, 10, 5), 3) == 0.048


def test_document_cooccurrence_counts_sources_coded_with_both() -> None:
    doc = cooccurrence(mx.r1(), mode="document")
    assert doc.loc["platform", "user"] == 2
    assert doc.loc["platform", "situational"] == doc.loc["user", "situational"] == 1
    assert doc.loc["platform", "platform"] == 2  # diagonal: documents coded


def _two_code_project(ranges: list[tuple[int, int, int]]) -> Project:
    codes = (Code(guid=Guid("00000000-0000-4000-8000-000000000001"), name="a"),
             Code(guid=Guid("00000000-0000-4000-8000-000000000002"), name="b"))
    sels = tuple(
        TextSelection(guid=Guid(f"00000000-0000-4000-8000-1{i:011d}"), start=s, end=e,
                      codings=(Coding(guid=Guid(f"00000000-0000-4000-8000-2{i:011d}"), code=codes[c].guid),))
        for i, (s, e, c) in enumerate(ranges))
    return Project(codes=codes, sources=(TextSource(guid=Guid("00000000-0000-4000-8000-000000000099"),
                                                    name="doc", text="x" * 100, selections=sels),))


def test_touching_passages_do_not_cooccur_but_one_shared_character_does() -> None:
    touching = cooccurrence(_two_code_project([(0, 10, 0), (10, 20, 1)]))
    assert touching.loc["a", "b"] == 0
    sharing = cooccurrence(_two_code_project([(0, 11, 0), (10, 20, 1)]))
    assert sharing.loc["a", "b"] == 1


def test_pair_counting_past_min_is_clamped_and_flagged() -> None:
    # One "a" passage overlaps three "b" passages: n12 = 3 > min(1, 3).
    project = _two_code_project([(0, 50, 0), (0, 5, 1), (10, 15, 1), (20, 25, 1)])
    pairs = pairs_from(build_corpus(project), level=None)
    row = pairs.iloc[0]
    assert (row["n_a"], row["n_b"], row["n_ab"]) == (1, 3, 3)
    assert row["c"] == 1.0 and bool(row["out_of_range"])


# --------------------------------------------------------------------------- independent recomputation


def _ancestor_at(index: ProjectIndex, guid: Guid, depth: int) -> str | None:
    chain = []
    code = index.codes.get(guid)
    while code is not None:
        chain.append(code)
        code = index.parents[code.guid]
    chain.reverse()
    return chain[depth].guid.key if len(chain) > depth else None


def _words(text: str) -> int:
    # The README's word rule restated for the ASCII and CJK of these texts: CJK ideographs one
    # word each; letter/digit runs, joined by ' - . between them or , : between digits.
    alnum = "[A-Za-z0-9]+"
    return len(re.findall(rf"[\u4e00-\u9fff]|{alnum}(?:(?:['\-.]|(?<=[0-9])[,:](?=[0-9])){alnum})*", text))


def _oracle_frame(project: Project, depth: int | None) -> pd.DataFrame:
    index = ProjectIndex(project)
    rows = []
    for seg in segments(project):
        key = seg.code_guid.key if depth is None else _ancestor_at(index, seg.code_guid, depth)
        if key is None:
            continue
        cases = [c.guid.key for c in project.cases if any(s == seg.source_guid for s in c.source_refs)]
        rows.append({"code": key, "source": seg.source_guid.key, "coding": seg.coding_guid.key,
                     "start": seg.start, "end": seg.end, "cases": cases})
    return pd.DataFrame(rows)


def _expected(project: Project, value: str, depth: int | None) -> pd.DataFrame:
    """Code × source cell values recomputed from segments with pandas and character sets."""
    frame = _oracle_frame(project, depth)
    texts = {s.guid.key: s.text or "" for s in project.sources if isinstance(s, TextSource)}
    groups = frame.groupby(["code", "source"])
    refs = groups["coding"].count()
    if value in ("references", "presence", "row-pct", "col-pct"):
        table = refs.unstack(fill_value=0)
    elif value == "sources":
        table = groups["source"].nunique().unstack(fill_value=0)
    elif value == "cases":
        table = frame.explode("cases").dropna(subset=["cases"]).groupby(["code", "source"])["cases"].nunique()
        table = table.unstack(fill_value=0)
    else:
        covered = groups.apply(lambda g: set().union(*(range(s, e) for s, e in zip(g["start"], g["end"],
                                                                                     strict=True))),
                               include_groups=False)
        if value in ("characters", "coverage"):
            table = covered.map(len).unstack(fill_value=0)
        else:  # words: over maximal runs of covered characters
            def words(item: tuple[tuple[str, str], set[int]]) -> int:
                (_, source), chars = item
                text = texts[source]
                runs = "".join(ch if i in chars else "\n" for i, ch in enumerate(text))
                return _words(runs)
            table = pd.Series({k: words((k, v)) for k, v in covered.items()}).unstack(fill_value=0)
    return table


def _check_all_values(project: Project, level: str | None, depth: int | None) -> None:
    sizes = {s.guid.key: len(s.text or "") for s in project.sources if isinstance(s, TextSource)}
    for value in VALUES:
        got = matrix(project, value=value, level=level)
        got.index, got.columns = got.attrs["row_keys"], got.attrs["col_keys"]
        want = _expected(project, value, depth).reindex(index=got.index, columns=got.columns, fill_value=0)
        want = want.fillna(0).astype(float)
        if value == "presence":
            want = (want > 0).astype(float)
        elif value == "coverage":
            want = want * 100.0 / pd.Series(sizes).reindex(got.columns)
        elif value == "row-pct":
            want = want.div(want.sum(axis=1).where(lambda s: s > 0), axis=0).fillna(0) * 100
        elif value == "col-pct":
            want = want.div(want.sum(axis=0).where(lambda s: s > 0), axis=1).fillna(0) * 100
        pd.testing.assert_frame_equal(got.astype(float), want, check_names=False, atol=1e-9, obj=value)


def test_every_value_matches_independent_recomputation_gt_concepts() -> None:
    _check_all_values(mx.gt(), "concepts", 3)


def test_every_value_matches_independent_recomputation_gt_main_rollup() -> None:
    _check_all_values(mx.gt(), "main", 1)


def test_every_value_matches_independent_recomputation_r1_all_codes() -> None:
    _check_all_values(mx.r1(), None, None)


def _study() -> Project:
    if not STUDY.exists():
        pytest.skip("bundled study fixture not built yet")
    return qdx.read(STUDY)


def test_every_value_matches_independent_recomputation_on_the_study() -> None:
    project = _study()
    _check_all_values(project, "concepts", 3)
    _check_all_values(project, "subcategories", 2)


def _codings_in_model(project: Project) -> int:
    return sum(len(sel.codings) for s in project.sources for sel in iter_selections(s)) + sum(
        len(s.codings) for s in project.sources)


def test_study_concept_matrix_total_equals_number_of_codings() -> None:
    project = _study()
    refs = matrix(project, level="concepts")
    assert int(refs.to_numpy().sum()) == _codings_in_model(project)
    assert refs.shape == (40, 20)  # the paper's 40 concepts × 20 interviews


# --------------------------------------------------------------------------- axes, levels, filters


def test_level_rollup_sums_children_and_keeps_category_codings() -> None:
    project = mx.gt()
    concepts = matrix(project, level="concepts")
    subs = matrix(project, level="subcategories")
    assert int(concepts.to_numpy().sum()) == 14  # the coding on "sub 4" is above the concept level
    assert int(subs.to_numpy().sum()) == 15
    assert subs.loc["sub 1"].tolist() == (concepts.loc["concept 1"] + concepts.loc["concept 2"]).tolist()
    assert matrix(project, level="core").to_numpy().sum() == 15


def test_cases_and_variable_axes() -> None:
    project = mx.gt()
    by_case = matrix(project, cols="cases", level="main")
    assert list(by_case.columns) == ["P1", "P2", "P3"]
    by_gender = matrix(project, cols="variable:gender", level="main")
    assert list(by_gender.columns) == ["female", "male"]
    assert by_gender["female"].tolist() == (by_case["P1"] + by_case["P3"]).tolist()
    by_age = matrix(project, rows="variable:age", cols="sources", value="presence")
    assert list(by_age.index) == ["21", "24", "29"]  # numeric order
    assert by_age.to_numpy().tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    coverage = matrix(project, cols="variable:gender", value="coverage", level="core")
    female_chars = len(project.sources[0].text or "") + len(project.sources[2].text or "")
    chars = matrix(project, cols="variable:gender", value="characters", level="core")
    assert coverage.loc["privacy paradox behaviour", "female"] == pytest.approx(
        100.0 * chars.loc["privacy paradox behaviour", "female"] / female_chars)


def test_set_and_coder_filters() -> None:
    project = mx.gt()
    platform = matrix(project, level="concepts", set_name="platform only")
    assert platform.loc[["concept 5", "concept 6", "concept 7", "concept 8"]].to_numpy().sum() == 0
    assert platform.to_numpy().sum() == 8  # codings of concepts 1-4
    first_two = matrix(project, level="core", set_name="first two")
    # The set names two sources: the third is outside the filter, so it is no column at all.
    assert "Interview 3" not in first_two.columns and first_two.to_numpy().sum() == 10
    bob = matrix(project, level="core", coder="bob")
    assert bob.to_numpy().sum() == 5


@pytest.mark.parametrize("kwargs", [
    {"rows": "nonsense"}, {"value": "median"}, {"cols": "variable:height"}, {"set_name": "missing"},
    {"level": "leaves"}, {"rows": "codes", "cols": "codes", "value": "words"},
    {"cols": "codes", "rows": "sources", "value": "c-coefficient"},
])
def test_bad_requests_raise_usage_errors(kwargs: dict[str, str]) -> None:
    with pytest.raises(UsageError):
        matrix(mx.gt(), **kwargs)


def test_core_level_needs_a_single_root() -> None:
    with pytest.raises(UsageError, match="no core level"):
        matrix(mx.r1(), level="core")


def test_inputs_are_not_mutated() -> None:
    project = mx.gt()
    before = copy.deepcopy(project)
    for value in VALUES:
        matrix(project, value=value, cols="cases")
    cooccurrence(project, level="subcategories", value="c-coefficient")
    assert project == before


def test_code_by_code_through_matrix_is_cooccurrence() -> None:
    via_matrix = matrix(mx.r1(), rows="codes", cols="codes")
    pd.testing.assert_frame_equal(via_matrix, cooccurrence(mx.r1()))


# --------------------------------------------------------------------------- properties


@st.composite
def _random_projects(draw: st.DrawFn) -> Project:
    n_codes = draw(st.integers(1, 4))
    codes = tuple(Code(guid=Guid(f"00000000-0000-4000-8000-c{i:011d}"), name=f"c{i}") for i in range(n_codes))
    sources = []
    n = 0
    for d in range(draw(st.integers(1, 3))):
        sels = []
        for _ in range(draw(st.integers(0, 6))):
            start = draw(st.integers(0, 40))
            end = draw(st.integers(start, 50))
            n += 1
            sels.append(TextSelection(guid=Guid(f"00000000-0000-4000-8000-s{n:011d}"), start=start, end=end,
                                      codings=(Coding(guid=Guid(f"00000000-0000-4000-8000-k{n:011d}"),
                                                      code=codes[draw(st.integers(0, n_codes - 1))].guid),)))
        sources.append(TextSource(guid=Guid(f"00000000-0000-4000-8000-d{d:011d}"), name=f"d{d}",
                                  text="word " * 10, selections=tuple(sels)))
    return Project(codes=codes, sources=tuple(sources))


@settings(max_examples=40, deadline=None)
@given(_random_projects())
def test_matrix_invariants(project: Project) -> None:
    refs = matrix(project)
    assert int(refs.to_numpy().sum()) == _codings_in_model(project)
    assert ((matrix(project, value="presence") == (refs > 0).astype(int)).all()).all()
    rows = matrix(project, value="row-pct").sum(axis=1)
    assert all(abs(v - 100) < 1e-9 or v == 0 for v in rows)
    coverage = matrix(project, value="coverage")
    assert ((coverage >= 0) & (coverage <= 100)).all().all()
    co = cooccurrence(project)
    assert (co.to_numpy() == co.to_numpy().T).all()
    c = cooccurrence(project, value="c-coefficient")
    assert ((c >= 0) & (c <= 1)).all().all()


# --------------------------------------------------------------------------- CLI and NVivo layout


@pytest.fixture()
def gt_file(tmp_path: Path) -> Path:
    path = tmp_path / "gt.qdpx"
    qdx.write(mx.gt(), path)
    return path


def test_cli_json(gt_file: Path) -> None:
    from qdx.cli import main

    result = CliRunner().invoke(main, ["matrix", str(gt_file), "--level", "main", "--cols", "cases", "--json"])
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.output)
    assert data["rows"] == ["platform factors", "user factors"]
    assert data["cols"] == ["P1", "P2", "P3"]
    assert sum(map(sum, data["values"])) == 15


def test_cli_usage_error_exits_2(gt_file: Path) -> None:
    from qdx.cli import main

    result = CliRunner().invoke(main, ["matrix", str(gt_file), "--rows", "leaves"])
    assert result.exit_code == 2
    assert "unknown matrix axis" in result.output


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".parquet"])
def test_cli_writes_each_format(gt_file: Path, tmp_path: Path, suffix: str) -> None:
    from qdx.cli import main

    out = tmp_path / f"m{suffix}"
    result = CliRunner().invoke(main, ["matrix", str(gt_file), "--level", "concepts", "-o", str(out)])
    assert result.exit_code == 0, result.output
    if suffix == ".parquet":
        back = pd.read_parquet(out)
    elif suffix == ".csv":
        back = pd.read_csv(out, encoding="utf-8-sig")
    else:  # row 1: the caption; then level columns, one per source, Total; a Total row
        back = pd.read_excel(out, sheet_name="Matrix", header=1)
        assert list(back.columns[:3]) == ["main category", "subcategory", "concept"]
        assert back.iloc[-1, 0] == "Total" and back.columns[-1] == "Total"
        assert int(back.iloc[-1, -1]) == 14
        back = back.iloc[:-1, 2:-1]
    assert back.shape == (8, 4)
    assert int(back.iloc[:, 1:].to_numpy().sum()) == 14


@pytest.mark.parametrize("value", ["references", "sources", "presence", "coverage"])
def test_nvivo_layout_reads_back_through_the_nvivo_reader(gt_file: Path, tmp_path: Path, value: str) -> None:
    from qdx.cli import main
    from qdx.formats.nvivo.matrix import read_matrix

    out = tmp_path / "nvivo.xlsx"
    args = ["matrix", str(gt_file), "--level", "concepts", "--value", value, "--layout", "nvivo", "-o", str(out)]
    assert CliRunner().invoke(main, args).exit_code == 0
    expected = matrix(qdx.read(gt_file), level="concepts", value=value)
    with out.open("rb") as stream:
        back = read_matrix(stream)
    assert back.attrs["layout"] == "matrix"
    assert list(back.index) == list(expected.index) and list(back.columns) == list(expected.columns)
    assert back.to_numpy().ravel().tolist() == pytest.approx(expected.to_numpy().ravel().tolist())
    from openpyxl import load_workbook

    ws = load_workbook(out).active
    assert ws is not None
    assert ws["A1"].value is None and ws["B1"].value == "A : Interview 1" and ws["A2"].value == "1 : concept 1"


def test_nvivo_layout_prints_on_a4_with_its_labels_repeated(tmp_path: Path) -> None:
    """NVivo's cells unchanged, but the workbook prints: A4, header row and label column on every page."""
    from openpyxl import load_workbook

    from qdx.cli import main

    out = tmp_path / "nvivo.xlsx"
    args = ["matrix", str(STUDY), "--rows", "codes", "--cols", "sources", "--layout", "nvivo", "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    ws = load_workbook(out).active
    assert ws is not None
    assert int(ws.page_setup.paperSize or 0) == 9  # A4 in ECMA-376 ST_PaperSize
    assert ws.page_setup.orientation == ("landscape" if ws.max_column - 1 > 6 else "portrait")
    assert ws.print_title_rows == "$1:$1" and ws.print_title_cols == "$A:$A"
    assert ws.oddHeader.center.text == "&A" and "&P" in (ws.oddFooter.center.text or "")
    labels = [str(ws.cell(row, 1).value) for row in range(2, ws.max_row + 1)]
    assert ws.column_dimensions["A"].width >= min(60, max(len(label) for label in labels))
    for column in range(2, ws.max_column + 1):  # captions wrap and no word is wider than its column
        caption = ws.cell(1, column)
        assert caption.alignment.wrap_text
        longest_word = max(len(word) for word in str(caption.value).split())
        assert ws.column_dimensions[caption.column_letter].width >= longest_word


def test_nvivo_layout_csv_and_hostile_labels(tmp_path: Path) -> None:
    import dataclasses

    from qdx.report.output import write_matrix

    project = mx.r1()
    project = dataclasses.replace(project, codes=(Code(guid=project.codes[0].guid, name="=1+1"),
                                                  *project.codes[1:]))
    frame = matrix(project)
    write_matrix(frame, tmp_path / "n.csv", layout="nvivo")
    rows = list(csv.reader(io.StringIO((tmp_path / "n.csv").read_text(encoding="utf-8-sig"))))
    assert rows[:2] == [["", "A : D1", "B : D2"], ["1 : =1+1", "1", "2"]]  # "1 : " already defuses it
    write_matrix(frame, tmp_path / "q.csv")
    lines = (tmp_path / "q.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[1] == '"\'=1+1",1,2'  # apostrophe, and quoted as all text cells are
    with pytest.raises(UsageError):
        write_matrix(frame, tmp_path / "n.parquet", layout="nvivo")


@settings(max_examples=40, deadline=None)
@given(_random_projects())
def test_overlap_counts_equal_brute_force_pairs(project: Project) -> None:
    # O(n²) over every pair of codings in the same document, different codes, sharing ≥ 1 character.
    segs = [s for s in segments(project) if s.start is not None and s.end is not None]
    expected: dict[tuple[str, str], int] = {}
    for i, a in enumerate(segs):
        for b in segs[i + 1:]:
            if a.source_guid == b.source_guid and a.code_guid != b.code_guid and \
                    max(a.start, b.start) < min(a.end, b.end):  # type: ignore[type-var]
                key = tuple(sorted((a.code, b.code)))
                expected[key] = expected.get(key, 0) + 1  # type: ignore[index]
    co = cooccurrence(project)
    for a in co.index:
        for b in co.columns:
            if a < b:
                assert co.loc[a, b] == expected.get((a, b), 0), (a, b)


def test_c_coefficients_are_the_scalar_rule_element_by_element() -> None:
    """The array form the pairs table uses gives c_coefficient's floats, bit for bit, over every
    case: nothing in common (0), the published C1 example (5/105), n12 past min(n1, n2) (clamped
    to 1) and a zero denominator."""
    import itertools

    import numpy as np

    from qdx.analysis.cooccurrence import c_coefficients

    triples = [(n1, n2, n12) for n1, n2, n12 in itertools.product(range(0, 13), range(0, 13), range(0, 15))]
    triples.append((100, 10, 5))
    n1, n2, n12 = (np.array(column, dtype=np.int64) for column in zip(*triples, strict=True))
    got = c_coefficients(n1, n2, n12).tolist()
    assert got == [c_coefficient(*t) for t in triples]
    assert got[-1] == 5 / 105
