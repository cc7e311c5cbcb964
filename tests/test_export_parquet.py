"""``qdx export PATH DIR --to parquet``: every cell recomputed from the project itself.

The oracle walks the model directly (sources, selections, codings, the code tree, users and
cases) with plain Python, counting words with ``count_words`` on each passage's own text; it
shares no code with the tables qdx builds (qdx.segment, the corpus, qdx/report/frames.py).
The command's files must also equal what ``export_tables(frames(project))`` writes.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from types import ModuleType

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import qdx
from qdx.analysis._codings import count_words
from qdx.model import Case, Code, Guid, Project, TextSource
from qdx.report.frames import frames
from qdx.report.output import export_tables
from tests.conftest import load_module

HERE = Path(__file__).resolve().parent
STUDY = HERE.parent / "fixtures" / "wechat-moments" / "project.qdpx"
TABLES = ("codes", "sources", "cases", "segments", "codings")


def _helper() -> ModuleType:
    return load_module(HERE / "_mx_projects.py", "_mx_projects")


def _project(which: str, tmp_path: Path) -> Path:
    if which == "study":
        if not STUDY.exists():
            pytest.skip("bundled study fixture not built yet")
        return STUDY
    project = _helper().gt()
    # A second case holding the first interview and one passage of the second, so a passage
    # can belong to two cases (the cases column joins them) and a case to a selection alone.
    first, second = project.sources[0], project.sources[1]
    both = Case(guid=Guid("00000000-0000-4000-8000-999999999999"), name="pilot", source_refs=(first.guid,),
                selection_refs=(second.selections[0].guid,))
    path = tmp_path / "gt.qdpx"
    qdx.write(dataclasses.replace(project, cases=(*project.cases, both)), path)
    return path


def _export(path: Path, out: Path, options: list[str] | None = None) -> dict[str, list[dict[str, object]]]:
    from qdx.cli import main

    result = CliRunner().invoke(main, ["export", str(path), str(out), "--to", "parquet", *(options or [])])
    assert result.exit_code == 0, result.output
    return {name: pq.read_table(out / f"{name}.parquet").to_pylist() for name in TABLES}


def _codes(project: Project) -> dict[str, tuple[str, ...]]:
    """Each code's path of names from the root, by lower-case GUID."""
    paths: dict[str, tuple[str, ...]] = {}

    def walk(code: Code, above: tuple[str, ...]) -> None:
        paths.setdefault(str(code.guid).lower(), (*above, code.name))
        for child in code.children:
            walk(child, (*above, code.name))

    for root in project.codes:
        walk(root, ())
    return paths


def _expected_segments(project: Project) -> list[dict[str, object]]:
    paths = _codes(project)
    users = {str(u.guid).lower(): u.name for u in project.users}
    rows: list[dict[str, object]] = []
    for source in project.sources:
        assert isinstance(source, TextSource) and source.text is not None
        text = source.text
        for sel in sorted(source.selections, key=lambda s: s.start):  # document order (a stable sort)
            for coding in sel.codings:
                path = paths[str(coding.code).lower()]
                cases = [c.name for c in project.cases
                         if any(str(r).lower() == str(source.guid).lower() for r in c.source_refs)
                         or any(str(r).lower() == str(sel.guid).lower() for r in c.selection_refs)]
                rows.append({
                    "source": source.name, "source_guid": str(source.guid), "selection": str(sel.guid),
                    "start": sel.start, "end": sel.end, "characters": sel.end - sel.start,
                    "words": count_words(text[sel.start:sel.end]), "code": path[-1], "code_guid": str(coding.code),
                    "code_path": " > ".join(path), "coder": users[str(coding.creating_user).lower()],
                    "coding_guid": str(coding.guid), "cases": "; ".join(str(c) for c in cases),
                    "text": text[sel.start:sel.end],
                    "_user_guid": str(coding.creating_user), "_created": coding.creation_datetime,
                })
        assert not source.codings  # neither project codes a whole source
    return rows


@pytest.mark.parametrize("which", ["gt", "study"])
def test_parquet_cells_match_a_recomputation_from_the_model(tmp_path: Path, which: str) -> None:
    path = _project(which, tmp_path)
    project = qdx.read(path)
    got = _export(path, tmp_path / "out")
    expected = _expected_segments(project)
    assert len(expected) > 10
    checked = [key for key in expected[0] if not key.startswith("_")]
    assert [{k: row[k] for k in checked} for row in got["segments"]] == [{k: row[k] for k in checked}
                                                                         for row in expected]
    assert got["codings"] == [{
        "coding_guid": row["coding_guid"], "code_guid": row["code_guid"], "source_guid": row["source_guid"],
        "selection_guid": row["selection"], "user_guid": row["_user_guid"], "coder": row["coder"],
        "creation_datetime": row["_created"]} for row in expected]
    sources = {row["guid"]: row for row in got["sources"]}
    for source in project.sources:
        assert isinstance(source, TextSource) and source.text is not None
        row = sources[str(source.guid)]
        assert (row["characters"], row["words"], row["selections"], row["codings"]) == (
            len(source.text), count_words(source.text), len(source.selections),
            sum(len(sel.codings) for sel in source.selections))
    _check_codes(project, got["codes"], expected)


def _check_codes(project: Project, codes: list[dict[str, object]], segments: list[dict[str, object]]) -> None:
    paths = _codes(project)
    refs = Counter(str(row["code_guid"]).lower() for row in segments)
    sources = {key: {row["source_guid"] for row in segments if str(row["code_guid"]).lower() == key} for key in refs}
    assert len(codes) == len(paths)
    for row in codes:
        key = str(row["guid"]).lower()
        below = [k for k, p in paths.items() if p[:len(paths[key])] == paths[key]]  # the code and its subtree
        assert row["path"] == " > ".join(paths[key])
        assert row["references"] == refs.get(key, 0)
        assert row["sources"] == len(sources.get(key, set()))
        assert row["references_total"] == sum(refs.get(k, 0) for k in below)
        assert row["sources_total"] == len(set().union(*(sources.get(k, set()) for k in below)))


@pytest.mark.parametrize(("which", "set_name", "coder"), [
    ("gt", None, None), ("study", None, None),
    ("gt", "platform only", None), ("gt", "first two", "bob"), ("gt", None, "alice"),
    ("study", "Coding sample", None), ("study", "Saturation sample", "Researcher A"),
])
def test_parquet_files_equal_the_dataframe_export(tmp_path: Path, which: str, set_name: str | None,
                                                  coder: str | None) -> None:
    path = _project(which, tmp_path)
    options = [*(["--set", set_name] if set_name else []), *(["--coder", coder] if coder else [])]
    _export(path, tmp_path / "cli", options)
    export_tables(frames(qdx.read(path), set_name=set_name, coder=coder), tmp_path / "frames", to="parquet")
    for name in TABLES:
        cli = pq.read_table(tmp_path / "cli" / f"{name}.parquet")
        api = pq.read_table(tmp_path / "frames" / f"{name}.parquet")
        assert cli.equals(api, check_metadata=True), name  # values, types and pandas metadata
    back = pd.read_parquet(tmp_path / "cli" / "segments.parquet")
    assert str(back["start"].dtype) == "Int64" and str(back["words"].dtype) == "Int64"
