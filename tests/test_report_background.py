"""The report's figures drawn in a forked child (qdx.report.background): the same value as
drawing them here, a fallback whenever the child cannot deliver, and no child left behind."""

from __future__ import annotations

import io
import os
import re
import threading
import zipfile
from pathlib import Path

import pytest

import qdx
from qdx.report.background import Background, can_fork
from qdx.report.excel import write_report

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "fixtures" / "wechat-moments" / "project.qdpx"
forking = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this system")


def _reaped(pid: int) -> bool:
    """True when ``pid`` is no longer a child of this process (ended and waited for)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@forking
def test_the_child_computes_the_value() -> None:
    parent = os.getpid()
    with Background(lambda: (os.getpid(), b"\x00" * 300_000), fork=True) as job:  # beyond a pipe's buffer
        pid, data = job.result()
    assert pid != parent  # computed in the child ...
    assert data == b"\x00" * 300_000  # ... and handed back whole
    assert _reaped(pid)


@forking
def test_a_failing_child_falls_back_to_this_process() -> None:
    parent = os.getpid()

    def work() -> int:
        if os.getpid() != parent:
            raise RuntimeError("only in the child")
        return 42

    with Background(work, fork=True) as job:
        child = job._pid
        assert job.result() == 42
    assert child is not None and _reaped(child)


@forking
def test_a_child_killed_midway_falls_back() -> None:
    parent = os.getpid()

    def work() -> str:
        if os.getpid() != parent:
            os._exit(3)  # as if killed before writing anything
        return "here"

    with Background(work, fork=True) as job:
        assert job.result() == "here"


@forking
def test_an_unwanted_child_is_stopped_and_reaped() -> None:
    import time

    started = time.monotonic()
    with Background(lambda: time.sleep(30), fork=True) as job:
        child = job._pid  # the report failed before the figures were needed
    assert child is not None and _reaped(child)
    assert time.monotonic() - started < 10  # stopped, not waited for


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this system")
def test_no_fork_on_one_core() -> None:
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        assert not can_fork()
    finally:
        os.sched_setaffinity(0, cores)


def test_no_fork_while_another_thread_runs() -> None:
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        assert not can_fork()
        parent = os.getpid()
        with Background(os.getpid) as job:
            assert job.result() == parent
    finally:
        stop.set()
        worker.join()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return {name: re.sub(rb"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\dZ)?", b"T", book.read(name))
                for name in book.namelist()}


@pytest.mark.skipif(not STUDY.exists(), reason="the bundled study is absent")
def test_the_report_is_the_same_whoever_draws_the_figures() -> None:
    project = qdx.read(STUDY)
    forked = io.BytesIO()
    write_report(project, forked)
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)  # a running thread: figures drawn in this process
    worker.start()
    try:
        here = io.BytesIO()
        write_report(project, here)
    finally:
        stop.set()
        worker.join()
    pictures = [name for name in _members(here.getvalue()) if name.startswith("xl/media/")]
    assert pictures  # the saturation curve (one coder: no kappa chart)
    assert _members(forked.getvalue()) == _members(here.getvalue())


@pytest.mark.skipif(not STUDY.exists(), reason="the bundled study is absent")
def test_the_overview_filled_last_holds_what_the_sheets_in_order_hold() -> None:
    """write_report adds the Overview first and fills it after the count sheets (its analyses run
    meanwhile); build_tables builds every sheet in order. Same sheets, same cells, same About."""
    import openpyxl

    from qdx.report.excel import build_tables

    project = qdx.read(STUDY)
    written = io.BytesIO()
    report = write_report(project, written)
    tables, _ = build_tables(project)
    book = openpyxl.load_workbook(io.BytesIO(written.getvalue()), read_only=True)
    assert book.sheetnames == report.sheets == [t.title for t in tables]
    assert report.sheets[0] == "Overview" and report.sheets[-1] == "About"
    for table in tables:
        cells = [list(row) for row in book[table.title].iter_rows(values_only=True)]
        header = cells.index(list(table.header) + [None] * (len(cells[0]) - len(table.header)))
        got = [row[: len(table.header)] for row in cells[header + 1 : header + 1 + table.nrows]]
        want = [[_shown(v) for v in row] for row in table.rows]
        if table.title == "About":  # its last line says when it was written
            got, want = got[:-1], want[:-1]
        assert got == want, table.title


def _shown(value: object) -> object:
    """A cell value as openpyxl reads it back (an empty text is no cell; dates lose their zone)."""
    from datetime import datetime

    if value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


@forking
def test_a_stuck_child_is_stopped_and_its_work_done_here() -> None:
    import time

    parent = os.getpid()

    def work() -> str:
        if os.getpid() != parent:
            time.sleep(3600)  # a child that never answers (a lock no thread will release)
        return "here"

    with Background(work, fork=True) as job:
        child = job._pid
        started = time.monotonic()
        assert job.result(patience=1.0, least=1.0) == "here"  # waited a second, then gave up on it
    assert child is not None and _reaped(child)
    assert 0.9 < time.monotonic() - started < 30
