"""Writing several files under one folder as one step: all of them, or none."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO, cast

from qdx.errors import WriteError
from qdx.safety.inputs import printable
from qdx.safety.output import _lstat, _plan_for, _stat
from qdx.safety.temps import TMP_PREFIX, TMP_SUFFIX, _quiet, _temp_stem, _umask, cleanup_on_signals, remove_stale_temps


def atomic_folder(folder: str | os.PathLike[str], files: Mapping[str, Callable[[BinaryIO], None]]) -> list[Path]:
    """Write several files under ``folder`` as one step: all of them, or none.

    ``files`` maps a relative path (``/``-separated) to its producer. Everything is written
    into a temporary folder beside ``folder`` first; a failure there leaves ``folder`` as it
    was. A new ``folder`` is then renamed into place in one step; into an existing one the
    files are renamed one by one after checking that none would replace a folder, a link or
    a write-protected file. Two paths that differ only in case, or a file that another path
    needs as a folder, are refused before anything is written (they would collide on
    Windows/macOS file systems, or half-way through).

    Returns:
        The files written (under ``folder``).

    Raises:
        WriteError: a name collides, the folder cannot be created, or a file cannot be written.
    """
    where = str(folder)
    _check_names(files, where)
    root, exists = _folder_target(Path(folder), where)
    parent = root.parent if str(root.parent) else Path(".")
    if exists:
        for name in files:
            _check_member(root / name, name, where)
    remove_stale_temps(root)
    with cleanup_on_signals():
        try:
            tmp = Path(tempfile.mkdtemp(
                prefix=TMP_PREFIX.format(name=_temp_stem(root.name)) + f"{os.getpid()}-", suffix=TMP_SUFFIX, dir=parent
            ))
        except OSError as exc:
            raise WriteError(f"cannot create folder ({exc.strerror or exc})", location=where) from exc
        try:
            _fill(tmp, files)
            if not exists:
                os.chmod(tmp, 0o777 & ~_umask())
                os.rename(tmp, root)
            else:
                for name in files:
                    (root / name).parent.mkdir(parents=True, exist_ok=True)
                    os.replace(tmp / name, root / name)
        except BaseException as exc:
            with _quiet():
                shutil.rmtree(tmp)
            if isinstance(exc, OSError):
                raise WriteError(f"cannot write ({exc.strerror or exc})", location=where) from exc
            raise
        with _quiet():
            shutil.rmtree(tmp)  # what is left: the empty sub-folders of an existing folder's files
    return [Path(folder) / name for name in files]


def _folder_target(root: Path, where: str) -> tuple[Path, bool]:
    """The folder to write into (a symbolic link followed) and whether it exists already."""
    node = _stat(root, where)
    if node is not None and not stat.S_ISDIR(node.st_mode):
        raise WriteError("exists and is not a folder", location=where)
    if node is None and _lstat(root, where) is not None:  # a new folder there would replace the link
        raise WriteError("is a symbolic link to nothing; not replaced", location=where)
    if node is not None and root.is_symlink():
        root = Path(os.path.realpath(root))  # temporary folder on the same file system as the files
    parent = root.parent if str(root.parent) else Path(".")
    if not parent.is_dir():
        raise WriteError(f"folder {parent} does not exist", location=where)
    return root, node is not None


def _fill(tmp: Path, files: Mapping[str, Callable[[BinaryIO], None]]) -> None:
    for name, produce in files.items():
        out = tmp / name
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as stream:
            produce(cast(BinaryIO, stream))
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(out, 0o666 & ~_umask())


def _check_names(files: Mapping[str, object], where: str) -> None:
    seen: dict[str, str] = {}
    folders: set[str] = set()
    for name in files:
        parts = name.split("/")
        if not all(parts) or any(p in (".", "..") for p in parts):
            raise WriteError(f"file name {printable(name)!r} would leave the folder", location=where)
        key = name.casefold()
        if key in seen:
            raise WriteError(f"files {printable(seen[key])!r} and {printable(name)!r} collide", location=where)
        seen[key] = name
        folders.update("/".join(parts[:i]).casefold() for i in range(1, len(parts)))
    clash = sorted(set(seen) & folders)
    if clash:
        raise WriteError(f"{printable(seen[clash[0]])!r} is both a file and a folder", location=where)


def _check_member(path: Path, name: str, where: str) -> None:
    node = _lstat(path, where)
    if node is None:
        return
    if not stat.S_ISREG(node.st_mode):
        raise WriteError(f"{printable(name)} exists and is not a regular file; not replaced", location=where)
    _plan_for(path, node, f"{where}/{printable(name)}")
