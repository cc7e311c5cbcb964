"""Tidy DataFrames (qdx.frames) and their parquet/csv export."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from click.testing import CliRunner

import qdx
from qdx.errors import UsageError
from qdx.report.frames import frames
from qdx.report.output import export_tables
from tests.conftest import load_module

HERE = Path(__file__).resolve().parent
STUDY = HERE.parent / "fixtures" / "wechat-moments" / "project.qdpx"


def _helper() -> ModuleType:
    return load_module(HERE / "_mx_projects.py", "_mx_projects")


mx = _helper()


def test_public_api_name() -> None:
    assert qdx.frames is frames


def test_segments_one_row_per_coding_with_levels_and_labels() -> None:
    seg = frames(mx.gt()).segments
    assert len(seg) == 15
    first = seg.iloc[0]
    assert first["source"] == "Interview 1"
    assert first["labels"] == "A-1-1" and first["label_first"] == first["label_last"] == "A-1-1"
    assert (first["core"], first["main_category"], first["subcategory"], first["concept"]) == (
        "privacy paradox behaviour", "platform factors", "sub 1", "concept 1")
    assert first["text"] == mx.LINES[1][0]
    assert first["characters"] == len(mx.LINES[1][0])
    assert first["coder"] == "alice" and first["cases"] == "P1"
    on_sub = seg[seg["code"] == "sub 4"].iloc[0]
    assert pd.isna(on_sub["concept"]) and on_sub["subcategory"] == "sub 4"
    assert on_sub["labels"] == "A-3-1 A-3-2"  # the passage runs into the next line
    chinese = seg[seg["text"] == mx.LINES[1][2]].iloc[0]
    assert chinese["words"] == 10  # ten CJK characters, one word each


def test_codes_counts_own_and_rolled_up() -> None:
    codes = frames(mx.gt()).codes.set_index("name")
    assert codes.loc["privacy paradox behaviour", "references"] == 0
    assert codes.loc["privacy paradox behaviour", "references_total"] == 15
    assert codes.loc["privacy paradox behaviour", "sources_total"] == 3
    assert codes.loc["sub 4", "references"] == 1
    # sub 4 = its own coding + concept 7 (lines A-1-4, A-3-1) + concept 8 (A-2-3 by both coders)
    assert codes.loc["sub 4", "references_total"] == 5
    assert codes.loc["concept 8", "references"] == 2 and codes.loc["concept 7", "references"] == 2
    assert codes.loc["concept 1", "level"] == "concept" and codes.loc["concept 1", "depth"] == 3
    assert codes.loc["concept 1", "path"] == "privacy paradox behaviour > platform factors > sub 1 > concept 1"


def test_sources_cases_and_codings() -> None:
    tables = frames(mx.gt())
    sources = tables.sources.set_index("name")
    assert sources.loc["Interview 3", "codings"] == 5 and sources.loc["Interview 3", "selections"] == 5
    cases = tables.cases.set_index("name")
    assert cases.loc["P2", "gender"] == "male" and cases.loc["P2", "age"] == 24  # typed Integer
    assert cases.loc["P2", "source_names"] == "Interview 2"
    codings = tables.codings
    assert len(codings) == 15 and codings["coding_guid"].is_unique
    assert set(codings["coder"]) == {"alice", "bob"}


def test_filters() -> None:
    assert len(frames(mx.gt(), coder="bob").segments) == 5
    assert len(frames(mx.gt(), set_name="platform only").segments) == 8
    with pytest.raises(UsageError):
        frames(mx.gt(), set_name="nope")


@pytest.mark.parametrize("to", ["parquet", "csv"])
def test_export_round_trip(tmp_path: Path, to: str) -> None:
    tables = frames(mx.gt())
    written = export_tables(tables, tmp_path / "out", to=to)
    assert [p.name for p in written] == [f"{n}.{to}" for n in ("codes", "sources", "cases", "segments", "codings")]
    for path, (name, frame) in zip(written, tables.tables().items(), strict=True):
        back = pd.read_parquet(path) if to == "parquet" else pd.read_csv(path)
        assert len(back) == len(frame), name
        assert list(back.columns) == list(frame.columns), name
    segments = pd.read_parquet(written[3]) if to == "parquet" else pd.read_csv(written[3])
    texts = set(segments["text"])
    formula = '=HYPERLINK("http://x","y")'
    # parquet keeps the exact text; csv neutralises it so a spreadsheet cannot run it
    assert (formula in texts) == (to == "parquet")
    assert ("'" + formula in texts) == (to == "csv")


def test_duckdb_style_query_over_parquet(tmp_path: Path) -> None:
    written = export_tables(frames(mx.gt()), tmp_path, to="parquet")
    seg = pd.read_parquet(written[3])
    per_main = seg.groupby("main_category").size().to_dict()
    assert per_main == {"platform factors": 8, "user factors": 7}


def test_cli_export(tmp_path: Path) -> None:
    from qdx.cli import main

    project = tmp_path / "gt.qdpx"
    qdx.write(mx.gt(), project)
    result = CliRunner().invoke(main, ["export", str(project), "--to", "parquet", str(tmp_path / "t"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["rows"]["segments"] == 15 and len(data["files"]) == 5


def test_study_frames_agree_with_segments() -> None:
    if not STUDY.exists():
        pytest.skip("bundled study fixture not built yet")
    project = qdx.read(STUDY)
    tables = frames(project)
    assert len(tables.segments) == len(qdx.segments(project))
    assert set(tables.codes["level"]) == {"core", "main_category", "subcategory", "concept"}
    assert (tables.codes["level"] == "concept").sum() == 40
    assert tables.segments["concept"].notna().all()
