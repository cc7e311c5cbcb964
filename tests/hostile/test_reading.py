"""Issue 15, reading side: the whole hostile corpus through the library, more commands on the
round-two cases, and ``convert --sources`` under the export-folder caps.

* The library walk reads every case with :func:`qdx.read` in this process and runs each
  analysis on what comes back: only :class:`~qdx.errors.QdxError` may escape.
* The commands run as children (like test_hostile.py: exit status, stderr lines, wall time
  and the child's own peak RSS via os.wait4), within the issue's budget of 10 s and 1 GB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

import qdx
from qdx.errors import QdxError
from qdx.model import Project

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_corpus import Case, build  # noqa: E402
from reading_cases import add_cases, coded_text  # noqa: E402

MAX_SECONDS = 10.0
MAX_RSS_MB = 1024.0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Case]]:
    root = tmp_path_factory.mktemp("hostile-all")
    return root, build(root)


@pytest.fixture(scope="module")
def round_two(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Case]]:
    root = tmp_path_factory.mktemp("hostile-reading")
    cases: list[Case] = []

    def write(folder: Path, name: str, data: bytes) -> str:
        (folder / name).write_bytes(data)
        return name

    add_cases(root, lambda n, f, e, w: cases.append(Case(n, f, e, w)), write)
    return root, cases


def _analyses(project: Project) -> list[tuple[str, Callable[[], object]]]:
    from qdx.analysis.agreement import agree
    from qdx.analysis.matrix import matrix
    from qdx.analysis.saturation import saturation
    from qdx.validation.audit import audit

    return [
        ("validate", lambda: qdx.validate(project)),
        ("segments", lambda: qdx.segments(project)),
        ("matrix", lambda: matrix(project)),
        ("agree", lambda: agree(project, project)),
        ("saturation", lambda: saturation(project)),
        ("audit", lambda: audit(project)),
    ]


def test_library_walk_raises_only_qdx_errors(corpus: tuple[Path, list[Case]]) -> None:
    """Every corpus case through qdx.read, then every analysis on what it returns."""
    root, cases = corpus
    crashes: list[str] = []
    for case in cases:
        try:
            project = qdx.read(root / case.file)
        except QdxError as exc:
            assert "\n" not in str(exc), case.name
            if case.expect == "project":
                crashes.append(f"{case.name}: read refused a readable case ({exc})")
            continue
        except Exception as exc:  # the point of the test: nothing else may escape
            crashes.append(f"{case.name}: qdx.read raised {type(exc).__name__}: {exc}"[:300])
            continue
        for name, run in _analyses(project):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    run()
            except QdxError:
                pass
            except Exception as exc:
                crashes.append(f"{case.name}: {name} raised {type(exc).__name__}: {exc}"[:300])
    assert not crashes, "\n".join(crashes)


def run(args: list[str], cwd: Path) -> tuple[int, str, str, float, float]:
    """Run ``python -m qdx ARGS``; (status, stdout, stderr, seconds, peak MB of that child)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "qdx", *args], cwd=cwd, stdout=out, stderr=err)
        killer = threading.Timer(60, proc.kill)
        killer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
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


# validate reports what it finds as lines (exit 1 when invalid); the other commands end in
# their result or in one "qdx: error:" line.
COMMANDS = (["validate"], ["segments", "--json"], ["audit", "--json"])


def test_round_two_cases_under_more_commands(round_two: tuple[Path, list[Case]], tmp_path: Path) -> None:
    root, cases = round_two
    failures: list[str] = []
    for case in cases:
        for command in COMMANDS:
            status, _, err, seconds, peak = run([*command, str(root / case.file)], tmp_path)
            lines = [ln for ln in err.splitlines() if ln.strip()]
            where = f"{case.name} ({command[0]})"
            if "Traceback" in err or status not in (0, 1):
                failures.append(f"{where}: exit {status}, stderr {err[-300:]!r}")
            elif case.expect == "error" and command[0] != "validate":
                if not (status == 1 and len(lines) == 1 and lines[0].startswith("qdx: error:")):
                    failures.append(f"{where}: expected one error line, got exit {status}: {err[-300:]!r}")
            elif case.expect == "error" and status != 1:
                failures.append(f"{where}: a refused input validated (exit 0)")
            if seconds > MAX_SECONDS:
                failures.append(f"{where}: took {seconds:.1f} s")
            if peak > MAX_RSS_MB:
                failures.append(f"{where}: peak memory {peak:.0f} MB")
    assert not failures, "\n".join(failures)


def test_convert_sources_folder_is_capped_like_export_folders(tmp_path: Path) -> None:
    """Defect 17: a 300 MB (sparse) file in --sources is refused before it is read."""
    export = tmp_path / "Access.txt"
    export.write_bytes(coded_text(["Reference 1"], 1))
    sources = tmp_path / "sources"
    sources.mkdir()
    with (sources / "doc.txt").open("wb") as big:
        big.truncate(300 << 20)
    status, _, err, seconds, _ = run(
        ["convert", str(export), str(tmp_path / "out.qdpx"), "--sources", str(sources)], tmp_path
    )
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert status == 1 and len(lines) == 1 and "exceeds the limits for an export folder" in lines[0], err
    assert seconds < MAX_SECONDS
    assert not (tmp_path / "out.qdpx").exists()


def test_convert_sources_skips_fifos_and_device_links(tmp_path: Path) -> None:
    """A FIFO or a symlink to /dev/zero among the sources is skipped, never read (no hang)."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    export = tmp_path / "Access.txt"
    export.write_bytes(coded_text(["Reference 1"], 1))
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "doc.txt").write_text("the passage of reference 1 here\n", encoding="utf-8")
    os.mkfifo(sources / "pipe.txt")
    (sources / "zero.txt").symlink_to("/dev/zero")
    status, out, err, seconds, _ = run(
        ["convert", str(export), str(tmp_path / "out.qdpx"), "--sources", str(sources), "--json"], tmp_path
    )
    assert status == 0, err
    assert json.loads(out)["selections"] == 1
    assert seconds < MAX_SECONDS


def test_piped_input_is_read_with_a_limit(tmp_path: Path) -> None:
    """/dev/stdin from a pipe is read (up to a limit), the same as the file."""
    from qdx.api import MAX_STREAM_BYTES

    study = HERE.parent.parent / "fixtures" / "wechat-moments" / "project.qdpx"
    with study.open("rb") as stdin:
        piped = subprocess.run(
            [sys.executable, "-m", "qdx", "info", "/dev/stdin", "--json"], stdin=stdin, capture_output=True, check=False
        )
    direct = subprocess.run(
        [sys.executable, "-m", "qdx", "info", str(study), "--json"], capture_output=True, check=False
    )
    assert piped.returncode == 0, piped.stderr
    keep = ("sources", "codes", "selections", "codings")
    assert {k: json.loads(piped.stdout)[k] for k in keep} == {k: json.loads(direct.stdout)[k] for k in keep}
    # Past the limit a pipe is refused, with its one line (a REFI head, then zeros).
    feeder = subprocess.Popen(
        [sys.executable, "-c", "import sys; o=sys.stdout.buffer; o.write(b'<?xml version=\"1.0\"?>\\n<Project'); "
         f"[o.write(bytes(1 << 20)) for _ in range({(MAX_STREAM_BYTES >> 20) + 2})]"],
        stdout=subprocess.PIPE,
    )
    reader = subprocess.run(
        [sys.executable, "-m", "qdx", "info", "/dev/stdin"], stdin=feeder.stdout, capture_output=True, check=False
    )
    assert feeder.stdout is not None
    feeder.stdout.close()
    feeder.wait()
    lines = [ln for ln in reader.stderr.decode().splitlines() if ln.strip()]
    assert reader.returncode == 1 and len(lines) == 1 and lines[0].startswith("qdx: error:"), lines
