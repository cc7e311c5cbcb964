"""Every hostile input ends in a valid project or a one-line error, fast and within memory.

Each case runs the real CLI (`python -m qdx info FILE --json`) in its own process, so a hang,
a crash or a memory blow-up is observed from outside: exit status, stderr lines, wall time
and the child's own peak RSS (os.wait4). Limits from the issue:
under 5 s and 500 MB per case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_corpus import Case, build  # noqa: E402

MAX_SECONDS = 5.0
MAX_RSS_MB = 500.0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Case]]:
    root = tmp_path_factory.mktemp("hostile")
    return root, build(root)


def run_cli(path: Path, cwd: Path) -> tuple[int, str, str, float, float]:
    """Run `qdx info --json` on path; return (status, stdout, stderr, seconds, peak MB of that child)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "qdx", "info", str(path), "--json"], cwd=cwd, stdout=out, stderr=err
        )
        killer = threading.Timer(60, proc.kill)
        killer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return (
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            seconds,
            usage.ru_maxrss / 1024,
        )


def test_corpus_has_at_least_40_cases(corpus: tuple[Path, list[Case]]) -> None:
    assert len(corpus[1]) >= 40


def test_every_case(corpus: tuple[Path, list[Case]], tmp_path: Path) -> None:
    root, cases = corpus
    before = sorted(p.name for p in tmp_path.iterdir())
    failures: list[str] = []
    for case in cases:
        status, out, err, seconds, peak = run_cli(root / case.file, tmp_path)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        if case.expect == "error":
            ok = status == 1 and len(lines) == 1 and lines[0].startswith("qdx: error:")
        else:
            ok = status == 0 and isinstance(json.loads(out), dict)
        if not ok:
            failures.append(f"{case.name}: expected {case.expect}, got exit {status}, stderr {err[-300:]!r}")
        if seconds > MAX_SECONDS:
            failures.append(f"{case.name}: took {seconds:.1f} s")
        if peak > MAX_RSS_MB:
            failures.append(f"{case.name}: peak memory {peak:.0f} MB")
    assert not failures, "\n".join(failures)
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "a case wrote files into the working folder"
    assert not (root.parent / "evil.txt").exists()
