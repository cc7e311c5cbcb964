"""Every command that writes a file refuses a suffix it cannot write, the same way.

One mechanism (``qdx.report.output.require_suffix``) checks the suffix of every output: a usage
error (exit 2) in one line naming what was asked for and what can be written, before any input
is read, and no file left behind. A file named ``.csv`` holding an Excel workbook (or ``.svg``
holding PNG bytes) would mislead every program that opens it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from qdx.cli import main
from tests.conftest import STUDY

PROJECT = str(STUDY / "project.qdpx")
OTHER = str(STUDY / "coder-b.qdpx")

# (command line with {out} for the output, the suffixes the command writes)
COMMANDS = [
    (["report", "{in}", "-o", "{out}"], (".xlsx", ".html")),
    (["matrix", "{in}", "-o", "{out}"], (".xlsx", ".csv", ".parquet")),
    (["segments", "{in}", "-o", "{out}"], (".csv", ".xlsx", ".json")),
    (["agree", "{in}", OTHER, "-o", "{out}"], (".xlsx",)),
    (["audit", "{in}", "-o", "{out}"], (".xlsx",)),
    (["codebook", "{in}", "-o", "{out}"], (".docx", ".md", ".html")),
    (["model", "{in}", "-o", "{out}"], (".svg", ".pdf", ".png")),
    (["saturation", "{in}", "--plot", "{out}"], (".png", ".svg", ".pdf")),
    (["merge", "{in}", OTHER, "-o", "{dir}/merged.qdpx", "--on-conflict", "ours", "--conflicts", "{out}"],
     (".json", ".xlsx")),
]


def _args(template: list[str], source: str, out: Path) -> list[str]:
    return [a.format(**{"in": source, "out": str(out), "dir": str(out.parent)}) for a in template]


@pytest.mark.parametrize("bad", ["out.txt", "out", "out.xlsx.bak"])
@pytest.mark.parametrize(("template", "allowed"), COMMANDS, ids=[c[0][0] for c in COMMANDS])
def test_bad_suffix_is_one_line_usage_error(tmp_path: Path, template: list[str], allowed: tuple[str, ...],
                                            bad: str) -> None:
    out = tmp_path / bad
    result = CliRunner().invoke(main, _args(template, PROJECT, out))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    suffix = Path(bad).suffix or "a file without extension"
    assert f"as {suffix};" in lines[0], lines[0]
    # The message names exactly the suffixes the command can write, in one shared wording.
    named = lines[0].rpartition("; use ")[2]
    assert set(named.split(", ")) == set(allowed), lines[0]
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the merged project


@pytest.mark.parametrize(("template", "allowed"), COMMANDS, ids=[c[0][0] for c in COMMANDS])
def test_suffix_checked_before_reading(tmp_path: Path, template: list[str], allowed: tuple[str, ...]) -> None:
    """A missing input with a bad output suffix reports the suffix (exit 2), not the input
    (exit 1): the check comes before any work, so a long run never ends in this error."""
    result = CliRunner().invoke(main, _args(template, str(tmp_path / "missing.qdpx"), tmp_path / "out.txt"))
    assert result.exit_code == 2, result.output
    assert "cannot write" in result.output and "as .txt;" in result.output, result.output
