"""Every hostile input ends in a valid project or a one-line error, fast and within memory.

Each case runs the real CLI (`python -m qdx info FILE --json`) in its own process, so a hang,
a crash or a memory blow-up is observed from outside: exit status, stderr lines, wall time
and peak RSS (RUSAGE_CHILDREN, the high-water mark over all cases). Limits from the issue:
under 5 s and 500 MB per case.
"""

from __future__ import annotations

import json
import subprocess
import sys
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


def run_cli(path: Path, cwd: Path) -> tuple[int, str, str, float]:
    """Run `qdx info --json` on path; return (status, stdout, stderr, seconds)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "qdx", "info", str(path), "--json"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return -9, out.decode(), "timeout", 60.0
    seconds = time.perf_counter() - start
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), seconds


def _child_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def test_corpus_has_at_least_40_cases(corpus: tuple[Path, list[Case]]) -> None:
    assert len(corpus[1]) >= 40


def test_every_case(corpus: tuple[Path, list[Case]], tmp_path: Path) -> None:
    root, cases = corpus
    before = sorted(p.name for p in tmp_path.iterdir())
    failures: list[str] = []
    for case in cases:
        status, out, err, seconds = run_cli(root / case.file, tmp_path)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        if case.expect == "error":
            ok = status == 1 and len(lines) == 1 and lines[0].startswith("qdx: error:")
        else:
            ok = status == 0 and isinstance(json.loads(out), dict)
        if not ok:
            failures.append(f"{case.name}: expected {case.expect}, got exit {status}, stderr {err[-300:]!r}")
        if seconds > MAX_SECONDS:
            failures.append(f"{case.name}: took {seconds:.1f} s")
    # RUSAGE_CHILDREN is the high-water mark over every case run so far.
    assert _child_peak_mb() < MAX_RSS_MB
    assert not failures, "\n".join(failures)
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "a case wrote files into the working folder"
    assert not (root.parent / "evil.txt").exists()
