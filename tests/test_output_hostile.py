"""Issue 15, output half: the shared mechanisms each class is fixed in, tested directly.

(The generated corpus runs every command on every class: tests/hostile/test_hostile_output.py.)

* one code tree (qdx.model.code_tree): repeated GUIDs and cycles by GUID end;
* one CSV formula guard (qdx.cells.csv_text + CSV_QUOTING): read back with either list
  separator, no cell starts like a formula;
* one CLI print point (qdx.cli._common.echo): no control character reaches the terminal;
* one-line errors for click's usage errors, bad limits, a missing pyarrow, a full disk.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qdx.cells import CSV_QUOTING, csv_text
from qdx.cli import main
from qdx.cli._common import terminal_text
from qdx.model import Code, Guid, code_tree
from tests.conftest import ROOT, STUDY, load_module

PROJECT = str(STUDY / "project.qdpx")


def g(n: int) -> Guid:
    return Guid(f"{n:08x}-0000-4000-8000-000000000000")


# --------------------------------------------------------------------------- the code tree


def test_code_tree_child_repeating_its_parent_guid() -> None:
    inner = Code(guid=g(1), name="again", children=(Code(guid=g(2), name="leaf"),))
    tree = code_tree((Code(guid=g(1), name="top", children=(inner,)),))
    assert list(tree.codes) == [g(1), g(2)] and tree.codes[g(1)].name == "top"  # the first wins
    assert [c.name for c in tree.ancestors(g(2))] == ["again"]
    assert tree.ancestors(g(1)) == [] and [c.name for c, _ in tree.repeated] == ["again"]


def test_code_tree_swapped_guids_still_end_at_a_root() -> None:
    a = Code(guid=g(1), name="a", children=(Code(guid=g(2), name="b"),))
    a_twin = Code(guid=g(1), name="a twin", children=(Code(guid=g(3), name="c"),))
    b = Code(guid=g(2), name="b twin", children=(a_twin,))
    tree = code_tree((a, b))
    for guid in tree.codes:
        assert len(tree.ancestors(guid)) < len(tree.codes)
    assert tree.depth == {g(1): 0, g(2): 1, g(3): 2}


# --------------------------------------------------------------------------- the formula guard

ATTACKS = ["a;=1+1", "x\r=1+1", "x\n+1", "b,@SUM(1)", " =1", "ok;\"=1\"", "t\t-1+2", "=x;=y", "@a\r\n=b"]


def _csv(rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=CSV_QUOTING, lineterminator="\n")  # pandas' line end: no CR
    for row in rows:
        writer.writerow([csv_text(v) for v in row])
    return out.getvalue()


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_no_cell_starts_like_a_formula_whatever_the_list_separator(delimiter: str) -> None:
    text = _csv([["name", "n"], *([a, 1] for a in ATTACKS), ["-5", -5]])
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        for cell in row:
            if cell.lstrip(" ").startswith(("=", "+", "-", "@")):
                assert cell == "-5", f"{cell!r} would run as a formula with {delimiter!r}"


def test_guard_keeps_the_text_readable() -> None:
    assert csv_text("plain, text; no risk") == "plain, text; no risk"
    assert csv_text("a;=1+1") == "a;'=1+1"
    assert csv_text(-5) == -5 and csv_text(None) is None


# --------------------------------------------------------------------------- the print point


def test_terminal_text_escapes_everything_a_terminal_acts_on() -> None:
    shown = terminal_text("a\x1b[31m\x07b\nqdx: error: x\r\x9b1m\u202etxt\u2028")
    assert shown == "a\\x1b[31m\\x07b\\x0aqdx: error: x\\x0d\\x9b1m\\u202etxt\\u2028"
    assert terminal_text("plain é 中") == "plain é 中"


# --------------------------------------------------------------------------- one-line errors


def _one_line(args: list[str], status: int) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == status, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("qdx: error:"), result.stderr
    return lines[0]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1"])
def test_max_ratio_must_be_finite_and_positive(value: str) -> None:
    assert "--max-ratio" in _one_line(["info", PROJECT, "--max-ratio", value], 2)


def test_max_member_size_must_be_positive() -> None:
    assert "--max-member-size" in _one_line(["info", PROJECT, "--max-member-size", "0"], 2)


def test_click_usage_errors_are_one_line(tmp_path: Path) -> None:
    _one_line(["report", PROJECT, "-o", str(tmp_path)], 2)
    _one_line(["info"], 2)
    _one_line(["info", PROJECT, "--no-such-option"], 2)
    _one_line(["no-such-command"], 2)


def test_missing_inputs_are_one_line_read_errors(tmp_path: Path) -> None:
    assert "no such file" in _one_line(["report", PROJECT, "-o", str(tmp_path / "r.xlsx"), "--compare",
                                        str(tmp_path / "missing.qdpx")], 1)
    assert "no such file" in _one_line(["info", str(tmp_path / "missing.qdpx")], 1)
    assert list(tmp_path.iterdir()) == []


def test_report_into_a_pipe_by_proc_fd() -> None:
    """``-o /proc/self/fd/1`` (what /dev/stdout links to): the workbook goes into the pipe."""
    proc = subprocess.run([sys.executable, "-m", "qdx", "report", PROJECT, "-o", "/proc/self/fd/1"],
                          capture_output=True, timeout=120, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(b"PK\x03\x04")
    assert all(line.startswith(b"wrote ") or line.startswith(b"Matrix ") or line.startswith(b"note: ")
               for line in proc.stderr.splitlines())


NO_PYARROW = textwrap.dedent(
    """
    import sys
    sys.modules["pyarrow"] = None          # as if the extra were not installed
    from qdx.cli import main
    sys.argv = ["qdx", *sys.argv[1:]]
    main()
    """
)


@pytest.mark.parametrize("how", [["export", PROJECT, "{out}/ex"], ["matrix", PROJECT, "-o", "{out}/m.parquet"]])
def test_parquet_without_pyarrow_says_how_to_install_it(tmp_path: Path, how: list[str]) -> None:
    args = [a.format(out=tmp_path) for a in how]
    proc = subprocess.run([sys.executable, "-c", NO_PYARROW, *args], capture_output=True, text=True,
                          timeout=120, check=False, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [proc.stderr.strip()] and "pip install 'qdx[parquet]'" in proc.stderr
    assert list(tmp_path.iterdir()) == []


FULL_DISK = textwrap.dedent(
    """
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # writes past the limit fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
    from qdx.cli import main
    sys.argv = ["qdx", *sys.argv[1:]]
    main()
    """
)


@pytest.mark.parametrize("how", [
    ["report", PROJECT, "-o", "{out}/r.xlsx"],
    ["matrix", PROJECT, "-o", "{out}/m.xlsx"],
    ["segments", PROJECT, "-o", "{out}/s.xlsx"],
    ["agree", PROJECT, str(STUDY / "coder-b.qdpx"), "-o", "{out}/a.xlsx"],
])
def test_full_disk_while_writing_xlsx_is_one_line(tmp_path: Path, how: list[str]) -> None:
    """A file-size limit makes every write past 20 kB fail (EFBIG), in qdx's stream and in the
    temporary files openpyxl writes its sheets to, as a full disk does (ENOSPC)."""
    args = [a.format(out=tmp_path) for a in how]
    proc = subprocess.run([sys.executable, "-c", FULL_DISK, *args], capture_output=True, text=True,
                          timeout=120, check=False, cwd=ROOT)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert proc.stderr.splitlines() == [proc.stderr.strip()], proc.stderr[-2000:]
    assert "cannot write" in proc.stderr
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- fuzzing (CI slice)


def _fuzz_module() -> ModuleType:
    return load_module(Path(__file__).parent / "_fuzz_mutate.py", "_fuzz_mutate")


fm = _fuzz_module()
FUZZ_SEED = fm.Seed("coder-b.qdpx", (STUDY / "coder-b.qdpx").read_bytes())


@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(ops=st.lists(st.tuples(st.sampled_from(fm.OUTPUT_KINDS), *[st.integers(0, 2**32 - 1)] * 3),
                    min_size=1, max_size=3))
def test_output_shapes_through_every_analysis(ops: list[tuple[str, int, int, int]]) -> None:
    """Repeated GUIDs, huge numbers, formula/control names, dangling references (the output
    shapes of scripts/fuzz.py): read, then every analysis and spreadsheet writer, end in a
    result or a QdxError, and no CSV cell starts like a formula."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        outcome = fm.check(fm.apply(FUZZ_SEED, ops), FUZZ_SEED.name, folder, deep=True, outputs=True)
    assert outcome == "project" or outcome.startswith("error:")


@pytest.mark.parametrize(("start", "end"), [("0", str(-(2**70))), (str(2**63), "4"), ("0", str(2**53))])
def test_out_of_range_positions_are_issues(start: str, end: str) -> None:
    """scripts/fuzz.py found a negative end past int64 slipping through the fast path."""
    import qdx

    body = (f'<?xml version="1.0"?><Project xmlns="urn:QDA-XML:project:1.0" name="p"><CodeBook><Codes>'
            f'<Code guid="{g(1)}" name="c" isCodable="true"/></Codes></CodeBook><Sources>'
            f'<TextSource guid="{g(2)}" name="d"><PlainTextContent>text</PlainTextContent>'
            f'<PlainTextSelection guid="{g(3)}" startPosition="{start}" endPosition="{end}">'
            f'<Coding guid="{g(4)}"><CodeRef targetGUID="{g(1)}"/></Coding></PlainTextSelection>'
            f"</TextSource></Sources></Project>").encode()
    project = qdx.read(io.BytesIO(body), fmt="qde")
    assert project.provenance is not None
    assert [i.code for i in project.provenance.issues] == ["QDX005"]
    selection = project.sources[0].selections[0]  # type: ignore[union-attr]
    assert abs(selection.start) < 2**53 and abs(selection.end) < 2**53
    qdx.frames(project)  # the OverflowError was raised here
