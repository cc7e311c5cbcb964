"""Never lose data: every output is written to a temporary file and renamed when complete.

* a failure half-way (ENOSPC, KeyboardInterrupt, SystemExit) leaves the previous file intact
  and no temporary file behind;
* a writer killed with SIGKILL cannot clean up: the previous file is intact, its temporary
  file (``.NAME.qdx-PID-*.tmp``) remains and the next write of the same target removes it;
* the final file has the mode ``open()`` would give (not mkstemp's 0600);
* every command that writes files goes through :func:`qdx.safety.atomic_write`;
* writing onto the input is refused unless ``convert --in-place``, which keeps ``IN.bak``.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest
from click.testing import CliRunner

import qdx
from qdx.cli import main
from qdx.errors import WriteError
from qdx.safety import atomic_write, backup_path, remove_stale_temps
from tests.conftest import STUDY

OLD = b"previous contents\n" * 100
CHUNK = b"n" * 65536


def temps(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture()
def previous(tmp_path: Path) -> Path:
    target = tmp_path / "out.qdpx"
    target.write_bytes(OLD)
    return target


def half_then(exc: BaseException):  # type: ignore[no-untyped-def]
    """A produce callback that writes 1 MB, then fails like a full disk or a Ctrl-C would."""

    def produce(stream: BinaryIO) -> None:
        for _ in range(16):
            stream.write(CHUNK)
        stream.flush()
        raise exc

    return produce


# --------------------------------------------------------------------------- failures half-way


def test_enospc_half_way_keeps_previous_file(previous: Path) -> None:
    with pytest.raises(WriteError, match="No space left on device"):
        atomic_write(previous, half_then(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))))
    assert previous.read_bytes() == OLD
    assert temps(previous.parent) == []


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3)])
def test_interrupt_half_way_keeps_previous_file(previous: Path, exc: BaseException) -> None:
    with pytest.raises(type(exc)):
        atomic_write(previous, half_then(exc))
    assert previous.read_bytes() == OLD
    assert temps(previous.parent) == []


def test_failure_without_previous_file_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(WriteError):
        atomic_write(tmp_path / "new.xlsx", half_then(OSError(errno.ENOSPC, "full")))
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_a_write_error(tmp_path: Path) -> None:
    with pytest.raises(WriteError, match="does not exist"):
        atomic_write(tmp_path / "nope" / "x.csv", lambda s: None)


def test_success_replaces_previous_file(previous: Path) -> None:
    atomic_write(previous, lambda s: s.write(b"new") and None)
    assert previous.read_bytes() == b"new"
    assert temps(previous.parent) == []


KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from qdx.safety import atomic_write

    def produce(stream):
        for _ in range(128):              # 8 MB, then stop half-way and wait to be killed
            stream.write(b"k" * 65536)
        stream.flush()
        print("half", flush=True)
        time.sleep(60)

    atomic_write(sys.argv[1], produce)
    """
)


def test_sigkill_half_way_keeps_previous_file_and_next_write_cleans_up(previous: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(previous)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "half"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert previous.read_bytes() == OLD
    # No code runs on SIGKILL: the temporary file stays, recognisably named after its target.
    stray = temps(previous.parent)
    assert [p.name.startswith(f".out.qdpx.qdx-{child.pid}-") for p in stray] == [True]
    assert stray[0].stat().st_size >= 8 * len(CHUNK)
    atomic_write(previous, lambda s: s.write(b"after") and None)
    assert previous.read_bytes() == b"after"
    assert temps(previous.parent) == []


def test_temp_files_of_a_live_writer_are_kept(tmp_path: Path) -> None:
    """Another process writing the same target right now must not lose its temp file."""
    target = tmp_path / "t.csv"
    live = tmp_path / f".t.csv.qdx-{os.getppid()}-abc.tmp"
    own = tmp_path / f".t.csv.qdx-{os.getpid()}-def.tmp"
    other_target = tmp_path / ".u.csv.qdx-999999999-x.tmp"
    for p in (live, own, other_target):
        p.write_bytes(b"x")
    assert remove_stale_temps(target) == []
    assert live.exists() and own.exists() and other_target.exists()


# --------------------------------------------------------------------------- file mode


@pytest.fixture()
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def test_new_file_mode_follows_umask(tmp_path: Path, umask_027: None) -> None:
    atomic_write(tmp_path / "a.xlsx", lambda s: None)
    with open(tmp_path / "b.xlsx", "wb"):  # what a plain open() gives, the oracle
        pass
    assert stat.S_IMODE((tmp_path / "a.xlsx").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "b.xlsx").stat().st_mode) == 0o640


def test_existing_file_keeps_its_mode(previous: Path) -> None:
    previous.chmod(0o604)
    atomic_write(previous, lambda s: None)
    assert stat.S_IMODE(previous.stat().st_mode) == 0o604


# --------------------------------------------------------------------------- every command


def _study_commands(tmp: Path) -> list[tuple[list[str], Path]]:
    project, coder_b = str(STUDY / "project.qdpx"), str(STUDY / "coder-b.qdpx")
    return [
        (["convert", project, str(tmp / "c.qdpx")], tmp / "c.qdpx"),
        (["convert", project, str(tmp / "c.qde")], tmp / "c.qde"),
        (["segments", project, "-o", str(tmp / "s.csv")], tmp / "s.csv"),
        (["segments", project, "-o", str(tmp / "s.xlsx")], tmp / "s.xlsx"),
        (["segments", project, "-o", str(tmp / "s.json")], tmp / "s.json"),
        (["report", project, "-o", str(tmp / "r.xlsx")], tmp / "r.xlsx"),
        (["matrix", project, "-o", str(tmp / "m.xlsx")], tmp / "m.xlsx"),
        (["matrix", project, "-o", str(tmp / "m.csv")], tmp / "m.csv"),
        (["audit", project, "-o", str(tmp / "a.xlsx")], tmp / "a.xlsx"),
        (["agree", project, coder_b, "-o", str(tmp / "ag.xlsx")], tmp / "ag.xlsx"),
        (["merge", project, coder_b, "-o", str(tmp / "mg.qdpx")], tmp / "mg.qdpx"),
        (["export", project, str(tmp / "ex"), "--to", "csv"], tmp / "ex" / "codes.csv"),
        (["saturation", project, "--plot", str(tmp / "p.png")], tmp / "p.png"),
    ]


def test_every_writing_command_writes_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the disk "fill up" when a file is flushed: atomic_write turns that into exit 1 with
    the previous file intact; a command writing in place would have replaced it."""
    (tmp_path / "ex").mkdir()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    runner = CliRunner()
    failures = []
    for args, output in _study_commands(tmp_path):
        output.write_bytes(OLD)
        result = runner.invoke(main, args)
        kept = output.read_bytes() == OLD
        if result.exit_code != 1 or not kept or "No space left" not in result.output:
            failures.append(
                f"{args[0]} -> {output.name}: exit {result.exit_code}, kept {kept}: {result.output[-200:]}"
                f" {result.exception!r}"
            )
    assert failures == []
    assert [p.name for p in tmp_path.rglob("*.tmp")] == []


# --------------------------------------------------------------------------- onto the input


@pytest.fixture()
def study_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "project.qdpx"
    shutil.copyfile(STUDY / "project.qdpx", copy)
    return copy


def test_convert_onto_input_is_refused(study_copy: Path) -> None:
    before = study_copy.read_bytes()
    result = CliRunner().invoke(main, ["convert", str(study_copy), str(study_copy)])
    assert result.exit_code == 2
    assert "--in-place" in result.output
    assert study_copy.read_bytes() == before
    assert sorted(p.name for p in study_copy.parent.iterdir()) == ["project.qdpx"]


def test_convert_in_place_keeps_numbered_backups(study_copy: Path) -> None:
    original = study_copy.read_bytes()
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(main, ["convert", str(study_copy), str(study_copy), "--in-place", "--dialect", "nvivo"])
        assert result.exit_code == 0, result.output
    names = sorted(p.name for p in study_copy.parent.iterdir())
    assert names == ["project.qdpx", "project.qdpx.bak", "project.qdpx.bak.1"]
    assert (study_copy.parent / "project.qdpx.bak").read_bytes() == original
    assert study_copy.read_bytes() != original  # really rewritten (nvivo dialect differs)
    assert len(qdx.read(study_copy).sources) == len(qdx.read(STUDY / "project.qdpx").sources)


def test_in_place_to_another_file_makes_no_backup(study_copy: Path) -> None:
    result = CliRunner().invoke(main, ["convert", str(study_copy), str(study_copy.with_suffix(".qde")), "--in-place"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in study_copy.parent.iterdir()) == ["project.qde", "project.qdpx"]


def test_backup_path_numbering(tmp_path: Path) -> None:
    target = tmp_path / "p.qdpx"
    assert backup_path(target).name == "p.qdpx.bak"
    (tmp_path / "p.qdpx.bak").write_bytes(b"")
    (tmp_path / "p.qdpx.bak.1").write_bytes(b"")
    assert backup_path(target).name == "p.qdpx.bak.2"


def test_saturation_plot_onto_input_is_refused(study_copy: Path) -> None:
    before = study_copy.read_bytes()
    result = CliRunner().invoke(main, ["saturation", str(study_copy), "--plot", str(study_copy)])
    assert result.exit_code == 2, result.output
    assert study_copy.read_bytes() == before


def test_in_place_refuses_a_folder(tmp_path: Path) -> None:
    """A folder has no single backup file: --in-place onto an NVivo export folder is refused."""
    folder = tmp_path / "export"
    shutil.copytree(STUDY.parent / "nvivo" / "export", folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    result = CliRunner().invoke(main, ["convert", str(folder), str(folder), "--to", "nvivo-text", "--in-place"])
    assert result.exit_code == 2 and "not a folder" in result.output
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_refused_in_place_convert_leaves_no_backup(tmp_path: Path) -> None:
    """A refused --in-place write replaced nothing, so it keeps no IN.bak either: a failed
    command leaves no partial output (its one copy of IN would be just that)."""
    project = tmp_path / "broken.qde"
    assert CliRunner().invoke(main, ["convert", str(STUDY / "project.qdpx"), str(project)]).exit_code == 0
    text = project.read_text(encoding="utf-8")
    ref = text.index('<CodeRef targetGUID="') + len('<CodeRef targetGUID="')
    project.write_text(text[:ref] + "00000000-0000-4000-8000-00000000dead" + text[ref + 36 :], encoding="utf-8")
    before = project.read_bytes()
    result = CliRunner().invoke(main, ["convert", str(project), str(project), "--in-place"])
    assert result.exit_code == 1, result.output
    assert "nothing written" in result.output and "kept the original" not in result.output
    assert project.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.qde"]
    # The same command told to write anyway does replace IN, and keeps the copy.
    result = CliRunner().invoke(main, ["convert", str(project), str(project), "--in-place", "--allow-invalid"])
    assert result.exit_code == 1 and "kept the original" in result.output
    assert (tmp_path / "broken.qde.bak").read_bytes() == before
