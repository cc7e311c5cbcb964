"""Errors are one line whatever the names they carry (a CLI prints them as-is)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from qdx.cli import main
from qdx.errors import QdxError, ReadError


def test_message_and_location_are_one_line() -> None:
    err = ReadError("bad\nthing  happened", location="dir/evil\nname.qdpx!sources/a\rb.txt")
    assert "\n" not in str(err) and "\r" not in str(err)
    assert str(err) == "dir/evil\\x0aname.qdpx!sources/a\\x0db.txt: bad thing happened"


def test_empty_message_is_a_programming_error() -> None:
    try:
        QdxError("")
    except TypeError:
        return
    raise AssertionError("QdxError('') must be refused")


def test_cli_error_for_a_file_name_with_a_newline(tmp_path: Path) -> None:
    bad = tmp_path / "bad\nname.qdpx"
    bad.write_bytes(b"not a zip")
    result = CliRunner().invoke(main, ["info", str(bad)])
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("qdx: error:") and "\\x0a" in lines[0]
