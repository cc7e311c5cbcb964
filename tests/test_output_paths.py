"""One output-path policy for every writer (qdx.safety.output_plan, used by atomic_write and
atomic_folder), tested only in throwaway folders: the real /dev is never written.

* No command can replace a device, a FIFO or a symlink with a regular file: a FIFO and a
  character device are written *into*, a symlink is followed (the link stays a link).
* A write-protected (0444) target is refused, as cp refuses it, even for root.
* A target name near NAME_MAX can be written (the temporary name is short).
* SIGTERM and SIGHUP half-way leave the previous file and no temporary file.
* Folder outputs are all-or-nothing and never collide (NVivo coded-text folder, export).
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest
from click.testing import CliRunner

from qdx.cli import main
from qdx.errors import WriteError
from qdx.safety import atomic_folder, atomic_write, output_plan
from tests.conftest import STUDY

PROJECT = str(STUDY / "project.qdpx")
CODER_B = str(STUDY / "coder-b.qdpx")


def writing_commands(target: Path) -> list[list[str]]:
    """Every command that writes one file, aimed at ``target``."""
    t = str(target)
    return [
        ["convert", PROJECT, t, "--to", "qdpx"],
        ["segments", PROJECT, "-o", t],
        ["report", PROJECT, "-o", t],
        ["audit", PROJECT, "-o", t],
        ["agree", PROJECT, CODER_B, "-o", t],
        ["merge", PROJECT, CODER_B, "-o", t],
        ["saturation", PROJECT, "--plot", t],
    ]


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


# --------------------------------------------------------------------------- the decision


def test_plan_for_new_and_regular_files(tmp_path: Path) -> None:
    assert output_plan(tmp_path / "new.xlsx").replace
    (tmp_path / "old.xlsx").write_bytes(b"x")
    assert output_plan(tmp_path / "old.xlsx").replace


def test_plan_for_dev_null_writes_into_it() -> None:
    """Only looks at /dev/null (lstat/stat): the decision is to write into, never replace it."""
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    plan = output_plan("/dev/null")
    assert not plan.replace and plan.path == Path("/dev/null")


def test_plan_for_fifo_and_links(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert not output_plan(fifo).replace
    real = tmp_path / "real.csv"
    real.write_bytes(b"x")
    (tmp_path / "link.csv").symlink_to(real)
    plan = output_plan(tmp_path / "link.csv")
    assert plan.replace and plan.path == real.resolve()
    (tmp_path / "fifo-link").symlink_to(fifo)
    assert not output_plan(tmp_path / "fifo-link").replace


@pytest.mark.parametrize("mode", [0o444, 0o044])
def test_plan_refuses_write_protected_files(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "ro.csv"
    target.write_bytes(b"x")
    target.chmod(mode)
    with pytest.raises(WriteError, match="write-protected"):
        output_plan(target)


def test_plan_refuses_folders_and_loops(tmp_path: Path) -> None:
    with pytest.raises(WriteError, match="folder"):
        output_plan(tmp_path)
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(WriteError):
        output_plan(tmp_path / "a")


def test_plan_refuses_a_block_device(tmp_path: Path) -> None:
    """A block device node made in tmp (root only); the policy only looks at it."""
    node = tmp_path / "disk"
    try:
        os.mknod(node, stat.S_IFBLK | 0o600, os.makedev(7, 200))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here ({exc})")
    with pytest.raises(WriteError, match="block device"):
        output_plan(node)


# --------------------------------------------------------------------------- every command


@pytest.fixture()
def fifo(tmp_path: Path) -> Iterator[tuple[Path, list[bytes]]]:
    """A FIFO with a reader draining it in a thread (a writer would block without one)."""
    path = tmp_path / "out.pipe"
    os.mkfifo(path)
    received: list[bytes] = []
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            with open(path, "rb") as reader:
                received.append(reader.read())

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    yield path, received
    stop.set()
    # Wake a reader blocked in open() so it sees stop. Non-blocking: when the reader has already
    # seen stop and left, a blocking open for writing would wait forever for one.
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:  # ENXIO: no reader any more
        pass
    thread.join(timeout=5)


def test_no_command_replaces_a_fifo(fifo: tuple[Path, list[bytes]]) -> None:
    path, received = fifo
    for args in writing_commands(path):
        status, err = run(args)
        assert stat.S_ISFIFO(os.lstat(path).st_mode), f"{args[0]} replaced the FIFO"
        assert status in (0, 1, 2), err  # a command may refuse an extension-less name; never replace
    assert any(chunk.startswith(b"PK") for chunk in received), "nothing was written into the FIFO"


def test_no_command_replaces_a_character_device(tmp_path: Path) -> None:
    """A copy of the null device (1, 3) made in tmp, as root: writing into it is harmless."""
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here ({exc})")
    for args in [*writing_commands(node), ["convert", PROJECT, str(node), "--to", "qde"]]:
        run(args)
        mode = os.lstat(node).st_mode
        assert stat.S_ISCHR(mode) and os.lstat(node).st_rdev == os.makedev(1, 3), f"{args[0]} replaced the device"


@pytest.mark.parametrize("suffix", [".qdpx", ".csv", ".xlsx", ".png"])
def test_no_command_replaces_a_symlink(tmp_path: Path, suffix: str) -> None:
    real = tmp_path / f"real{suffix}"
    real.write_bytes(b"old")
    link = tmp_path / f"link{suffix}"
    link.symlink_to(real.name)  # relative, as users make them
    wrote = 0
    for args in writing_commands(link):
        status, _err = run(args)
        assert link.is_symlink() and os.readlink(link) == real.name, f"{args[0]} replaced the link"
        wrote += status == 0
    assert wrote and real.read_bytes() != b"old"  # written through the link


def test_read_only_target_is_refused_like_cp(tmp_path: Path) -> None:
    target = tmp_path / "out.qdpx"
    target.write_bytes(b"precious")
    target.chmod(0o444)
    status, err = run(["convert", PROJECT, str(target)])
    assert status == 1 and err.count("\n") == 1 and "write-protected" in err
    assert target.read_bytes() == b"precious"


def test_near_name_max_output_name(tmp_path: Path) -> None:
    name = "n" * 245 + ".qdpx"  # 250 bytes: fits NAME_MAX (255), a ".<name>.qdx-PID-....tmp" would not
    status, err = run(["convert", PROJECT, str(tmp_path / name)])
    assert status == 0, err
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_write_into_a_device_is_all_or_nothing(fifo: tuple[Path, list[bytes]]) -> None:
    """produce fails half-way: nothing reaches the FIFO (it is spooled first)."""
    path, received = fifo

    def half(stream: BinaryIO) -> None:
        stream.write(b"half")
        raise OSError(errno.ENOSPC, "full")

    with pytest.raises(WriteError):
        atomic_write(path, half)
    atomic_write(path, lambda s: s.write(b"whole") and None)
    for _ in range(50):
        if b"whole" in b"".join(received):
            break
        threading.Event().wait(0.05)
    assert b"half" not in b"".join(received) and b"whole" in b"".join(received)


# --------------------------------------------------------------------------- signals

TERMINATED_WRITER = textwrap.dedent(
    """
    import sys, time
    from qdx.safety import atomic_write

    def produce(stream):
        stream.write(b"k" * 65536)
        stream.flush()
        print("half", flush=True)
        time.sleep(60)

    atomic_write(sys.argv[1], produce)
    """
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_remove_the_temp_file(tmp_path: Path, signum: int) -> None:
    target = tmp_path / "out.qdpx"
    target.write_bytes(b"previous")
    # The child starts with the signal's default action, as in a terminal: under nohup (or a CI
    # runner that ignores SIGHUP) it would inherit "ignore", which qdx rightly leaves alone.
    child = subprocess.Popen(
        [sys.executable, "-c", TERMINATED_WRITER, str(target)],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signum, signal.SIG_DFL),
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "half"
        assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
        os.kill(child.pid, signum)
    finally:
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signum  # ended by the signal, as without qdx's handler
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.qdpx"]


# --------------------------------------------------------------------------- folders


def test_folder_failure_half_way_leaves_nothing(tmp_path: Path) -> None:
    def fail(stream: BinaryIO) -> None:
        stream.write(b"half")
        raise OSError(errno.ENOSPC, "full")

    files = {"a.txt": lambda s: s.write(b"a") and None, "sub/b.txt": fail}
    with pytest.raises(WriteError):
        atomic_folder(tmp_path / "new", files)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "a.txt").write_bytes(b"before")
    with pytest.raises(WriteError):
        atomic_folder(tmp_path / "old", files)
    assert [p.name for p in tmp_path.iterdir()] == ["old"]
    assert [p.name for p in (tmp_path / "old").iterdir()] == ["a.txt"]
    assert (tmp_path / "old" / "a.txt").read_bytes() == b"before"


@pytest.mark.parametrize("names", [["A.txt", "a.txt"], ["A.txt", "A.txt/b.txt"], ["../x.txt"]])
def test_folder_names_that_collide_are_refused_before_writing(tmp_path: Path, names: list[str]) -> None:
    with pytest.raises(WriteError):
        atomic_folder(tmp_path / "out", dict.fromkeys(names, lambda s: None))
    assert list(tmp_path.iterdir()) == []


def test_coded_text_folder_with_colliding_code_names(tmp_path: Path) -> None:
    """Codes A (with a child), A.txt (with a child) and a: every coded code gets its own file."""
    import qdx
    from qdx.model import Code, Coding, Guid, Project, TextSelection, TextSource

    def g(n: int) -> Guid:
        return Guid(f"{n:08x}-0000-4000-8000-000000000000")

    codes = (Code(guid=g(1), name="A", children=(Code(guid=g(2), name="child"),)),
             Code(guid=g(3), name="A.txt", children=(Code(guid=g(4), name="inner"),)),
             Code(guid=g(5), name="a"))
    sels = tuple(TextSelection(guid=g(10 + n), start=0, end=4, codings=(Coding(guid=g(20 + n), code=g(n)),))
                 for n in range(1, 6))
    project = Project(name="p", codes=codes, sources=(TextSource(guid=g(9), name="doc", text="text body",
                                                                  selections=sels),))
    source = tmp_path / "p.qdpx"
    qdx.write(project, source)
    status, err = run(["convert", str(source), str(tmp_path / "out") + "/", "--to", "nvivo-text"])
    assert status == 0, err
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.txt"))
    assert len(written) == 5 and len({w.casefold() for w in written}) == 5
    assert not [p for p in tmp_path.iterdir() if ".qdx-" in p.name]


def test_folder_output_through_links(tmp_path: Path) -> None:
    """A link to a folder is written through; a dangling link is not replaced by a folder."""
    (tmp_path / "real").mkdir()
    (tmp_path / "to-real").symlink_to("real")
    atomic_folder(tmp_path / "to-real", {"a.txt": lambda s: s.write(b"a") and None})
    assert (tmp_path / "to-real").is_symlink() and (tmp_path / "real" / "a.txt").read_bytes() == b"a"
    (tmp_path / "dangling").symlink_to("nowhere")
    with pytest.raises(WriteError, match="symbolic link"):
        atomic_folder(tmp_path / "dangling", {"a.txt": lambda s: None})
    assert (tmp_path / "dangling").is_symlink()
