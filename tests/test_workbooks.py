"""Every workbook qdx writes, read back from the file (openpyxl, never the builder's objects).

Issue 16: each sheet prints (A4, landscape when wide, one page wide or at least 70 %, header
row repeated, header/footer naming project and sheet), has a named font, number formats,
an autofilter that stops above total rows and creator "qdx"; the standalone matrix and the
report's Matrix agree, number for number, with a pandas recomputation from ``qdx segments``,
with and without ``--set``/``--coder`` filters.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

import qdx
import qdx.model
from qdx.cli import main
from tests.conftest import load_module

HERE = Path(__file__).resolve().parent
STUDY = HERE.parent / "fixtures" / "wechat-moments"
MIN_SCALE = 70


def _mx() -> ModuleType:
    return load_module(HERE / "_mx_projects.py", "_mx_projects")


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code in (0, 1), result.output
    return result.output


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if not (STUDY / "coder-b.qdpx").exists():
        pytest.skip("the bundled study is not generated")
    folder = tmp_path_factory.mktemp("books")
    a, b = str(STUDY / "project.qdpx"), str(STUDY / "coder-b.qdpx")
    out = {name: folder / f"{name}.xlsx" for name in ("report", "matrix", "segments", "agreement", "audit")}
    _run("report", a, "--compare", b, "-o", str(out["report"]))
    _run("matrix", a, "-o", str(out["matrix"]))
    _run("segments", a, "-o", str(out["segments"]))
    _run("agree", a, b, "-o", str(out["agreement"]))
    _run("audit", a, "-o", str(out["audit"]))
    return out


def _header_row(ws: Worksheet) -> int:
    """The header is row 1, or row 2 under a caption (the frozen pane starts below it)."""
    assert ws.freeze_panes is not None
    return int(re.sub(r"[A-Z]+", "", ws.freeze_panes)) - 1


def _check_print_setup(ws: Worksheet, where: str) -> None:
    setup = ws.page_setup
    assert setup.paperSize in (9, "9"), where
    assert setup.orientation in ("landscape", "portrait"), where
    fit = ws.sheet_properties.pageSetUpPr is not None and ws.sheet_properties.pageSetUpPr.fitToPage
    if fit:  # one page wide, as many tall as needed
        assert (int(setup.fitToWidth or 1), int(setup.fitToHeight or 0)) == (1, 0), where
    else:  # too wide to fit readably: a fixed, readable scale
        assert int(setup.scale or 100) >= MIN_SCALE, where
    head = _header_row(ws)
    assert ws.print_title_rows == f"${head}:${head}", where
    assert ws.title in ws.oddHeader.right.text, where
    assert "&P" in (ws.oddFooter.right.text or ""), where


def test_every_sheet_of_every_workbook_prints(books: dict[str, Path]) -> None:
    for name, path in books.items():
        book = load_workbook(path)
        assert book.properties.creator == "qdx", name
        for ws in book.worksheets:
            where = f"{name}:{ws.title}"
            _check_print_setup(ws, where)
            head = _header_row(ws)
            first = ws.cell(row=head, column=1)
            assert first.font.b and first.font.name == "Arial", where
            assert first.fill.fgColor.rgb.endswith("DDEBF7"), where
            widths = [ws.column_dimensions[c].width for c in "ABC" if c in ws.column_dimensions]
            assert all(w and 5 <= w <= 81 for w in widths), where


def test_landscape_for_wide_sheets_and_label_columns_repeat_when_split(books: dict[str, Path]) -> None:
    book = load_workbook(books["report"])
    overview = book["Overview"]  # two columns: one page wide (its long sentences wrap), never split
    assert overview.sheet_properties.pageSetUpPr.fitToPage and overview.page_setup.fitToWidth in (None, 1)
    matrix = book["Matrix"]  # 20 sources: too wide for one page at 70 %
    assert matrix.page_setup.orientation == "landscape"
    assert int(matrix.page_setup.scale) == MIN_SCALE and matrix.print_title_cols == "$A:$C"
    codebook = book["Codebook"]
    assert codebook.page_setup.orientation == "landscape" and codebook.sheet_properties.pageSetUpPr.fitToPage


def test_autofilters_stop_above_total_rows(books: dict[str, Path]) -> None:
    report = load_workbook(books["report"])
    for title in ("Matrix", "Coverage", "Agreement"):
        ws = report[title]
        last = max(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=1).value in ("Total", "Any code",
                                                                                               "Overall"))
        ref = ws.auto_filter.ref
        assert ref and int(re.findall(r"\d+", ref)[-1]) == last - 1, (title, ref, last)
    matrix = load_workbook(books["matrix"])["Matrix"]
    total = next(r for r in range(1, matrix.max_row + 1) if matrix.cell(row=r, column=1).value == "Total")
    assert matrix.auto_filter.ref == f"A2:{matrix.cell(row=2, column=matrix.max_column).column_letter}{total - 1}"


def test_number_formats(books: dict[str, Path]) -> None:
    report = load_workbook(books["report"])
    assert report["Coverage"]["B2"].number_format == "0.0%"
    assert report["Co-occurrence"]["G2"].number_format == "0.000"
    agreement = report["Agreement"]
    header = [c.value for c in agreement[1]]
    assert agreement.cell(row=2, column=header.index("agreement") + 1).number_format == "0.0%"
    assert agreement.cell(row=2, column=header.index("kappa (pooled)") + 1).number_format == "0.00"
    comparison = load_workbook(books["agreement"])["Coding Comparison"]
    assert comparison["E2"].number_format == "0.0%" and 0 <= comparison["E2"].value <= 1


def test_codebook_has_the_full_path_on_every_row_and_colours_as_fills(books: dict[str, Path]) -> None:
    ws = load_workbook(books["report"])["Codebook"]
    header = [c.value for c in ws[1]]
    code, path, colour = header.index("code"), header.index("code path"), header.index("colour")
    project = qdx.read(STUDY / "project.qdpx")
    rows = [r for r in ws.iter_rows(min_row=2) if r[code].value]
    assert len(rows) == len(list(qdx.model.iter_codes(project.codes)))
    for row in rows:
        assert row[path].value.split(" > ")[-1] == row[code].value
        hexcolour = row[colour].value
        if hexcolour:
            assert row[colour].fill.fgColor.rgb[-6:].upper() == hexcolour.lstrip("#")[:6].upper()
    assert any(r[colour].value for r in rows)


def test_disagreements_are_whole_passages_side_by_side(books: dict[str, Path]) -> None:
    ws = load_workbook(books["agreement"])["Disagreements"]
    header = [c.value for c in ws[1]]
    assert header[4].startswith("A: ") and header[5].startswith("B: ")
    rows = [r for r in ws.iter_rows(min_row=2) if r[1].value]
    assert rows
    texts = [len(r[i].value) for r in rows for i in (4, 5) if r[i].value]
    # The old sheet listed slivers (111 of 281 rows under 10 characters); passages are whole.
    assert sum(n < 10 for n in texts) <= len(texts) // 20
    assert all(r[i].alignment.wrap_text for r in rows for i in (4, 5) if r[i].value)


def test_audit_with_no_findings_says_so(tmp_path: Path) -> None:
    from qdx.report.analysis_sheets import write_audit

    out = tmp_path / "audit.xlsx"
    with out.open("wb") as stream:
        write_audit([], stream, project="p")
    ws = load_workbook(out)["Audit"]
    assert [c.value for c in ws[1] if c.value is not None][-1] == "Message"
    assert any("No findings" in str(c.value) for c in ws["A"])


# --------------------------------------------------------------------------- numbers vs pandas


def _segments(path: Path) -> pd.DataFrame:
    frame = pd.DataFrame(json.loads(_run("segments", str(path), "--json")))
    frame["path"] = frame["code_path"].map(tuple)
    return frame


def _sheet(path: Path, title: str = "Matrix") -> tuple[list[str], list[list[object]]]:
    ws = load_workbook(path)[title]
    head = _header_row(ws)
    header = [c.value for c in ws[head]]
    rows = [list(r) for r in ws.iter_rows(min_row=head + 1, values_only=True) if any(v is not None for v in r)]
    rows = [r for r in rows if not (isinstance(r[0], str) and r[1:] == [None] * (len(r) - 1))]  # notes
    return header, rows


def _rollup_oracle(segs: pd.DataFrame, sources: list[str]) -> dict[tuple[str, ...], dict[str, int]]:
    """Per code path prefix (every category and code), codings per source: pandas, no qdx."""
    exploded = segs.assign(prefix=segs["path"].map(lambda p: [p[: i + 1] for i in range(len(p))])).explode("prefix")
    counts = exploded.groupby(["prefix", "source"]).size()
    return {prefix: {s: int(counts.get((prefix, s), 0)) for s in sources}
            for prefix in exploded["prefix"].unique()}


def _check_rollup_matrix(out: Path, segs: pd.DataFrame, sources: list[str]) -> None:
    header, rows = _sheet(out)
    levels = header.index(sources[0]) if sources else header.index("Total")
    assert header[levels:] == [*sources, "Total"]
    oracle = _rollup_oracle(segs, sources)
    *body, total = rows
    for row in body:
        prefix = tuple(v for v in row[:levels] if v is not None)
        expected = oracle.get(prefix, dict.fromkeys(sources, 0))
        assert row[levels:-1] == [expected[s] for s in sources], prefix
        assert row[-1] == sum(expected.values()), prefix  # a code's codings, each once
    assert total[0] == "Total"
    assert total[levels:-1] == [int((segs["source"] == s).sum()) for s in sources]
    assert total[-1] == len(segs)


def test_standalone_matrix_matches_pandas_from_segments(tmp_path: Path) -> None:
    path = STUDY / "project.qdpx"
    if not path.exists():
        pytest.skip("the bundled study is not generated")
    target = tmp_path / "m.xlsx"
    _run("matrix", str(path), "-o", str(target))
    _check_rollup_matrix(target, _segments(path), [s.name for s in qdx.read(path).sources])


def test_standalone_matrix_with_a_set_filter_states_it_and_drops_excluded_sources(tmp_path: Path) -> None:
    path = STUDY / "project.qdpx"
    if not path.exists():
        pytest.skip("the bundled study is not generated")
    project = qdx.read(path)
    chosen = next(s for s in project.sets if s.name == "Saturation sample")
    members = {str(g).lower() for g in chosen.member_sources}
    sources = [s.name for s in project.sources if str(s.guid).lower() in members]
    segs = _segments(path)
    segs = segs[segs["source"].isin(sources)]
    target = tmp_path / "m.xlsx"
    _run("matrix", str(path), "--set", "Saturation sample", "-o", str(target))
    ws = load_workbook(target)["Matrix"]
    assert "set 'Saturation sample'" in ws["A1"].value and "columns outside it dropped" in ws["A1"].value
    _check_rollup_matrix(target, segs, sources)


def test_standalone_matrix_with_a_coder_filter(tmp_path: Path) -> None:
    mx = _mx()
    path = tmp_path / "gt.qdpx"
    qdx.write(mx.gt(), path)
    segs = _segments(path)
    bob = segs[segs["coder"] == "bob"]
    sources = [s for s in dict.fromkeys(s.name for s in mx.gt().sources) if s in set(bob["source"])]
    target = tmp_path / "m.xlsx"
    _run("matrix", str(path), "--coder", "bob", "-o", str(target))
    assert "coder 'bob'" in load_workbook(target)["Matrix"]["A1"].value
    _check_rollup_matrix(target, bob, sources)


def test_report_matrix_matches_pandas_from_segments(books: dict[str, Path]) -> None:
    segs = _segments(STUDY / "project.qdpx")
    sources = [s.name for s in qdx.read(STUDY / "project.qdpx").sources]
    header, rows = _sheet(books["report"])
    levels = header.index(sources[0])
    core = segs["path"].iloc[0][0]
    *body, total = rows
    for row in body:
        labels = tuple(v for v in row[:levels] if v is not None)
        full = (core, *labels)
        if len(labels) == levels:  # a concept: its codings and everything below it
            mask = segs["path"].map(lambda p, f=full: p[: len(f)] == f)
        else:  # a category coded directly: only its own codings
            mask = segs["path"].map(lambda p, f=full: p == f)
        counts = segs[mask].groupby("source").size()
        assert row[levels:-1] == [int(counts.get(s, 0)) for s in sources], labels
        assert row[-1] == int(mask.sum())
    assert total[levels:-1] == [int((segs["source"] == s).sum()) for s in sources]
    assert total[-1] == len(segs)


def test_csv_outputs_carry_a_bom_unless_told_not_to(tmp_path: Path) -> None:
    path = str(STUDY / "project.qdpx")
    if not Path(path).exists():
        pytest.skip("the bundled study is not generated")
    for args, name in ((["segments", path, "-o"], "s.csv"), (["matrix", path, "-o"], "m.csv")):
        with_bom, without = tmp_path / name, tmp_path / f"plain-{name}"
        _run(*args, str(with_bom))
        _run(*args[:-1], "--no-bom", "-o", str(without))
        assert with_bom.read_bytes().startswith(b"\xef\xbb\xbf")
        assert not without.read_bytes().startswith(b"\xef\xbb\xbf")
        assert with_bom.read_bytes()[3:] == without.read_bytes()
    _run("export", path, str(tmp_path / "t"), "--to", "csv")
    assert (tmp_path / "t" / "segments.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_report_options_filter_the_counts_and_say_so(tmp_path: Path) -> None:
    """`qdx report --coder/--set`: Matrix numbers are the filtered recount, the filter is on
    the sheet and the Overview; `--holdout-set` names the saturation sample."""
    mx = _mx()
    path = tmp_path / "gt.qdpx"
    qdx.write(mx.gt(), path)
    segs = _segments(path)
    out = tmp_path / "r.xlsx"
    _run("report", str(path), "--coder", "bob", "--set", "first two", "--holdout-set", "first two", "-o", str(out))
    project = mx.gt()
    members = {str(g).lower() for s in project.sets if s.name == "first two" for g in s.member_sources}
    names = [s.name for s in project.sources if str(s.guid).lower() in members]
    kept = segs[(segs["coder"] == "bob") & segs["source"].isin(names)]
    book = load_workbook(out)
    assert "coder 'bob'" in book["Matrix"]["A1"].value and "set 'first two'" in book["Matrix"]["A1"].value
    facts = {r[0]: r[1] for r in book["Overview"].iter_rows(min_row=2, values_only=True)}
    assert facts["Filter"] == "only codings of set 'first two' and coder 'bob'"
    header, rows = _sheet(out)
    sources = [s for s in names if s in header]
    assert sources == [h for h in header if h in names]  # sources outside the set: no column
    assert rows[-1][0] == "Total" and rows[-1][-1] == len(kept)
    assert rows[-1][header.index(sources[0]):-1] == [int((kept["source"] == s).sum()) for s in sources]
    assert any("set 'first two'" in str(n) for n in (c.value for c in book["Saturation"]["A"]))


def test_report_refuses_an_unknown_holdout_set(tmp_path: Path) -> None:
    mx = _mx()
    path = tmp_path / "gt.qdpx"
    qdx.write(mx.gt(), path)
    result = CliRunner().invoke(main, ["report", str(path), "--holdout-set", "nope", "-o", str(tmp_path / "r.xlsx")])
    assert result.exit_code == 2 and "no set named 'nope'" in result.output
    assert not (tmp_path / "r.xlsx").exists()
