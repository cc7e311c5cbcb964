"""Writing one output: the output-path policy (:func:`output_plan`) and :func:`atomic_write`,
which writes a temporary file in the target folder and renames it only when complete, so a
failure leaves the previous file intact and no stray file; and backups of a file about to be
replaced.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from lxml import etree

from qdx.errors import WriteError
from qdx.safety.temps import (
    TMP_PREFIX,
    TMP_SUFFIX,
    _final_mode,
    _quiet,
    _temp_stem,
    cleanup_on_signals,
    remove_stale_temps,
)


@dataclass(frozen=True, slots=True)
class OutputPlan:
    """How :func:`atomic_write` writes a target: the decision of :func:`output_plan`.

    ``path`` is the file itself (a symbolic link is followed, like ``cp`` and ``open`` do, so the
    link stays a link); ``replace`` is True for a regular or new file (temp file + rename) and
    False for an existing character device or FIFO, which is written into and never replaced.
    """

    path: Path
    replace: bool


def output_plan(path: str | os.PathLike[str]) -> OutputPlan:
    """Decide how ``path`` may be written; only looks (``lstat``/``stat``), never writes.

    The one output-path policy of qdx (every writer goes through :func:`atomic_write` or
    :func:`atomic_folder`):

    * a new or regular file is replaced atomically (temp file + rename);
    * a character device (``/dev/null``, a terminal) or FIFO is written *into*: renaming a file
      over it would turn ``/dev/null`` into a regular file for the whole system;
    * a symbolic link is followed and the policy applies to what it names, so the link itself
      is never replaced; a link in a shared sticky folder (``/tmp``) that belongs to someone
      else is not followed (the kernel's ``protected_symlinks`` rule);
    * a write-protected file (no owner write bit, or not writable by us) is refused, as ``cp``
      refuses it, even for root;
    * folders, block devices and sockets are refused.

    Raises:
        WriteError: the target is refused; the message says why.
    """
    target = Path(path)
    where = str(target)
    node = _lstat(target, where)
    if node is not None and stat.S_ISLNK(node.st_mode):
        _check_link(target, node, where)
        plan = _plan_for(target, _stat(target, where), where)  # the kernel follows the link
        # A file is replaced where it really lives, so the link stays a link. A device or FIFO
        # is opened through the link: /dev/stdout -> /proc/self/fd/1 names a pipe no path
        # spells.
        return OutputPlan(Path(os.path.realpath(target)), replace=True) if plan.replace else plan
    return _plan_for(target, node, where)


def _lstat(path: Path, where: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WriteError(f"cannot write ({exc.strerror or exc})", location=where) from exc


def _stat(path: Path, where: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:  # a symlink loop, a folder we may not search
        raise WriteError(f"cannot write ({exc.strerror or exc})", location=where) from exc


def _check_link(link: Path, node: os.stat_result, where: str) -> None:
    """Refuse a link another user planted in a sticky world-writable folder (``/tmp``)."""
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None:
        return
    try:
        folder = os.stat(link.parent if str(link.parent) else ".")
    except OSError:
        return
    shared = folder.st_mode & stat.S_ISVTX and folder.st_mode & stat.S_IWOTH
    if shared and node.st_uid not in (folder.st_uid, geteuid()):
        raise WriteError(
            "is a symbolic link owned by another user in a shared folder; not followed", location=where
        )


def _plan_for(path: Path, node: os.stat_result | None, where: str) -> OutputPlan:
    if node is None:
        return OutputPlan(path, replace=True)
    mode = node.st_mode
    if stat.S_ISREG(mode):
        if not mode & stat.S_IWUSR or not os.access(path, os.W_OK):
            raise WriteError(
                "file is write-protected; not replaced (make it writable or remove it first)", location=where
            )
        return OutputPlan(path, replace=True)
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return OutputPlan(path, replace=False)
    kind = "a folder" if stat.S_ISDIR(mode) else "a block device" if stat.S_ISBLK(mode) else "not a file"
    raise WriteError(f"is {kind}; qdx writes files, character devices and FIFOs only", location=where)


def atomic_write(
    path: str | os.PathLike[str],
    produce: Callable[[BinaryIO], None],
    *,
    verify: Callable[[Path], None] | None = None,
) -> None:
    """Write ``path`` through ``produce(stream)`` atomically (temp file + ``os.replace``).

    ``verify``, when given, is called with the finished temporary file before it replaces the
    target (or is copied into a device); if it raises, the temporary file is removed and the
    target stays as it was (so a writer can refuse an output that would not validate without
    ever exposing it).

    Where and how is decided by :func:`output_plan`: a device or FIFO is written into (after
    ``produce`` has finished, from a spool, so a failure writes nothing), a symbolic link is
    followed, a write-protected file is refused.

    The temporary file lives in the target's folder (a rename never crosses file systems)
    and is removed on any failure, including KeyboardInterrupt/SystemExit and SIGTERM/SIGHUP
    (see :func:`cleanup_on_signals`); only a process killed outright leaves one behind, and
    the next write of the same target removes it. The final file gets the mode a plain
    ``open(path, "w")`` would give: the existing file's mode, or ``0o666 & ~umask`` for a new
    file (mkstemp alone would make it 0600).

    Raises:
        WriteError: the target is refused, its folder is missing or the write failed; the
            previous file is intact and no temporary file is left behind.
    """
    plan = output_plan(path)
    if not plan.replace:
        _write_into(plan.path, produce, str(path), verify)
        return
    target = plan.path
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise WriteError(f"folder {folder} does not exist", location=str(path))
    remove_stale_temps(target)
    with cleanup_on_signals():
        try:
            fd, tmp = tempfile.mkstemp(
                prefix=TMP_PREFIX.format(name=_temp_stem(target.name)) + f"{os.getpid()}-",
                suffix=TMP_SUFFIX,
                dir=folder,
            )
        except OSError as exc:
            raise WriteError(f"cannot write ({exc.strerror or exc})", location=str(path)) from exc
        stream = _WatchedStream(os.fdopen(fd, "wb"))
        try:
            with stream:
                produce(cast(BinaryIO, stream))
                stream.flush()
                os.fsync(stream.fileno())
            if verify is not None:
                verify(Path(tmp))
            os.chmod(tmp, _final_mode(target))
            os.replace(tmp, target)
        except BaseException as exc:
            with _quiet():
                os.unlink(tmp)
            cause = _write_failure(exc, stream)
            if cause is not None:
                raise WriteError(f"cannot write ({cause.strerror or cause})", location=str(path)) from exc
            raise
        finally:
            stream.retire()


def _write_failure(exc: BaseException, stream: _WatchedStream) -> OSError | None:
    """The OS error behind a failed write, however a library wrapped it (openpyxl's lxml
    writer turns ENOSPC into ``SerialisationError: IO_ENOSPC``); None for an interrupt."""
    if isinstance(exc, OSError):
        return exc
    if not isinstance(exc, Exception):
        return None
    if stream.failure is not None:
        return stream.failure
    # openpyxl writes each sheet through lxml into a temporary file of its own; lxml reports
    # that file's write errors as "IO_<errno name>".
    name = str(exc).partition(" ")[0]
    if isinstance(exc, etree.SerialisationError) and name.startswith("IO_"):
        number = getattr(errno, name[3:], None)
        if isinstance(number, int):
            return OSError(number, os.strerror(number))
    return None


class _WatchedStream:
    """A file that remembers the OS error a write met, and that, once retired, swallows what
    a library still writes: openpyxl's half-written zip otherwise tries to finish itself when
    garbage-collected and prints an "Exception ignored" traceback after qdx's one-line error."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw: BinaryIO | None = raw
        self.failure: OSError | None = None
        self._pos = 0  # once retired: where writes would be, so a zip's end record adds up

    def _live(self) -> BinaryIO:
        if self._raw is None:
            raise ValueError("the output is closed")
        return self._raw

    def write(self, data: bytes) -> int:
        if self._raw is None:
            self._pos += len(data)
            return len(data)
        try:
            return self._raw.write(data)
        except OSError as exc:
            self.failure = exc
            raise

    def flush(self) -> None:
        if self._raw is not None and not self._raw.closed:
            try:
                self._raw.flush()
            except OSError as exc:
                self.failure = exc
                raise

    def seek(self, offset: int, whence: int = 0) -> int:
        if self._raw is not None:
            return self._raw.seek(offset, whence)
        self._pos = offset if whence == io.SEEK_SET else self._pos + offset
        return self._pos

    def tell(self) -> int:
        return self._raw.tell() if self._raw is not None else self._pos

    def seekable(self) -> bool:
        return self._raw is not None and self._raw.seekable()

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._live().fileno()

    @property
    def closed(self) -> bool:
        return self._raw is None or self._raw.closed

    def close(self) -> None:
        if self._raw is not None and not self._raw.closed:
            with contextlib.suppress(OSError, ValueError):
                self._pos = self._raw.tell()
            self._raw.close()

    def retire(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.close()
        self._raw = None

    def __enter__(self) -> _WatchedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_into(
    node: Path, produce: Callable[[BinaryIO], None], where: str, verify: Callable[[Path], None] | None = None
) -> None:
    """Write into an existing character device or FIFO, never creating or replacing it.

    ``produce`` writes to a spool first (anonymous, unlinked at once, so nothing is left
    behind even on SIGKILL; a named one in a private folder when ``verify`` must read it): a
    failure half-way, or a refusal by ``verify``, writes nothing into the device.
    """
    try:
        with contextlib.ExitStack() as stack:
            if verify is None:
                spool = stack.enter_context(tempfile.TemporaryFile())
            else:
                named = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qdx-spool-"))) / node.name
                spool = stack.enter_context(named.open("w+b"))
            produce(cast(BinaryIO, spool))
            spool.flush()
            if verify is not None:
                verify(named)
            spool.seek(0)
            # No O_CREAT: if the node vanished since output_plan looked, nothing is created.
            fd = os.open(node, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
            with os.fdopen(fd, "wb") as out:
                if not (stat.S_ISCHR(os.fstat(fd).st_mode) or stat.S_ISFIFO(os.fstat(fd).st_mode)):
                    raise WriteError("changed into a regular file while being written; stopped", location=where)
                shutil.copyfileobj(spool, out, 1 << 20)
    except OSError as exc:
        raise WriteError(f"cannot write ({exc.strerror or exc})", location=where) from exc


def backup_path(path: str | os.PathLike[str]) -> Path:
    """``<name>.bak``, or ``<name>.bak.N`` with the first free N when that exists."""
    target = Path(path)
    candidate = target.with_name(target.name + ".bak")
    n = 1
    while candidate.exists():
        candidate = target.with_name(f"{target.name}.bak.{n}")
        n += 1
    return candidate


def make_backup(path: str | os.PathLike[str]) -> Path:
    """Copy ``path`` to :func:`backup_path` (atomically, never over an existing backup).

    Raises:
        WriteError: the copy could not be written; ``path`` is untouched.
    """
    source = Path(path)
    backup = backup_path(source)

    def copy(stream: BinaryIO) -> None:
        with source.open("rb") as original:
            shutil.copyfileobj(original, stream, 1 << 20)

    atomic_write(backup, copy)
    with _quiet():
        shutil.copystat(source, backup)
    return backup
