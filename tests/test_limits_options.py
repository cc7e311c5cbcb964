"""Every command that reads archives exposes the zip safety limits, and they take effect.

``--max-member-size`` lowered below the study's ``project.qde`` must make every command refuse
it with one line naming the option; ``--max-ratio`` must refuse (default) and admit (raised)
a member compressed 2,000:1.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from qdx.cli import COMMANDS, main
from tests.conftest import STUDY

PROJECT = str(STUDY / "project.qdpx")
CODER_B = str(STUDY / "coder-b.qdpx")


def invocations(tmp: Path) -> dict[str, list[str]]:
    return {
        "info": ["info", PROJECT],
        "validate": ["validate", PROJECT],
        "convert": ["convert", PROJECT, str(tmp / "c.qde")],
        "segments": ["segments", PROJECT],
        "audit": ["audit", PROJECT],
        "diff": ["diff", PROJECT, CODER_B],
        "merge": ["merge", PROJECT, CODER_B, "-o", str(tmp / "m.qdpx")],
        "agree": ["agree", PROJECT, CODER_B],
        "saturation": ["saturation", PROJECT],
        "matrix": ["matrix", PROJECT],
        "report": ["report", PROJECT, "-o", str(tmp / "r.xlsx")],
        "export": ["export", PROJECT, str(tmp / "t")],
        "codebook": ["codebook", PROJECT, "-o", str(tmp / "c.docx")],
        "model": ["model", PROJECT, "-o", str(tmp / "m.svg")],
        "git": ["git", "textconv", PROJECT],
    }


def test_every_command_is_covered(tmp_path: Path) -> None:
    assert set(invocations(tmp_path)) == set(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_max_member_size_refuses(command: str, tmp_path: Path) -> None:
    args = [*invocations(tmp_path)[command], "--max-member-size", "10000"]
    result = CliRunner().invoke(main, args)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == (2 if command == "diff" else 1), result.output  # diff(1): 1 means "differ"
    assert len(lines) == 1 and lines[0].startswith("qdx: error:"), result.stderr
    assert "over the limit of 10000" in lines[0] and "--max-member-size" in lines[0]
    assert list(tmp_path.iterdir()) == []  # nothing written


def _compressible(tmp: Path) -> Path:
    """A valid project whose source text is 4 MB of one letter (deflates about 1,000:1)."""
    text = "a" * 4_000_000
    qde = (
        '<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="p">'
        '<Sources><TextSource guid="00000000-0000-4000-8000-000000000001" name="t"'
        ' plainTextPath="internal://00000000-0000-4000-8000-000000000001.txt"/></Sources></Project>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde)
        archive.writestr("sources/00000000-0000-4000-8000-000000000001.txt", text, compresslevel=9)
        ratio = archive.getinfo("sources/00000000-0000-4000-8000-000000000001.txt")
        assert ratio.file_size / ratio.compress_size > 1000
    path = tmp / "packed.qdpx"
    path.write_bytes(out.getvalue())
    return path


def test_max_ratio_refuses_by_default_and_can_be_raised(tmp_path: Path) -> None:
    path = str(_compressible(tmp_path))
    runner = CliRunner()
    refused = runner.invoke(main, ["info", path])
    assert refused.exit_code == 1 and "--max-ratio" in refused.stderr, refused.output
    admitted = runner.invoke(main, ["info", path, "--max-ratio", "100000", "--json"])
    assert admitted.exit_code == 0, admitted.output
    assert '"sources": 1' in admitted.stdout


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_limits_come_from_the_one_decorator(command: str) -> None:
    """Each command takes one ``limits`` argument from ``archive_limits``: no command module
    rebuilds the Limits from the two options itself."""
    import importlib
    import inspect

    module = importlib.import_module(COMMANDS[command][0])
    source = inspect.getsource(module)
    assert "@archive_limits" in source and "max_member_size" not in source and "make_limits" not in source
