"""Inputs are only read: every command run on a read-only copy of the study leaves it as it was.

The copy is chmod 0444 (folder 0555). Tests may run as root, which ignores those modes, so
the oracle does not rely on them: a Python audit hook records every ``open`` of a path inside
the copy together with its flags, and the test asserts no such open asked for writing; the
files' bytes and mtimes and the folder listing must also be unchanged afterwards.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from qdx.cli import main
from tests.conftest import STUDY

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

# (path, flags) of every open() while recording; None when not recording. Audit hooks cannot
# be removed, so this one is installed once and does nothing outside these tests.
_OPENS: list[tuple[str, int]] | None = None
_HOOKED = False


def _hook(event: str, args: tuple[object, ...]) -> None:
    if _OPENS is not None and event == "open" and len(args) >= 3:
        path, _mode, flags = args[:3]
        if isinstance(path, str | bytes | os.PathLike) and isinstance(flags, int):
            _OPENS.append((os.fsdecode(path), flags))


@pytest.fixture()
def opens() -> Iterator[list[tuple[str, int]]]:
    global _OPENS, _HOOKED
    if not _HOOKED:
        sys.addaudithook(_hook)
        _HOOKED = True
    _OPENS = []
    try:
        yield _OPENS
    finally:
        _OPENS = None


@pytest.fixture()
def readonly_study(tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "study"
    copy.mkdir()
    for name in ("project.qdpx", "coder-b.qdpx", "project-nvivo.qdpx", "codebook.qdc"):
        shutil.copy2(STUDY / name, copy / name)
        (copy / name).chmod(0o444)
    copy.chmod(0o555)
    try:
        yield copy
    finally:
        copy.chmod(0o755)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns, stat.S_IMODE(p.stat().st_mode)) for p in sorted(folder.iterdir())
    }


def commands(study: Path, out: Path) -> list[list[str]]:
    p, b, n, c = (str(study / f) for f in ("project.qdpx", "coder-b.qdpx", "project-nvivo.qdpx", "codebook.qdc"))
    return [
        ["info", p, "--json"],
        ["info", c],
        ["validate", p],
        ["validate", n, "--json"],
        ["audit", p, c, "-o", str(out / "audit.xlsx")],
        ["diff", p, b],
        ["segments", p, "-o", str(out / "s.csv")],
        ["matrix", p, "-o", str(out / "m.xlsx")],
        ["report", p, "-o", str(out / "r.xlsx")],
        ["agree", p, b, "-o", str(out / "agree.xlsx")],
        ["merge", p, b, "-o", str(out / "merged.qdpx")],
        ["saturation", p, "--plot", str(out / "sat.png")],
        ["export", p, str(out / "tables"), "--to", "csv"],
        ["convert", p, str(out / "c.qde")],
        ["convert", n, str(out / "c.qdc")],
    ]


def test_commands_leave_read_only_inputs_untouched(
    readonly_study: Path, tmp_path: Path, opens: list[tuple[str, int]]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    before = snapshot(readonly_study)
    runner = CliRunner()
    ran = []
    for args in commands(readonly_study, out):
        result = runner.invoke(main, args)
        # 0 or 1 (validation findings, saturation not reached); never a crash or usage error.
        assert result.exit_code in (0, 1), (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
        assert "error" not in result.stderr, (args, result.stderr)
        ran.append(args[0])
    assert snapshot(readonly_study) == before
    inside = str(readonly_study)
    touched = [(path, flags) for path, flags in opens if path.startswith(inside)]
    assert touched, "the audit hook saw no open of the inputs: the oracle is blind"
    assert [(path, oct(flags)) for path, flags in touched if flags & WRITE_FLAGS] == []
    assert len(set(ran)) == 12
    written = {"audit.xlsx", "s.csv", "m.xlsx", "r.xlsx", "agree.xlsx", "merged.qdpx", "sat.png", "tables",
               "c.qde", "c.qdc"}  # fmt: skip
    assert {p.name for p in out.iterdir()} == written


def test_audit_hook_sees_a_write(tmp_path: Path, opens: list[tuple[str, int]]) -> None:
    """The oracle works: an open for writing inside the folder is recorded with write flags."""
    with open(tmp_path / "x", "wb"):
        pass
    assert any(path.endswith("x") and flags & WRITE_FLAGS for path, flags in opens)
