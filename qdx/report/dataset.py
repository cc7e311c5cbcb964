"""A lab's corpus as one Hive-partitioned Parquet dataset (the schema is in docs/dataset.md).

``export_dataset(paths, folder)`` writes ``folder/project=<name>/<table>.parquet`` for every
project and table, with one fixed schema per table (:data:`TABLES`), so DuckDB, Spark or pyarrow
read the folder as one set of tables with a ``project`` column taken from the folder names.

* **Incremental.** ``folder/_qdx_dataset.json`` (the manifest) records each partition's input,
  content hash, schema version and qdx version; a project whose four are unchanged and whose
  files are all present is not read again.
* **Parallel.** Projects are read and written by a pool of worker processes (one per core);
  the parent only renames finished partitions into place and keeps the manifest.
* **All or nothing per project.** A worker writes a partition into ``folder/.qdx-staging/``
  (two levels down, so a ``folder/*/codes.parquet`` glob never sees it); the parent swaps it in
  with renames. A project that fails keeps its previous partition and is reported; the others
  are written all the same.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from qdx.errors import QdxError, UsageError, WriteError
from qdx.report.dataset_names import MAX_NAME_BYTES, partition_names, safe_name
from qdx.report.dataset_schema import (
    LOCK,
    MANIFEST,
    PARTITION_KEY,
    SCHEMA_VERSION,
    STAGING,
    TABLES,
    Column,
    arrow_schema,
)
from qdx.report.dataset_tables import dataset_tables, variables_table
from qdx.safety import DEFAULT_LIMITS, Limits, atomic_write

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

    import pyarrow as pa

# The schema, partition names and per-project tables live in their own modules; their public
# names stay importable from here, where the dataset's users look for them.
__all__ = [
    "LOCK", "MANIFEST", "MAX_NAME_BYTES", "PARTITION_KEY", "SCHEMA_VERSION", "STAGING", "TABLES", "Column",
    "DatasetResult", "ProjectExport", "arrow_schema", "dataset_tables", "export_dataset", "partition_names",
    "read_manifest", "safe_name", "variables_table",
]


@dataclass(frozen=True, slots=True)
class ProjectExport:
    """What happened to one project: ``status`` is exported, unchanged or failed."""

    path: str
    project: str
    status: str
    rows: Mapping[str, int]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetResult:
    """The outcome of :func:`export_dataset`: one entry per project, in input order, and the
    partitions removed because their project was no longer given."""

    folder: Path
    projects: tuple[ProjectExport, ...]
    removed: tuple[str, ...]

    def count(self, status: str) -> int:
        """How many projects ended with ``status``."""
        return sum(1 for p in self.projects if p.status == status)

    @property
    def failed(self) -> tuple[ProjectExport, ...]:
        """The projects that could not be exported (their previous partition is kept)."""
        return tuple(p for p in self.projects if p.status == "failed")


# --- one worker's job -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    path: str
    project: str
    staging: str
    content_hash: str
    limits: Limits


@dataclass(frozen=True, slots=True)
class _Done:
    project: str
    rows: dict[str, int]
    error: str | None = None


def _export_one(job: _Job) -> _Done:
    """Read one project and write its partition into the staging folder (runs in a worker).

    Every failure comes back as a one-line message, so one damaged project cannot stop the others.
    """
    try:
        from qdx.api import read

        project = read(job.path, limits=job.limits)
        tables = dataset_tables(project, input_path=job.path, content_hash=job.content_hash)
        _write_partition(Path(job.staging) / f"{PARTITION_KEY}={job.project}", tables)
        return _Done(job.project, {name: table.num_rows for name, table in tables.items()})
    except QdxError as exc:
        # The caller names the input; keep a location only when it says more (a line, a member).
        same = exc.location in (None, Path(job.path).name, job.path)
        return _Done(job.project, {}, exc.message if same else str(exc))
    except Exception as exc:  # reported per project, and the corpus goes on
        return _Done(job.project, {}, f"cannot export ({type(exc).__name__}: {exc})")


def _write_partition(folder: Path, tables: Mapping[str, pa.Table]) -> None:
    import pyarrow.parquet as pq

    folder.mkdir()
    for name, table in tables.items():
        with (folder / f"{name}.parquet").open("wb") as stream:
            pq.write_table(table, stream)
            stream.flush()
            os.fsync(stream.fileno())


# --- the dataset ------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The dataset's manifest, or None when ``folder`` is new or empty.

    Raises:
        UsageError: ``folder`` holds other files but no qdx manifest (it is not a qdx dataset,
            and qdx replaces only what it wrote).
    """
    path = folder / MANIFEST
    if not folder.exists():
        return None
    if not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder")
    if not path.is_file():
        if any(child.name not in (STAGING, LOCK) for child in folder.iterdir()):
            raise UsageError(f"{folder} is not empty and is not a qdx dataset (no {MANIFEST}); choose a new folder")
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: unreadable dataset manifest ({exc}); choose a new folder") from exc
    if not isinstance(data, dict) or not isinstance(data.get("projects"), dict):
        raise UsageError(f"{path}: not a qdx dataset manifest; choose a new folder")
    return data


def _unchanged(entry: Mapping[str, Any], digest: str, partition: Path) -> bool:
    from qdx import __version__

    return (entry.get("content_hash") == digest
            and entry.get("schema_version") == SCHEMA_VERSION and entry.get("qdx_version") == __version__
            and all((partition / f"{table}.parquet").is_file() for table in TABLES))


def export_dataset(
    paths: Sequence[str | os.PathLike[str]],
    folder: str | os.PathLike[str],
    *,
    limits: Limits = DEFAULT_LIMITS,
    workers: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> DatasetResult:
    """Export many projects into one Hive-partitioned Parquet dataset (docs/dataset.md).

    Args:
        paths: project files, and folders of them (see :func:`qdx.api.find_projects`).
        folder: the dataset folder: new, empty, or a dataset written before (then only projects
            whose content changed are exported again, and partitions of projects no longer
            given are removed).
        limits: safety limits for archives.
        workers: worker processes (default: one per core, at most one per project).
        progress: called with (projects done, projects to export, partition) as each finishes.

    Returns:
        A :class:`DatasetResult`; projects that failed keep their previous partition.

    Raises:
        UsageError: ``folder`` is not a qdx dataset. WriteError: the dataset folder cannot be
            written. (A project that cannot be read is a failed entry of the result.)

    Example:
        >>> r = qdx.export_dataset(["studies/"], "corpus")          # doctest: +SKIP
        >>> r.count("exported"), [p.error for p in r.failed]        # doctest: +SKIP
    """
    from qdx.api import content_hash, find_projects

    root = Path(folder)
    manifest = read_manifest(root)
    known: dict[str, dict[str, Any]] = {
        name: entry for name, entry in (manifest["projects"] if manifest else {}).items()
        if isinstance(entry, dict) and isinstance(entry.get("input"), str)}
    inputs = [str(p.resolve()) for p in find_projects(paths)]
    names = partition_names(inputs, {entry["input"]: name for name, entry in known.items()})
    _make_folder(root)
    with _exclusive(root):
        return _export(root, inputs, names, known, limits, workers, progress, content_hash)


def _export(root: Path, inputs: list[str], names: dict[str, str], known: dict[str, dict[str, Any]],
            limits: Limits, workers: int | None, progress: Callable[[int, int, str], None] | None,
            content_hash: Callable[[str], str]) -> DatasetResult:
    from qdx import __version__

    staging = root / STAGING
    shutil.rmtree(staging, ignore_errors=True)  # left by a run that was killed outright
    outcomes, jobs = _plan(root, inputs, names, known, limits, content_hash)
    entries = {name: entry for name, entry in known.items() if name in names.values()}
    removed = sorted(name for name in known if name not in names.values())
    try:
        if jobs:
            staging.mkdir()
            if progress is not None:
                progress(0, len(jobs), "")
        for job, done in _run(jobs, workers, progress):
            if done.error is None:
                try:
                    _swap_in(root, staging, job.project)
                except WriteError as exc:
                    done = _Done(job.project, {}, str(exc))
            if done.error is None:
                entries[job.project] = {"input": job.path, "content_hash": job.content_hash, "rows": done.rows,
                                        "schema_version": SCHEMA_VERSION, "qdx_version": __version__}
                outcomes[job.path] = ProjectExport(job.path, job.project, "exported", done.rows)
            else:
                outcomes[job.path] = ProjectExport(job.path, job.project, "failed", {}, done.error)
        for name in removed:
            _remove_partition(root, staging, name)
    finally:
        # Written even when interrupted: it then lists exactly the partitions swapped in so far.
        _write_manifest(root, entries)
        shutil.rmtree(staging, ignore_errors=True)
    return DatasetResult(root, tuple(outcomes[p] for p in inputs), tuple(removed))


def _plan(root: Path, inputs: list[str], names: dict[str, str], known: dict[str, dict[str, Any]],
          limits: Limits, content_hash: Callable[[str], str]) -> tuple[dict[str, ProjectExport], list[_Job]]:
    """The projects found unchanged (or unreadable) now, and the jobs for the others."""
    outcomes: dict[str, ProjectExport] = {}
    jobs: list[_Job] = []
    for path in inputs:
        name = names[path]
        try:
            digest = content_hash(path)
        except QdxError as exc:
            outcomes[path] = ProjectExport(path, name, "failed", {}, str(exc))
            continue
        entry = known.get(name)
        if entry is not None and _unchanged(entry, digest, root / f"{PARTITION_KEY}={name}"):
            outcomes[path] = ProjectExport(path, name, "unchanged", dict(entry.get("rows", {})))
            known[name] = {**entry, "input": path}  # the same content may now come from another path
        else:
            jobs.append(_Job(path, name, str(root / STAGING), digest, limits))
    return outcomes, jobs


def _run(jobs: list[_Job], workers: int | None,
         progress: Callable[[int, int, str], None] | None) -> Iterator[tuple[_Job, _Done]]:
    """Each job's outcome as it completes (so its partition is swapped in at once); a lost worker
    process fails only its jobs."""
    count = min(workers or os.cpu_count() or 1, len(jobs))
    if count <= 1:
        for n, job in enumerate(jobs, 1):
            yield job, _export_one(job)
            if progress is not None:
                progress(n, len(jobs), job.project)
        return
    n = 0
    with ProcessPoolExecutor(max_workers=count, mp_context=_start_method()) as pool, _cancel_on_exit(pool):
        futures: dict[Future[_Done], _Job] = {pool.submit(_export_one, job): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            try:
                result = future.result()
            except BrokenProcessPool:
                result = _Done(job.project, {}, "cannot export (its worker process died, e.g. out of memory)")
            yield job, result
            n += 1
            if progress is not None:
                progress(n, len(jobs), job.project)


def _start_method() -> BaseContext:
    """A fork server where there is one, else spawn: forking a process that runs threads (DuckDB's
    or pyarrow's pool in a notebook, a test runner) can copy a lock held by another thread into
    the worker, which then hangs; the fork server is a clean single-threaded parent (Python 3.14
    makes it the default on Linux for this reason)."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


@contextmanager
def _cancel_on_exit(pool: ProcessPoolExecutor) -> Iterator[None]:
    """On Ctrl-C (or any error) drop the queued projects: leaving the pool's block would otherwise
    wait for every one of them. Projects already running finish into the staging folder."""
    try:
        yield
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise


@contextmanager
def _exclusive(root: Path) -> Iterator[None]:
    """One export at a time per dataset: a second one would delete the first one's staging folder.

    An advisory lock on ``root/.qdx-lock`` (released by the system when the process ends, so a
    killed export leaves no stale lock); where ``fcntl`` is missing (Windows) nothing is locked.

    Raises:
        UsageError: another export holds the lock.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    try:
        fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise WriteError(f"cannot write ({exc.strerror or exc})", location=str(root / LOCK)) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise UsageError(f"another qdx export is writing {root}; wait for it to finish") from exc
        yield
    finally:
        os.close(fd)


def _make_folder(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create folder ({exc.strerror or exc})", location=str(root)) from exc


def _swap_in(root: Path, staging: Path, name: str) -> None:
    """Replace ``root/project=name`` by its staged copy: two renames, so a reader sees the old
    partition or the new one, and a failure puts the old one back."""
    final = root / f"{PARTITION_KEY}={name}"
    new = staging / final.name
    old = staging / f"old-{final.name}"
    try:
        if final.exists():
            os.rename(final, old)
        try:
            os.rename(new, final)
        except OSError:
            if old.exists():
                os.rename(old, final)
            raise
    except OSError as exc:
        raise WriteError(f"cannot write partition ({exc.strerror or exc})", location=str(final)) from exc
    shutil.rmtree(old, ignore_errors=True)


def _remove_partition(root: Path, staging: Path, name: str) -> None:
    final = root / f"{PARTITION_KEY}={name}"
    if final.exists():
        staging.mkdir(exist_ok=True)
        old = staging / f"old-{final.name}"
        try:
            os.rename(final, old)
        except OSError as exc:
            raise WriteError(f"cannot remove partition ({exc.strerror or exc})", location=str(final)) from exc
        shutil.rmtree(old, ignore_errors=True)


def _write_manifest(root: Path, entries: Mapping[str, Any]) -> None:
    data = {"dataset": "qdx", "schema_version": SCHEMA_VERSION, "partition_key": PARTITION_KEY,
            "tables": list(TABLES), "projects": {name: entries[name] for name in sorted(entries)}}
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    atomic_write(root / MANIFEST, lambda stream: _put(stream, text))


def _put(stream: BinaryIO, text: str) -> None:
    stream.write(text.encode("utf-8"))
