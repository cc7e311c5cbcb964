"""The output-side hostile cases (make_corpus.output_cases) through every command.

Each case file reads into a project; what comes after reading is attacked: tree walks
(repeated GUIDs, cycles by GUID), numbers (2^63), dangling case references, spreadsheet cells
(formula text behind a ``;``, a bare CR, a space), terminal output (C1 controls, bidi, a
newline forging ``qdx: error:``) and folder outputs (colliding and over-long names).

Every command runs in one child process per case (so a hang or a crash is seen from outside
and the imports are paid once): exit status 0 or 1, no traceback, every stderr line a
``qdx:`` line, no control character on the terminal, under 10 s per command and 1 GB per
child (its own peak RSS, os.wait4). Every CSV written
is then read back as Excel would read it with either list separator, and no cell may start
like a formula.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_corpus import Case, output_cases  # noqa: E402

MAX_SECONDS = 10.0
MAX_RSS_MB = 1024.0
# Raw bytes a terminal would act on (everything but LF and TAB in C0, DEL, C1, line/paragraph
# separators, bidi controls).
TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

CHILD = r"""
import json, sys, time, warnings
from click.testing import CliRunner
from qdx.cli import main

warnings.simplefilter("default")
results = []
for args in json.loads(sys.argv[1]):
    runner = CliRunner()
    start = time.perf_counter()
    result = runner.invoke(main, args)
    crash = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        crash = f"{type(result.exception).__name__}: {result.exception}"
    results.append({"args": args, "status": result.exit_code, "stdout": result.stdout,
                    "stderr": result.stderr, "crash": crash, "seconds": time.perf_counter() - start})
print(json.dumps(results))
"""


def commands(path: Path, out: Path) -> list[list[str]]:
    p = str(path)
    return [
        ["info", p, "--json"],
        ["info", p],
        ["validate", p],
        ["segments", p],
        ["segments", p, "-o", str(out / "s.csv")],
        ["segments", p, "-o", str(out / "s.xlsx")],
        ["audit", p, "-o", str(out / "a.xlsx")],
        ["matrix", p, "-o", str(out / "m.csv")],
        ["matrix", p, "--rows", "cases", "-o", str(out / "mc.csv")],
        ["matrix", p, "--layout", "nvivo", "-o", str(out / "mn.csv")],
        ["report", p, "-o", str(out / "r.xlsx")],
        ["export", p, str(out / "ex"), "--to", "csv"],
        ["export", p, str(out / "exp")],
        ["saturation", p],
        ["convert", p, str(out / "c.qdpx")],
        ["convert", p, str(out / "nv") + "/", "--to", "nvivo-text"],
        ["diff", p, p],
        ["merge", p, p, "-o", str(out / "mg.qdpx")],
        ["agree", p, p],
    ]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Case]]:
    root = tmp_path_factory.mktemp("hostile-output")
    return root, output_cases(root)


def test_output_cases_cover_every_class(corpus: tuple[Path, list[Case]]) -> None:
    names = {case.name.split("-")[0] for case in corpus[1]}
    assert {"tree", "position", "case", "formula", "terminal", "folder", "long"} <= names


def _run_all(path: Path, out: Path) -> list[dict[str, object]]:
    """Run every command in one child; its own peak RSS (os.wait4) must stay under 1 GB."""
    todo = commands(path, out)
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(todo)], stdout=stdout, stderr=stderr)
        killer = threading.Timer(MAX_SECONDS * len(todo), proc.kill)
        killer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        assert proc.returncode == 0, stderr.read().decode("utf-8", "replace")[-2000:]
        results: list[dict[str, object]] = json.loads(stdout.read())
    peak_mb = usage.ru_maxrss / 1024
    assert peak_mb < MAX_RSS_MB, f"{path.name}: peak memory {peak_mb:.0f} MB"
    return results


def _excel_cells(text: str) -> list[str]:
    """Every cell of a CSV as Excel reads it with ``,`` and with ``;`` as list separator
    (quotes honoured; CR, LF and CRLF outside quotes all end a row)."""
    cells: list[str] = []
    for delimiter in (",", ";"):
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            cells.extend(row)
    return cells


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_library_on_every_case(corpus: tuple[Path, list[Case]]) -> None:
    """qdx.read and every analysis and spreadsheet writer on what it returns raise nothing but
    QdxError (the check of scripts/fuzz.py --outputs)."""
    sys.path.insert(0, str(HERE.parent))
    import _fuzz_mutate as fm

    import qdx

    root, cases = corpus
    for case in cases:
        fm.check_outputs(qdx.read(root / case.file))


def test_every_command_on_every_case(corpus: tuple[Path, list[Case]], tmp_path: Path) -> None:
    root, cases = corpus
    failures: list[str] = []
    for case in cases:
        out = tmp_path / case.name
        out.mkdir()
        failures += _check_case(root, case, out)
    assert not failures, "\n".join(failures)


def _check_case(root: Path, case: Case, tmp_path: Path) -> list[str]:
    failures: list[str] = []
    for run in _run_all(root / case.file, tmp_path):
        failures += _check_run(case, run)
    for written in sorted(tmp_path.rglob("*.csv")):
        text = written.read_text(encoding="utf-8-sig")
        for cell in _excel_cells(text):
            if cell.lstrip(" ").startswith(("=", "+", "-", "@")) and not _number(cell):
                failures.append(f"{case.name}: {written.name} has a formula cell {cell[:40]!r}")
    if [p for p in tmp_path.rglob("*") if ".qdx-" in p.name]:
        failures.append(f"{case.name}: a temporary file was left behind")
    return failures


def _check_run(case: Case, run: dict[str, object]) -> list[str]:
    args = [str(a) for a in run["args"]]  # type: ignore[attr-defined]
    what = f"{case.name}: qdx {' '.join(args)[:80]}"
    status, stdout, stderr = run["status"], str(run["stdout"]), str(run["stderr"])
    failures = []
    if run["crash"] is not None or status not in (0, 1):
        failures.append(f"{what}: exit {status}, {run['crash']}, stderr {stderr[-300:]!r}")
    failures += [f"{what}: stderr line {line[:120]!r}" for line in stderr.splitlines()
                 if line.strip() and not line.startswith("qdx: ")]
    if status == 1 and args[0] not in ("validate", "diff", "audit") and "qdx: error:" not in stderr:
        failures.append(f"{what}: exit 1 without a one-line error")
    if TERMINAL_CONTROL.search(stdout + stderr):
        failures.append(f"{what}: a control character reached the terminal")
    if any(line.startswith("qdx: error: forged") for line in (stdout + stderr).splitlines()):
        failures.append(f"{what}: a name forged an error line")
    if float(run["seconds"]) > MAX_SECONDS:  # type: ignore[arg-type]
        failures.append(f"{what}: took {run['seconds']:.1f} s")
    return failures
