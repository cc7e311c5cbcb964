"""A lab's corpus as one Hive-partitioned Parquet dataset (`qdx export PROJECT... DIR`, issue 19).

The counts are checked against `qdx info` (which counts the model directly, not through the
tables) by querying the dataset with DuckDB, an engine independent of qdx and pyarrow's writer.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import qdx
from qdx.cli import main
from qdx.report.dataset import LOCK, MANIFEST, STAGING, TABLES, arrow_schema, partition_names, safe_name
from tests.conftest import FIXTURES, ROOT, load_module

duckdb = pytest.importorskip("duckdb")
pq = pytest.importorskip("pyarrow.parquet")

STUDY = FIXTURES / "wechat-moments" / "project.qdpx"
CODER_B = FIXTURES / "wechat-moments" / "coder-b.qdpx"
NVIVO_EXPORT = FIXTURES / "nvivo" / "export"
mx = load_module(ROOT / "tests" / "_mx_projects.py", "_mx_projects")
make_project = load_module(ROOT / "benchmarks" / "make_project.py", "make_project")


def _export(*args: str, jobs: int = 1) -> tuple[int, dict[str, object], str]:
    """The CLI in this process (one worker is run inline: quick); the corpus fixture uses a pool."""
    result = CliRunner().invoke(main, ["export", *args, "--json", "--jobs", str(jobs)])
    data = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, data, result.stderr


def _info(path: Path) -> dict[str, object]:
    result = CliRunner().invoke(main, ["info", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def _query(folder: Path, sql: str) -> list[tuple[object, ...]]:
    """``sql`` over the dataset, each table a DuckDB view of all its partitions."""
    con = duckdb.connect()
    for table in TABLES:
        con.sql(f"create view {table} as select * from read_parquet("
                f"'{folder}/project=*/{table}.parquet', hive_partitioning = true)")
    rows: list[tuple[object, ...]] = con.sql(sql).fetchall()
    return rows


def _per_project(folder: Path, sql: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in _query(folder, sql)}  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path], dict[str, str]]:
    """A handful of projects of different producers and shapes, exported once by the CLI."""
    base = tmp_path_factory.mktemp("corpus")
    gt = base / "studies" / "gt.qdpx"
    gt.parent.mkdir()
    qdx.write(mx.gt(), gt)
    _, generated = make_project.generate(60, base / "gen", sources=6, seed=3)
    inputs = [STUDY, CODER_B, gt, generated, NVIVO_EXPORT]
    code, data, err = _export(*map(str, inputs), str(base / "ds"), jobs=2)
    assert code == 0, err
    names = {str(p["path"]): str(p["project"]) for p in data["projects"]}  # type: ignore[attr-defined]
    return base / "ds", inputs, names


def test_duckdb_counts_equal_qdx_info_per_project(corpus: tuple[Path, list[Path], dict[str, str]]) -> None:
    folder, inputs, names = corpus
    counted = {
        "codes": _per_project(folder, "select project, count(*) from codes group by project"),
        "sources": _per_project(folder, "select project, count(*) from sources group by project"),
        "cases": _per_project(folder, "select project, count(*) from cases group by project"),
        "codings": _per_project(folder, "select project, count(*) from codings group by project"),
        "segments": _per_project(folder, "select project, count(*) from segments group by project"),
    }
    for path in inputs:
        info = _info(path)
        project = names[str(path.resolve())]
        for table in ("codes", "sources", "cases", "codings"):
            assert counted[table].get(project, 0) == info[table], (path.name, table)
        assert counted["segments"].get(project, 0) == info["codings"], path.name
    # the projects table names each input once, with the name `qdx info` reads
    rows = _query(folder, "select project, name, input from projects order by project")
    assert sorted(r[0] for r in rows) == sorted(names.values())
    assert {str(r[2]): r[1] for r in rows} == {str(p.resolve()): _info(p)["name"] for p in inputs}


def test_bundled_study_numbers_from_the_dataset(corpus: tuple[Path, list[Path], dict[str, str]]) -> None:
    """The study's published shape (fixtures/wechat-moments/README.md): 40 concepts, 20 interviews,
    five case variables on 20 cases."""
    folder, _, names = corpus
    study = names[str(STUDY.resolve())]
    concepts = _query(folder, f"select count(*) from codes where project = '{study}' and level = 'concept'")
    assert concepts == [(40,)]
    per_var = _query(folder, f"select count(distinct variable), count(*) from variables where project = '{study}'"
                     " and owner = 'case'")
    assert per_var == [(5, 100)]
    # which concepts recur across studies: the two coders share the study's codebook
    shared = _query(folder, "select name from codes where level = 'concept' group by name"
                    " having count(distinct project) >= 2")
    assert len(shared) == 40


def test_every_partition_has_the_one_schema(corpus: tuple[Path, list[Path], dict[str, str]]) -> None:
    folder, inputs, _ = corpus
    partitions = sorted(folder.glob("project=*"))
    assert len(partitions) == len(inputs)
    for partition in partitions:
        assert sorted(p.name for p in partition.iterdir()) == sorted(f"{t}.parquet" for t in TABLES)
        for table in TABLES:
            assert pq.read_schema(partition / f"{table}.parquet").remove_metadata() == arrow_schema(table), (
                partition.name, table)
    # DuckDB reads each table as one: the column types agree across partitions
    columns = _query(folder, "describe select * from codes")
    assert [c[0] for c in columns] == [c.name for c in TABLES["codes"]] + ["project"]


def test_the_schema_is_documented_column_by_column() -> None:
    doc = (ROOT / "docs" / "dataset.md").read_text(encoding="utf-8")
    for table, columns in TABLES.items():
        section = doc.split(f"### `{table}`", 1)
        assert len(section) == 2, f"docs/dataset.md has no section for {table}"
        body = section[1].split("\n### ", 1)[0]
        documented = re.findall(r"^\| `([a-z_]+)` \| (\w+) \|", body, flags=re.M)
        assert documented == [(c.name, c.type) for c in columns], table


def _files(partition: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in partition.iterdir()}


def test_only_a_changed_project_is_exported_again(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(STUDY, corpus / "study.qdpx")
    shutil.copy(CODER_B, corpus / "coder-b.qdpx")
    out = tmp_path / "ds"
    code, first, _ = _export(str(corpus), str(out))
    assert code == 0 and first["exported"] == 2
    before = {p.name: _files(p) for p in out.glob("project=*")}

    # coder B's copy loses a source; the study file is rewritten with the same bytes (a new mtime)
    project = qdx.read(CODER_B)
    qdx.write(dataclasses.replace(project, sources=project.sources[1:]), corpus / "coder-b.qdpx")
    os.utime(corpus / "study.qdpx", ns=(1, 1))
    code, again, _ = _export(str(corpus), str(out))
    assert code == 0
    status = {Path(str(p["path"])).name: p["status"] for p in again["projects"]}  # type: ignore[attr-defined]
    assert status == {"study.qdpx": "unchanged", "coder-b.qdpx": "exported"}
    assert _files(out / "project=study") == before["project=study"]  # not rewritten
    assert _files(out / "project=coder-b") != before["project=coder-b"]
    assert _query(out, "select count(*) from sources where project = 'coder-b'") == [(len(project.sources) - 1,)]
    assert not (out / STAGING).exists()

    # a project no longer given loses its partition; the other stays untouched
    (corpus / "coder-b.qdpx").unlink()
    code, third, _ = _export(str(corpus), str(out))
    assert code == 0 and third["removed"] == ["coder-b"] and third["unchanged"] == 1
    assert sorted(p.name for p in out.iterdir()) == [LOCK, MANIFEST, "project=study"]


def test_a_failed_project_is_reported_and_the_others_are_written(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.qdpx", tmp_path / "bad.qdpx"
    shutil.copy(CODER_B, good)
    shutil.copy(CODER_B, bad)
    out = tmp_path / "ds"
    assert _export(str(good), str(bad), str(out))[0] == 0
    old = {p.name: p.read_bytes() for p in (out / "project=bad").iterdir()}

    bad.write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "empty.qdpx").write_bytes(b"")
    missing = tmp_path / "gone.qdpx"
    result = CliRunner().invoke(main, ["export", str(good), str(bad), str(tmp_path / "empty.qdpx"), str(missing),
                                       str(out)])
    assert result.exit_code == 1
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 3 and all(line.startswith("qdx: error: ") for line in errors)
    assert str(bad) in errors[0] and str(tmp_path / "empty.qdpx") in errors[1] and str(missing) in errors[2]
    assert "cannot read (No such file" in errors[2]
    assert "1 unchanged, 3 failed" in result.stdout
    # the failed project keeps its previous partition, whole; the empty one gets none
    assert {p.name: p.read_bytes() for p in (out / "project=bad").iterdir()} == old
    assert sorted(p.name for p in out.iterdir()) == [LOCK, MANIFEST, "project=bad", "project=good"]
    # and it is tried again next time (its manifest entry still has the old content's hash)
    shutil.copy(CODER_B, bad)
    code, data, _ = _export(str(good), str(bad), str(out))
    assert code == 0 and data["unchanged"] == 2


def test_a_failure_while_writing_leaves_the_old_partition_whole(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    project = tmp_path / "p.qdpx"
    shutil.copy(CODER_B, project)
    out = tmp_path / "ds"
    qdx.export_dataset([project], out)
    old = {p.name: p.read_bytes() for p in (out / "project=p").iterdir()}
    project.write_bytes(STUDY.read_bytes())
    calls = []

    def disk_full(table: object, where: object, **kwargs: object) -> None:
        calls.append(where)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(table, where, **kwargs)

    real = pq.write_table
    monkeypatch.setattr(pq, "write_table", disk_full)
    result = qdx.export_dataset([project], out, workers=1)
    assert [p.status for p in result.projects] == ["failed"]
    assert "No space left" in str(result.projects[0].error)
    assert {p.name: p.read_bytes() for p in (out / "project=p").iterdir()} == old
    assert sorted(p.name for p in out.iterdir()) == [LOCK, MANIFEST, "project=p"]


def test_partition_names_are_safe() -> None:
    for stem in ("../../etc", "a/b\\c", "..", ".hidden", "x=1%2F", "tab\tname", "", "__HIVE_DEFAULT_PARTITION__"):
        name = safe_name(stem)
        assert name and "/" not in name and "\\" not in name and ".." not in name
        assert "=" not in name and "%" not in name and name.isprintable() and not name.startswith((".", "_"))
    # values an engine would type as a number, a date or a boolean stay text
    for stem in ("2019", "2019-01-01", "1e5", "NaN", "true", "3.14"):
        assert safe_name(stem).startswith("project-"), stem
    assert safe_name("微信研究 2024") == "微信研究_2024"
    assert safe_name("x" * 300) == "x" * 120
    assert safe_name("\U00020000" * 100) == "\U00020000" * 30  # 4 UTF-8 bytes each: 120 bytes, a folder fits


def test_partition_names_collide_deterministically_and_stay_stable() -> None:
    a, b, c = "/data/a/project.qdpx", "/data/b/project.qdpx", "/data/c/Project.qdpx"
    first = partition_names([a, b], {})
    assert first == partition_names([b, a], {})  # order of the arguments does not matter
    assert len(set(first.values())) == 2 and all(n.startswith("project-") for n in first.values())
    # a case-only difference collides too (macOS and Windows file systems)
    third = partition_names([a, b, c], first)
    assert {third[a], third[b]} == set(first.values())  # the earlier names are kept
    assert third[c].casefold() not in {n.casefold() for n in first.values()}
    # a project alone keeps its plain name, and keeps it when a namesake arrives later
    alone = partition_names([a], {})
    assert alone == {a: "project"}
    assert partition_names([a, b], alone)[a] == "project"


def test_usage_errors(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    assert _export(str(STUDY), str(CODER_B), str(out))[0] == 0
    # one project into a dataset would replace the corpus with it: refused
    assert CliRunner().invoke(main, ["export", str(STUDY), str(out)]).exit_code == 2
    assert CliRunner().invoke(main, ["export", str(STUDY), str(CODER_B), str(tmp_path / "c"), "--to", "csv"]
                              ).exit_code == 2
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    result = CliRunner().invoke(main, ["export", str(STUDY), str(CODER_B), str(busy)])
    assert result.exit_code == 2 and "not a qdx dataset" in result.stderr
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]


def test_one_export_at_a_time_per_dataset(tmp_path: Path) -> None:
    fcntl = pytest.importorskip("fcntl")
    out = tmp_path / "ds"
    assert _export(str(STUDY), str(CODER_B), str(out))[0] == 0
    with (out / LOCK).open("a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running export holds it
        result = CliRunner().invoke(main, ["export", str(STUDY), str(CODER_B), str(out)])
    assert result.exit_code == 2 and "another qdx export" in result.stderr
    assert _export(str(STUDY), str(CODER_B), str(out))[1]["unchanged"] == 2  # free again once its holder lets go


def test_one_project_still_exports_flat_tables(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", str(STUDY), str(tmp_path / "t"), "--json"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == sorted(
        f"{t}.parquet" for t in ("codes", "sources", "cases", "segments", "codings"))
    # --dataset makes a one-project dataset
    code, data, _ = _export(str(STUDY), str(tmp_path / "d"), "--dataset")
    assert code == 0 and data["exported"] == 1 and (tmp_path / "d" / "project=project" / "codes.parquet").exists()


def test_the_readme_example_prints_what_it_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    session = re.search(r"```console\n\$ qdx export (.*?) corpus\n(.*?)\n```", readme, re.S)
    query = re.search(r"```sql\n(.*?)```", readme, re.S)
    assert session is not None and query is not None, "README lost its corpus example"
    inputs = [str(ROOT / p) for p in session.group(1).split()]
    monkeypatch.chdir(tmp_path)  # the example writes ./corpus
    result = CliRunner().invoke(main, ["export", *inputs, "corpus"])
    assert result.exit_code == 0 and result.stdout.strip() == session.group(2).strip()
    sql = query.group(1)
    expected = [tuple(c.strip() for c in line[3:].split("|")) for line in sql.splitlines() if line.startswith("--")]
    con = duckdb.connect()
    statements = [s for s in sql.split(";") if s.strip() and not s.strip().startswith("--")]
    for statement in statements[:-1]:
        con.sql(statement)
    rows = con.sql(statements[-1]).fetchall()
    assert [tuple(str(v) for v in row) for row in rows] == expected
    # the reading recipes of docs/dataset.md run on the same corpus
    doc = (ROOT / "docs" / "dataset.md").read_text(encoding="utf-8")
    recipe = re.search(r"```python\n(.*?)```", doc, re.S)
    doc_sql = re.search(r"```sql\n(.*?)```", doc, re.S)
    assert recipe is not None and doc_sql is not None
    scope: dict[str, object] = {}
    exec(compile(recipe.group(1), "docs/dataset.md", "exec"), scope)
    assert len(scope["frame"]) == scope["codes"].num_rows == 65 + 65 + 7  # type: ignore[arg-type, attr-defined]
    con = duckdb.connect()
    statements = "\n".join(line for line in doc_sql.group(1).splitlines() if not line.startswith("--"))
    *views, last = [s for s in statements.split(";") if s.strip()]
    for view in views:
        con.sql(view)
    assert len(con.sql(last).fetchall()) == 40  # the 40 concepts both coders' copies share
