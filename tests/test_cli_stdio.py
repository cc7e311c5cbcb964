"""``-`` names standard input where a command reads a single file (info, validate, segments)
and standard output where it writes one (``-o -`` for segments and matrix, CSV or JSON). With
no file name, the input's format comes from its content and the output's from ``--to``."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

import qdx
from qdx.cli import main
from tests.conftest import STUDY

PROJECT = STUDY / "project.qdpx"


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The study project as .qdpx, .qde and .qdc, to pipe in."""
    folder = tmp_path_factory.mktemp("stdio")
    project = qdx.read(PROJECT)
    out = {"qdpx": PROJECT}
    for suffix in ("qde", "qdc"):
        out[suffix] = folder / f"p.{suffix}"
        with warnings.catch_warnings():  # a .qdc keeps the codebook only: that is the point here
            warnings.simplefilter("ignore", qdx.LossyConversionWarning)
            qdx.write(project, out[suffix])
    return out


def run(args: list[str], data: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args, input=data)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("suffix", ["qdpx", "qde", "qdc"])
def test_info_reads_stdin_and_sniffs_the_format(suffix: str, copies: dict[str, Path]) -> None:
    path = copies[suffix]
    from_file = json.loads(run(["info", str(path), "--json"])[1])
    code, out, err = run(["info", "-", "--json"], path.read_bytes())
    assert code == 0, err
    from_stdin = json.loads(out)
    assert from_stdin["format"] == suffix
    assert from_stdin == from_file


def test_validate_reads_stdin(copies: dict[str, Path]) -> None:
    code, out, err = run(["validate", "-", "--structure", "gt", "--json"], copies["qde"].read_bytes())
    assert code == 0, err
    expected = json.loads(run(["validate", str(copies["qde"]), "--structure", "gt", "--json"])[1])
    assert json.loads(out) == expected and expected["levels"]["concepts"] == 40
    code, out, _ = run(["validate", "-"], copies["qde"].read_bytes())
    assert out.strip().splitlines()[-1] == "<stdin>: valid"


def test_validate_stdin_finds_the_same_errors(tmp_path: Path, copies: dict[str, Path]) -> None:
    broken = copies["qde"].read_bytes().replace(b"<CodeBook>", b"<CodeBook><Bogus/>", 1)
    path = tmp_path / "broken.qde"
    path.write_bytes(broken)
    code_file, out_file, _ = run(["validate", str(path), "--json"])
    code, out, _ = run(["validate", "-", "--json"], broken)
    assert code == code_file == 1
    codes = [i["code"] for i in json.loads(out)["issues"]]
    assert codes == [i["code"] for i in json.loads(out_file)["issues"]] and codes


def test_segments_reads_stdin() -> None:
    code, out, err = run(["segments", "-", "--json"], PROJECT.read_bytes())
    assert code == 0, err
    assert json.loads(out) == json.loads(run(["segments", str(PROJECT), "--json"])[1]) != []


def test_empty_stdin_is_one_line_exit_1() -> None:
    code, out, err = run(["info", "-"], b"")
    assert code == 1 and out == ""
    assert err.startswith("qdx: error: <stdin>:") and len(err.strip().splitlines()) == 1


def test_stdin_over_the_limit_is_refused() -> None:
    code, _, err = run(["info", "-", "--max-member-size", "1000"], PROJECT.read_bytes())
    assert code == 1 and "over the limit of 1000" in err and "--max-member-size" in err


# --------------------------------------------------------------------------- standard output


@pytest.mark.parametrize(("command", "fmt"), [("segments", "csv"), ("segments", "json"), ("matrix", "csv")])
def test_dash_output_is_the_file_content(command: str, fmt: str, tmp_path: Path) -> None:
    """``-o - --to FMT`` writes to stdout exactly what ``-o file.FMT`` writes to the file (a CSV
    file's UTF-8 byte-order mark aside: it is for spreadsheets, not pipes)."""
    target = tmp_path / f"out.{fmt}"
    assert run([command, str(PROJECT), "-o", str(target)])[0] == 0
    result = CliRunner().invoke(main, [command, str(PROJECT), "-o", "-", "--to", fmt])
    assert result.exit_code == 0, result.stderr
    expected = target.read_bytes().removeprefix("\ufeff".encode())
    assert result.stdout_bytes == expected and len(expected) > 1000
    assert list(tmp_path.iterdir()) == [target]  # no file named "-"
    if fmt == "csv":  # the file has the mark by default (--bom); standard output never, even when asked
        assert target.read_bytes().startswith("\ufeff".encode())
        asked = CliRunner().invoke(main, [command, str(PROJECT), "-o", "-", "--to", fmt, "--bom"])
        assert asked.exit_code == 0 and asked.stdout_bytes == expected


def test_matrix_json_to_stdout_is_the_json_document() -> None:
    code, out, err = run(["matrix", str(PROJECT), "-o", "-", "--to", "json"])
    assert code == 0, err
    assert json.loads(out) == json.loads(run(["matrix", str(PROJECT), "--json"])[1])


def test_segments_csv_from_stdin_to_stdout_parses() -> None:
    import csv
    import io

    result = CliRunner().invoke(main, ["segments", "-", "-o", "-", "--to", "csv"], input=PROJECT.read_bytes())
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    segments = json.loads(run(["segments", str(PROJECT), "--json"])[1])
    assert result.exit_code == 0 and len(rows) == len(segments) > 0
    assert [r["text"] for r in rows] == [s["text"] for s in segments]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "-"], "say the format with --to"),
        (["-o", "x.csv", "--to", "csv"], "--to needs -o -"),
        (["-o", "-", "--to", "json", "--json"], "drop --json"),
    ],
)
@pytest.mark.parametrize("command", ["segments", "matrix"])
def test_dash_output_needs_to_and_nothing_else(command: str, args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [command, str(PROJECT), *args])
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "x.csv").exists() and not Path("x.csv").exists()


def test_any_command_reading_projects_takes_one_dash() -> None:
    """load() is every command's reader, so ``-`` works for one input of diff too ..."""
    other = str(STUDY / "coder-b.qdpx")
    code, out, err = run(["diff", "-", other, "--json"], PROJECT.read_bytes())
    assert code == 1, err  # they differ
    assert json.loads(out) == json.loads(run(["diff", str(PROJECT), other, "--json"])[1])


def test_dash_twice_is_a_usage_error() -> None:
    """... but standard input can be read once: a second ``-`` would find it empty."""
    code, _, err = run(["diff", "-", "-"], PROJECT.read_bytes())
    assert code == 2 and "can be read once" in err
